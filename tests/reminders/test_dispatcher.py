"""The dispatcher against a real SMTP server (aiosmtpd on loopback), with time from a ManualClock."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from breachops.clock import ManualClock, SystemClock
from breachops.flows.scheduler import JOB_TABLE, SAFETY_JOB, WAKE_JOB, ReminderService
from breachops.notifications import DeliveryError, MemoryChannel, dispatcher
from breachops.notifications.channels.outbox import OutboxChannel
from breachops.notifications.channels.sendgrid import SendGridChannel
from breachops.notifications.channels.smtp import SmtpChannel
from breachops.notifications.models import OutgoingMessage
from breachops.notifications.outbox import ALERT_KIND, PARKED, dispatch, queue_due_reminders
from breachops.notifications.senders import SenderPool
from breachops.store import Repository
from breachops.store.audit import verify
from breachops.store.models import SYSTEM_STREAM, AuditEvent, Message

from .conftest import START, Smtp, open_example


def smtp_channel(smtp: Smtp, clock: ManualClock) -> SmtpChannel:
    return SmtpChannel(smtp.host, smtp.port, tls="none", timeout=5, clock=clock)


def reminder_keys(keys: Any) -> list[str]:
    """Keys of reminders and escalations (leaving out incident_opened, step_assigned, digests)."""
    return [k for k in keys if "|step:" in k or "|obligation:" in k]


def rows(app: Any) -> list[Message]:
    with app.transaction() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


@pytest.mark.parametrize("senders", [1, 4])
def test_reminders_fall_due_as_time_passes_and_each_is_delivered_exactly_once(app, clock, smtp, senders):
    incident = open_example(app)
    service = ReminderService(app, smtp_channel(smtp, clock), senders=senders)
    service.tick()  # at opening: the -4h reminder of preserve-evidence (due at +4h)
    first = reminder_keys(smtp.recorder.keys())
    assert set(first) == {
        f"{incident}|step:preserve-evidence|reminder|-4h|disclosing.security",
        f"{incident}|step:preserve-evidence|reminder|-4h|receiving.security",
    }
    [mail] = [
        m for m in smtp.recorder.to("lars.hoffmann@nordlicht.example") if m["X-Breachops-Kind"] == "reminder"
    ]
    assert "Europe/Berlin" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert not service.next_wake() or service.next_wake() == START + timedelta(hours=1)

    for hours in (1, 2.67, 3, 4, 6):
        clock.set(START + timedelta(hours=hours))
        service.tick()
        service.tick()  # a second tick at the same instant sends nothing new
    counts = smtp.recorder.keys()
    assert counts and max(counts.values()) == 1
    sent = [r for r in rows(app) if r.status == "sent"]
    assert sorted(counts) == sorted(r.idempotency_key for r in sent)
    assert f"{incident}|step:freeze-access|overdue|+4h#1|receiving.incident_lead" in counts
    escalation = smtp.recorder.to("rafael.costa@horizonte.example")
    assert any(str(m["Subject"]).startswith(f"OVERDUE {incident}: Freeze") for m in escalation)
    pool = service.senders
    assert (pool is None) == (senders == 1)
    service.stop()
    assert pool is None or pool.threads == 0  # its threads ended, closing their connections


def test_sender_threads_share_a_batch_and_keep_their_connections_from_one_batch_to_the_next(app, clock, smtp):
    def queue(first: int) -> None:
        with app.transaction() as session:
            for n in range(first, first + 24):
                Repository(session).queue_message(
                    idempotency_key=f"batch|{n:02d}", kind="test", template="test",
                    recipients=[f"person{n}@example.org"], subject=f"Message {n}", body_text=f"Body {n}", at=START,
                )  # fmt: skip

    pool, channel = SenderPool(4), smtp_channel(smtp, clock)
    try:
        queue(0)
        first = dispatch(app, channel, senders=pool, limit=24)
        peers_first = set(smtp.recorder.peers)
        queue(24)
        second = dispatch(app, channel, senders=pool, limit=24)
    finally:
        pool.close()
    assert len(first.sent) == len(second.sent) == 24 and first.claimed == second.claimed == 24
    counts = smtp.recorder.keys()
    assert sorted(counts) == [f"batch|{n:02d}" for n in range(48)] and set(counts.values()) == {1}
    assert 2 <= len(peers_first) <= 4  # several connections at once, never more than the pool's threads
    assert set(smtp.recorder.peers) == peers_first  # the second batch went over the same connections
    with app.transaction() as session:
        stored = list(session.scalars(select(Message)))
        assert all(m.status == "sent" and m.provider_message_id for m in stored)
        sent_events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "message.sent")).all()
        assert len(sent_events) == 48
        assert verify(session, SYSTEM_STREAM).ok


def test_a_met_step_cancels_its_reminders_and_a_moved_due_time_moves_them(app, clock, smtp):
    incident = open_example(app)
    service = ReminderService(app, smtp_channel(smtp, clock))
    with app.transaction() as session:
        repo = Repository(session)
        inc = repo.get_incident(incident)
        repo.set_step_status(inc, "freeze-access", "done", "tiago.rocha@horizonte.example", START)
        row = repo.get_step(inc, "preserve-evidence")
        row.due = START + timedelta(days=3)  # as a recomputation would
    clock.set(START + timedelta(hours=7))
    service.tick()
    keys = smtp.recorder.keys()
    assert not any("freeze-access" in k or "preserve-evidence" in k for k in keys)
    assert f"{incident}|step:alert-counterparty-lead|reminder|-1h|receiving.incident_lead" in keys


class Failing:
    """A channel that always answers like a throttling provider."""

    name = "flaky"

    def __init__(self) -> None:
        self.attempts = 0

    def send(self, message: OutgoingMessage) -> Any:
        self.attempts += 1
        raise DeliveryError("429 slow down", retryable=True, retry_after=120)


def test_retryable_failures_back_off_then_fall_back_and_alert_the_incident_lead(app, clock):
    incident = open_example(app)
    primary, fallback = Failing(), MemoryChannel(clock=clock)
    service = ReminderService(app, primary, fallback, max_attempts=3)
    service.tick()
    key = f"{incident}|step:preserve-evidence|reminder|-4h|receiving.security"
    [row] = [r for r in rows(app) if r.idempotency_key == key]
    assert row.status == "failed" and row.attempts == 1
    assert row.not_before is not None and row.not_before >= START + timedelta(seconds=120)  # Retry-After

    clock.advance(timedelta(seconds=60))
    tried = primary.attempts
    service.tick()
    assert primary.attempts == tried  # each message tried once; none due again yet
    for _ in range(2):
        clock.advance(timedelta(minutes=10))
        service.tick()
    [row] = [r for r in rows(app) if r.idempotency_key == key]
    assert row.status == "fallback" and row.attempts == 3 and row.channel == "memory"
    assert key in fallback.sent
    alerts = [r for r in rows(app) if r.kind == ALERT_KIND]
    assert {a.recipients[0] for a in alerts} == {
        "rafael.costa@horizonte.example",
        "jana.weber@nordlicht.example",
    }
    assert not any(a.idempotency_key.endswith("|alert|alert") for a in rows(app))  # no alert about an alert


def test_a_permanent_failure_is_parked_and_alerted_at_once(app, clock, smtp):
    incident = open_example(app)
    smtp.recorder.data_reply = "554 5.7.1 Rejected"
    ReminderService(app, smtp_channel(smtp, clock)).tick()
    failed = [r for r in rows(app) if r.kind == "reminder"]
    assert failed and all(r.status == "failed" and r.not_before == PARKED for r in failed)
    assert all("554" in (r.last_error or "") for r in failed)
    assert any(r.kind == ALERT_KIND and r.incident_id == incident for r in rows(app))


def test_outbox_files_written_before_a_crash_are_recorded_on_recovery_not_written_twice(
    app, clock, monkeypatch
):
    open_example(app)
    queue_due_reminders(app, clock.now())
    channel = OutboxChannel(app.workspace, clock=clock)

    def killed(*args: Any) -> None:
        raise SystemExit("killed before the batch's sent marks were committed")

    monkeypatch.setattr(dispatcher, "_mark_sent", killed)  # the outbox's deliveries are marked in batches
    with pytest.raises(SystemExit):
        dispatch(app, channel, clock.now())
    written = sorted(channel.folder.glob("*.eml"))
    assert written and {r.status for r in rows(app)} == {"sending"}
    monkeypatch.undo()

    clock.advance(timedelta(minutes=11))  # past the lease: the next dispatch takes the rows over
    report = dispatch(app, channel, clock.now())
    assert len(report.recovered) == len(written) == len(report.sent)
    assert sorted(channel.folder.glob("*.eml")) == written  # found, not written again
    assert {r.status for r in rows(app)} == {"sent"}
    assert {r.provider_message_id for r in rows(app)} == {f.name for f in written}
    with app.transaction() as session:
        assert all(verify(session, stream).ok for stream in {r.incident_id for r in rows(app)})


def test_after_downtime_missed_reminders_go_out_once_marked_late(app, clock, smtp):
    incident = open_example(app)
    service = ReminderService(app, smtp_channel(smtp, clock))
    service.tick()
    before = set(smtp.recorder.keys())
    clock.advance(timedelta(days=2))
    service.tick()
    service.tick()
    counts = smtp.recorder.keys()
    assert max(counts.values()) == 1
    late = [m for m in smtp.recorder.messages if str(m["Message-ID"]) and "[LATE]" in str(m["Subject"])]
    missed = set(reminder_keys(counts)) - before
    assert len(late) == len(missed) > 10
    body = late[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Sent late" in body and incident in str(late[0]["Subject"])


def test_a_drill_only_reaches_its_participants_with_drill_subjects(app, clock, smtp):
    open_example(app, drill=True)
    ReminderService(app, smtp_channel(smtp, clock)).tick()
    assert smtp.recorder.messages
    # (a long subject is folded right after "Subject:", so the parsed value starts with a space)
    assert all(str(m["Subject"]).strip().startswith("[DRILL]") for m in smtp.recorder.messages)
    assert all(m["X-Breachops-Drill"] == "yes" for m in smtp.recorder.messages)


def test_an_address_outside_the_agreement_is_never_emailed(app, clock, smtp):
    incident = open_example(app)
    with app.transaction() as session:
        Repository(session).queue_message(
            idempotency_key="draft-to-regulator", kind="regulator_notice_draft", template="regulator_notice_draft",
            recipients=["poststelle@bfdi.example"], subject="Notice", body_text="Draft", at=START,
            incident_id=incident,
        )  # fmt: skip
    report = dispatch(app, smtp_channel(smtp, clock))
    assert "draft-to-regulator" in report.failed
    assert not smtp.recorder.to("poststelle@bfdi.example")


def test_the_service_keeps_its_jobs_in_the_application_database(app, clock, smtp):
    clock.set(SystemClock().now() + timedelta(days=365))  # so the real-time wake-up lies ahead
    open_example(app)
    clock.advance(timedelta(minutes=1))
    service = ReminderService(app, smtp_channel(smtp, clock))
    service.start()
    try:
        from sqlalchemy import text

        with app.engine.connect() as connection:
            ids = {r[0] for r in connection.execute(text(f"SELECT id FROM {JOB_TABLE}"))}
        assert {SAFETY_JOB, WAKE_JOB} <= ids
        assert service.scheduler is not None
        wake = service.scheduler.get_job(WAKE_JOB)
        assert abs(wake.next_run_time - service.next_wake()) < timedelta(seconds=1)
    finally:
        service.stop()


SECRET = "SG.never-show-me.0123456789abcdefghijklmnopqrstuvwxyz"


def test_the_sendgrid_api_key_never_reaches_the_audit_log_or_the_outbox(app, clock):
    class Echo(BaseHTTPRequestHandler):
        """A provider that answers 401 and echoes the request's Authorization header back."""

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.dumps(
                {"errors": [{"message": f"bad key {self.headers.get('Authorization')}"}]}
            ).encode()
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        open_example(app)
        channel = SendGridChannel(
            SECRET, host=f"http://127.0.0.1:{httpd.server_address[1]}", timeout=5, clock=clock
        )
        report = ReminderService(app, channel).tick()
        assert report.failed
    finally:
        httpd.shutdown()
        httpd.server_close()
    with app.transaction() as session:
        payloads = [e.payload for e in session.scalars(select(AuditEvent))]
        messages = [
            json.dumps([m.subject, m.body_text, m.body_html, m.last_error, m.provider_message_id, m.channel])
            for m in session.scalars(select(Message))
        ]
    assert any("401" in p for p in payloads)
    for text_ in payloads + messages:
        assert SECRET not in text_ and "never-show-me" not in text_
    assert Counter(m.status for m in rows(app))["failed"] >= 2


def test_a_serve_that_starts_takes_back_only_what_it_held_never_another_serves_claims(
    app, clock, monkeypatch
):
    """Two `serve` on one database (scale-out): B starting must not take the message A is sending (it would
    go out twice); A restarted after a crash takes its own back at once, without waiting for the lease."""
    open_example(app)
    queue_due_reminders(app, clock.now())
    channel = OutboxChannel(app.workspace, clock=clock)

    def killed(*args: Any) -> None:
        raise SystemExit("serve A killed with its batch claimed")

    monkeypatch.setattr(dispatcher, "_mark_sent", killed)
    with pytest.raises(SystemExit):
        dispatch(app, channel, clock.now(), claimant="serve:a")
    monkeypatch.undo()
    held = [r.idempotency_key for r in rows(app) if r.status == "sending"]
    assert held and {r.claimed_by for r in rows(app) if r.status == "sending"} == {"serve:a"}

    # B starts as ReminderService.start() does, and ticks, while A's claims are live.
    assert not dispatcher.recover_stuck(app, clock.now(), claimant="serve:b").recovered
    dispatch(app, channel, clock.now(), claimant="serve:b")
    assert [r.idempotency_key for r in rows(app) if r.status == "sending"] == held
    # A serve's name is its machine and workspace: one live process each, under the serve lock.
    assert ReminderService(app, channel).claimant == f"serve:{socket.gethostname()}:{app.workspace}"

    report = dispatcher.recover_stuck(app, clock.now(), claimant="serve:a")  # A starts again
    assert sorted(report.recovered) == sorted(held)
    assert not [r for r in rows(app) if r.status == "sending"]

"""A scheduled drill from end to end on an injected clock: the schedule fires, the injects reach both
parties' participants at a real SMTP server in order and on time, simulated participants answer, the
report is written with its scores, and a message to someone outside the drill is refused and recorded."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.flows.triggers import parse_schedule, trigger_of
from breachops.notifications.channels.smtp import SmtpChannel
from breachops.notifications.outbox import dispatch
from breachops.playbooks.loader import load_scenario
from breachops.services.drill_schedules import create_schedule, fire_due
from breachops.services.drill_ticks import run_drill
from breachops.services.drills import finish_drill, start_drill
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "examples" / "agreement.yaml"
SCENARIO = "subcontractor-source-leak"
# A Monday morning in Berlin; the schedule says Tuesdays at 10:00 Berlin time.
START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_a_scheduled_drill_fires_runs_scores_and_keeps_its_mail_inside(tmp_path, smtp):
    clock = ManualClock(START)
    app = App(Settings(workspace=tmp_path / "ws"), clock=clock)
    schedule = create_schedule(
        app, SCENARIO, trigger=parse_schedule("0 10 * * 2", None, "Europe/Berlin"), speed=36, simulate=True,
        invite_ahead=timedelta(days=7), agreement_path=AGREEMENT, actor="jana.weber@nordlicht.example",
    )  # fmt: skip
    occurrence = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 CET
    assert schedule.next_run_at == occurrence

    started: list[str] = []
    assert fire_due(app, clock.now(), lambda _app, drill_id: started.append(drill_id), trigger_of) == []
    clock.set(occurrence + timedelta(seconds=5))
    fired = fire_due(app, clock.now(), lambda _app, drill_id: started.append(drill_id), trigger_of)
    assert fired == started and len(fired) == 1
    assert (
        fire_due(app, clock.now(), lambda _app, drill_id: started.append(drill_id), trigger_of) == []
    )  # once
    drill_id = fired[0]

    channel = SmtpChannel(smtp.host, smtp.port, tls="none", timeout=5, clock=clock)

    def send(keys: list[str]) -> Any:
        return dispatch(app, channel, keys=keys)

    run_drill(
        app, drill_id, sleep=lambda s: clock.advance(timedelta(seconds=s)), send=send, poll_seconds=3600
    )

    scenario = load_scenario(SCENARIO)
    with app.transaction() as session:
        drill = DrillRepository(session).get_drill(drill_id)
        injects = DrillRepository(session).injects(drill_id)
        participants = {p["email"].lower(): p["party"] for p in drill.participants}
        steps = Repository(session).steps(drill_id)
        incident = Repository(session).get_incident(drill_id)
        assert drill.schedule_id == schedule.id and drill.status == "completed"
        summary = dict(drill.score["summary"])
        report_html, report_md = Path(drill.report_html), Path(drill.report_md)

    # Injects: every one, in the scenario's order, each at its scenario time; the contingency inject
    # is skipped, since the simulated participants froze access before its time.
    assert [i.inject_id for i in injects] == [i.id for i in scenario.injects]
    delivered = [i.inject_id for i in injects if i.skipped is None]
    assert delivered == [i.id for i in scenario.injects if i.when is None]
    assert all(i.delivered_at == i.due_at for i in injects if i.skipped is None)
    received = [m for m in smtp.recorder.messages if str(m["X-Breachops-Kind"]) == "drill_inject"]
    sequence = [str(m["X-Breachops-Key"]).split(":inject:")[1].rsplit(":", 1)[0] for m in received]
    assert list(dict.fromkeys(sequence)) == delivered
    to = {email.utils.parseaddr(str(m["To"]))[1].lower() for m in received}
    assert to <= set(participants)
    assert {participants[a] for a in to} >= {"disclosing", "receiving"}
    assert all(str(m["Subject"]).startswith("[DRILL]") for m in smtp.recorder.messages)
    assert max(smtp.recorder.keys().values()) == 1

    # Simulated participants answered (skipping the market disclosure their `material: no` made
    # moot); the drill is scored and reported, and its record is closed.
    assert {s.step_id for s in steps if s.status != "done"} <= {"disclose-to-market"}
    assert incident.status == "closed"
    assert summary["obligations_met"] + summary["obligations_missed"] > 0
    assert summary["time_to_acknowledge_hours"] is not None
    assert report_html.is_file() and report_md.is_file()
    markdown = report_md.read_text(encoding="utf-8")
    assert drill_id in markdown and "Time to acknowledge" in markdown
    assert "<svg" in report_html.read_text(encoding="utf-8")

    # Outside the drill: refused at the channel and recorded in the drill's audit stream.
    agreement = load_agreement(AGREEMENT)
    outsider = next(
        c.email
        for p in agreement.parties.values()
        for c in p.contacts.values()
        if c.email.lower() not in participants
    )
    with app.transaction() as session:
        Repository(session).queue_message(
            idempotency_key=f"{drill_id}:outside", kind="drill_inject", template="drill_inject",
            recipients=[outsider], subject="[DRILL] one more thing", body_text="x", at=clock.now(),
            incident_id=drill_id,
        )  # fmt: skip
    assert f"{drill_id}:outside" in dispatch(app, channel).failed
    assert not smtp.recorder.to(outsider)
    with app.transaction() as session:
        refused = session.query(AuditEvent).filter_by(incident_id=drill_id, kind="message.failed").all()
    assert any("not a participant of the drill" in e.payload for e in refused)


def test_the_next_drill_picks_up_the_open_improvement_plan(tmp_path):
    clock = ManualClock(START)
    app = App(Settings(workspace=tmp_path / "ws"), clock=clock)
    scenario = load_scenario(SCENARIO)
    agreement = load_agreement(AGREEMENT)
    plans = []
    for _ in range(2):
        drill_id = start_drill(
            app,
            scenario,
            agreement,
            speed=36,
            mode="compressed",
            simulate=False,
            actor="jana.weber@nordlicht.example",
        )
        clock.advance(timedelta(hours=3))  # T+108h: nobody answered anything
        finish_drill(app, drill_id)
        with app.transaction() as session:
            plans.append(list(DrillRepository(session).get_drill(drill_id).improvement_plan or []))
        clock.advance(timedelta(days=1))
    first, second = plans
    assert first and all(not a["carried_over"] for a in first)
    carried = [a for a in second if a["carried_over"]]
    assert {a["subject"] for a in carried} == {a["subject"] for a in first if a["status"] == "open"}

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from breachops.errors import InputError
from breachops.store.audit import verify
from breachops.store.incidents import UnknownIncident
from breachops.store.messages import MessageDraft
from breachops.store.models import SYSTEM_STREAM, AuditEvent
from breachops.store.repository import Repository
from breachops.store.steps import StepPlan

from .helpers import T0, obligation, open_incident


def _kinds(session, stream: str) -> list[str]:
    from sqlalchemy import select

    return list(
        session.scalars(
            select(AuditEvent.kind).where(AuditEvent.incident_id == stream).order_by(AuditEvent.seq)
        )
    )


def test_unknown_incident_names_the_id_and_what_to_do(factory):
    with factory() as session, pytest.raises(UnknownIncident) as caught:
        Repository(session).get_incident("INC-2026-0099")
    assert isinstance(caught.value, InputError)
    assert str(caught.value) == "unknown incident INC-2026-0099. See `breachops incident list`."


def test_opening_records_facts_as_events_and_audits_it(factory):
    with factory.begin() as session:
        incident = open_incident(Repository(session))
    with factory() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident.id)
        assert incident.facts == {
            "aware_at": "2026-03-27T09:00:00Z",
            "jurisdictions": [{"code": "DE", "affected": 10}],
        }
        assert {e.source for e in repo.fact_events(incident.id)} == {"open"}
        assert repo.replay_facts(incident.id) == incident.facts
        assert _kinds(session, incident.id) == ["incident.opened", "fact.changed"]
        assert incident.agreement["parties"]["receiving"] == "Beta Ltd"


def test_fact_changes_return_what_changed_and_replay_gives_current_facts(factory, clock):
    with factory.begin() as session:
        incident_id = open_incident(Repository(session)).id
    with factory.begin() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        clock.advance(timedelta(hours=5))
        changed = repo.record_fact_changes(
            incident,
            {"assessed_at": clock.now(), "aware_at": T0, "risk": "high"},
            "gate:assess",
            "bob",
            clock.now(),
        )
        assert set(changed) == {"assessed_at", "risk"}  # aware_at did not change
        assert changed["risk"].old is None and changed["risk"].new == "high"
        again = repo.record_fact_changes(incident, {"risk": "high"}, "cli", "bob", clock.now())
        assert again == {}
        repo.record_fact_changes(incident, {"risk": None}, "cli", "carol", clock.now())
    with factory() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        assert "risk" not in incident.facts
        assert incident.facts["assessed_at"] == "2026-03-27T14:00:00Z"
        assert repo.replay_facts(incident_id) == incident.facts
        events = repo.fact_events(incident_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        as_of_gate = repo.replay_facts(incident_id, until_seq=events[-2].seq)
        assert as_of_gate["risk"] == "high"
        assert verify(session, incident_id).ok


def test_unknown_fact_source_is_refused(factory):
    with factory() as session:
        repo = Repository(session)
        incident = open_incident(repo)
        with pytest.raises(InputError, match="source"):
            repo.record_fact_changes(incident, {"risk": "low"}, "email", "bob", T0)


def test_replacing_obligations_reports_added_removed_and_moved_due_times(factory):
    with factory.begin() as session:
        repo = Repository(session)
        incident = open_incident(repo)
        first = repo.replace_obligations(incident, [obligation("gdpr-33"), obligation("nis2", "early")], T0)
        assert set(first.added) == {"gdpr-33/initial", "nis2/early"} and not first.removed

        unchanged = repo.replace_obligations(
            incident, [obligation("gdpr-33"), obligation("nis2", "early")], T0
        )
        assert not unchanged

        later = T0 + timedelta(hours=96)
        diff = repo.replace_obligations(incident, [obligation("gdpr-33", due=later), obligation("bdsg")], T0)
        assert diff.added == ("bdsg/initial",)
        assert diff.removed == ("nis2/early",)
        assert [(c.key, c.old, c.new) for c in diff.due_changed] == [
            ("gdpr-33/initial", T0 + timedelta(hours=72), later)
        ]
        rows = {row.key: row for row in repo.obligations(incident.id, include_withdrawn=True)}
        assert rows["nis2/early"].status == "withdrawn"
        assert rows["nis2/early"].due == T0 + timedelta(hours=72)  # the last due time stays on record
        assert "nis2/early" not in {row.key for row in repo.obligations(incident.id)}

        back = repo.replace_obligations(
            incident, [obligation("gdpr-33", due=later), obligation("bdsg"), obligation("nis2", "early")], T0
        )
        assert back.added == ("nis2/early",)
        assert _kinds(session, incident.id).count("obligation.recomputed") == 3
        assert verify(session, incident.id).ok


def test_recomputation_never_overwrites_met_or_waived(factory):
    with factory.begin() as session:
        repo = Repository(session)
        incident = open_incident(repo)
        repo.replace_obligations(incident, [obligation("a"), obligation("b"), obligation("c")], T0)
        repo.mark_obligation_met(incident, "a/initial", "dpo", T0 + timedelta(hours=1))
        repo.waive_obligation(
            incident, "b/initial", "not notifiable: encrypted", "legal", T0 + timedelta(hours=1)
        )
        diff = repo.replace_obligations(
            incident,
            [obligation("a", status="overdue"), obligation("c", status="overdue")],
            T0 + timedelta(days=4),
        )
        assert [(c.key, c.old, c.new) for c in diff.status_changed] == [("c/initial", "pending", "overdue")]
        assert diff.removed == ()  # b was waived by a person; it stays waived
        statuses = {row.key: row.status for row in repo.obligations(incident.id, include_withdrawn=True)}
        assert statuses == {"a/initial": "met", "b/initial": "waived", "c/initial": "overdue"}
        with pytest.raises(InputError, match="no obligation"):
            repo.mark_obligation_met(incident, "zz/initial", "dpo", T0)


def test_steps_are_planned_once_and_move_through_their_statuses(factory, clock):
    plans = [
        StepPlan(
            "contain", "containment", "Revoke the share", "security", "receiving", T0 + timedelta(hours=2)
        ),
        StepPlan("assess", "investigation", "Assess risk", "dpo", "disclosing"),
    ]
    with factory.begin() as session:
        repo = Repository(session)
        incident = open_incident(repo)
        assert repo.upsert_steps(incident, plans, "flow", T0).added == ("contain", "assess")
        assert not repo.upsert_steps(incident, plans, "flow", T0)
        repo.set_step_status(incident, "contain", "running", "flow", T0)
        repo.set_step_status(incident, "contain", "running", "flow", T0)  # a retried task: nothing new
        repo.set_step_status(incident, "contain", "waiting", "flow", T0)
        step = repo.set_step_status(
            incident, "contain", "done", "bob", T0 + timedelta(hours=1), answer={"evidence": "ticket 42"}
        )
        assert (step.attempts, step.completed_by, step.answer) == (1, "bob", {"evidence": "ticket 42"})
        assert step.started_at == T0 and step.completed_at == T0 + timedelta(hours=1)
        with pytest.raises(InputError, match="already done"):
            repo.set_step_status(incident, "contain", "running", "flow", T0)
        with pytest.raises(InputError, match="looks like a secret"):
            repo.set_step_status(incident, "assess", "done", "bob", T0, answer={"api_key": "x"})
        assert repo.get_step(incident, "assess").status == "pending"
        kinds = _kinds(session, incident.id)
        assert kinds[-4:] == ["steps.planned", "step.started", "step.waiting", "step.completed"]


def test_queueing_a_message_twice_with_one_key_stores_it_once(factory):
    with factory.begin() as session:
        repo = Repository(session)
        incident = open_incident(repo, drill=True, drill_id="q1")
        first = repo.queue_message(
            idempotency_key=f"{incident.id}/reminder/contain/1",
            kind="reminder",
            template="reminder.j2",
            recipients=["bob@beta.example"],
            subject="[DRILL] Revoke the share",
            body_text="Due soon",
            at=T0,
            incident_id=incident.id,
        )
        second = repo.queue_message(
            idempotency_key=f"{incident.id}/reminder/contain/1",
            kind="reminder",
            template="reminder.j2",
            recipients=["bob@beta.example"],
            subject="[DRILL] Revoke the share",
            body_text="Due soon",
            at=T0,
            incident_id=incident.id,
        )
        assert first.created and not second.created
        assert second.message.id == first.message.id
        assert first.message.drill  # a drill incident's message is a drill message
        assert _kinds(session, incident.id).count("message.queued") == 1


def test_outbox_claims_once_and_records_delivery(factory):
    with factory.begin() as session:
        repo = Repository(session)
        message = repo.queue_message(
            idempotency_key="system/test/1",
            kind="test",
            template="test.j2",
            recipients=["ops@acme.example"],
            subject="Test",
            body_text="Hello",
            at=T0,
            not_before=T0 + timedelta(minutes=5),
        ).message
        assert repo.due_messages(T0) == []
        assert repo.claim_message(message.id, T0) is None  # not due yet
        now = T0 + timedelta(minutes=5)
        assert [m.id for m in repo.due_messages(now)] == [message.id]
        claimed = repo.claim_message(message.id, now)
        assert claimed is not None and (claimed.status, claimed.attempts) == ("sending", 1)
        assert repo.claim_message(message.id, now) is None  # someone has it
        repo.mark_failed(claimed, "SMTP 451", now, retry_at=now + timedelta(minutes=1), channel="smtp")
        assert repo.due_messages(now) == []
        again = repo.claim_message(message.id, now + timedelta(minutes=1))
        repo.mark_sent(again, now + timedelta(minutes=1), "smtp", "<abc@acme.example>")
        assert (again.status, again.attempts, again.sent_at) == ("sent", 2, now + timedelta(minutes=1))
        assert _kinds(session, SYSTEM_STREAM) == ["message.queued", "message.failed", "message.sent"]
        assert verify(session, SYSTEM_STREAM).ok


def test_queueing_many_messages_at_once_stores_each_key_once_and_audits_each(factory):
    with factory.begin() as session:
        repo = Repository(session)
        incident = open_incident(repo, drill=True)
        repo.queue_message(
            idempotency_key="key/0", kind="test", template="test.j2", recipients=["ops@acme.example"],
            subject="Test", body_text="Hello", at=T0,
        )  # fmt: skip

        def draft(n: int, incident_id: str | None = None) -> MessageDraft:
            return MessageDraft(
                idempotency_key=f"key/{n}", kind="test", template="test.j2", recipients=["ops@acme.example"],
                subject=f"Test {n}", body_text="Hello", incident_id=incident_id,
            )  # fmt: skip

        made = repo.queue_messages([draft(0), draft(1, incident.id), draft(2), draft(1, incident.id)], T0)
        assert [(q.message.idempotency_key, q.created) for q in made] == [
            ("key/0", False), ("key/1", True), ("key/2", True), ("key/1", False),
        ]  # fmt: skip
        assert made[1].message is made[3].message and made[1].message.drill  # the incident is a drill
        assert _kinds(session, SYSTEM_STREAM) == ["message.queued", "message.queued"]
        assert _kinds(session, incident.id).count("message.queued") == 1
        assert repo.queue_messages([], T0) == []
        assert verify(session, SYSTEM_STREAM).ok and verify(session, incident.id).ok


def test_claiming_many_messages_at_once_skips_those_someone_else_holds(factory):
    with factory.begin() as session:
        repo = Repository(session)
        ids = [
            repo.queue_message(
                idempotency_key=f"key/{n}", kind="test", template="test.j2", recipients=["ops@acme.example"],
                subject="Test", body_text="Hello", at=T0, not_before=T0 + timedelta(hours=n == 3),
            ).message.id
            for n in range(4)
        ]  # fmt: skip
        assert repo.claim_message(ids[1], T0) is not None  # another dispatcher has it
        claimed = repo.claim_messages([ids[2], ids[1], ids[0], ids[3]], T0)  # key/3 is not due yet
        assert [(m.id, m.status, m.attempts) for m in claimed] == [
            (ids[2], "sending", 1),
            (ids[0], "sending", 1),
        ]
        assert repo.claim_messages(ids, T0) == [] and repo.claim_messages([], T0) == []


def test_marking_many_messages_sent_at_once_audits_each_in_order(factory):
    with factory.begin() as session:
        repo = Repository(session)
        incident = open_incident(repo)
        queued = [
            repo.queue_message(
                idempotency_key=f"key/{n}", kind="test", template="test.j2", recipients=["ops@acme.example"],
                subject="Test", body_text="Hello", at=T0, incident_id=incident.id if n % 2 else None,
            ).message
            for n in range(4)
        ]  # fmt: skip
        claimed = [repo.claim_message(m.id, T0) for m in queued]
        assert all(c is not None for c in claimed)
        repo.mark_sent(queued[3], T0, "smtp", "<3@acme.example>")  # sent already: left as it is
        marked = repo.mark_sent_many(
            [(m.id, "smtp", f"<{n}@acme.example>") for n, m in enumerate(queued)], T0
        )
        assert marked == [m.id for m in queued[:3]]
        assert [(m.status, m.provider_message_id) for m in queued] == [
            ("sent", f"<{n}@acme.example>") for n in range(4)
        ]
        sent = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "message.sent").order_by(AuditEvent.id)
        ).all()
        assert [(e.incident_id, json.loads(e.payload)["idempotency_key"]) for e in sent] == [
            (incident.id, "key/3"), (SYSTEM_STREAM, "key/0"), (SYSTEM_STREAM, "key/2"), (incident.id, "key/1"),
        ]  # fmt: skip
        assert verify(session, SYSTEM_STREAM).ok and verify(session, incident.id).ok


def test_closing_an_incident_is_audited_and_happens_once(factory):
    with factory.begin() as session:
        repo = Repository(session)
        incident = open_incident(repo)
        repo.close_incident(incident, "contained, no notifiable breach", "alice", T0 + timedelta(days=3))
        assert repo.list_incidents(status="open") == []
        with pytest.raises(InputError, match="already closed"):
            repo.close_incident(incident, "again", "alice", T0)
        assert _kinds(session, incident.id)[-1] == "incident.closed"

"""The corrective actions register: raised by a drill's gaps, updated and evidenced by people, verified
by a later drill that shows the gap gone, reminded through the outbox, exported as HSEEP's plan."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.errors import InputError
from breachops.notifications.action_reminders import queue_action_reminders
from breachops.services.corrective_actions import (
    IMPROVEMENT_PLAN_COLUMNS,
    ActionChange,
    change_action,
    improvement_plan_rows,
    list_actions,
)
from breachops.services.drill_reports import build_report
from breachops.services.drills import close_drill
from breachops.services.steps import complete_step, mark_waiting
from breachops.store.models import SYSTEM_STREAM, AuditEvent, Message
from tests.drills.running import FACILITATOR, start

LEAD_BR = "rafael.costa@horizonte.example"


def run_drill(app: App, clock: ManualClock, *, answer_at: timedelta | None = None) -> str:
    """A drill of three hours; ``answer_at``: the licensee's security confirms freeze-access then."""
    drill_id = start(app)
    if answer_at is not None:
        mark_waiting(app, drill_id, ["freeze-access"])
        clock.advance(answer_at)
        complete_step(app, drill_id, "freeze-access", {"confirmed": True}, by="tiago.rocha@horizonte.example")
    clock.advance(timedelta(hours=3))
    close_drill(app, drill_id, build_report(app, drill_id))
    return drill_id


def action_on(app: App, subject: str) -> dict:
    return next(a for a in list_actions(app) if a["subject"] == subject)


def system_events(app: App, prefix: str) -> list[tuple[str, dict]]:
    with app.transaction() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.incident_id == SYSTEM_STREAM))
        return [(e.kind, json.loads(e.payload)) for e in rows if e.kind.startswith(prefix)]


def test_an_action_raised_by_a_drill_is_updated_closed_with_evidence_and_verified_by_the_next(app, clock):
    first = run_drill(app, clock)  # nobody answers: a slow first answer, among other gaps
    ack = action_on(app, "acknowledgement")
    assert ack["status"] == "open" and ack["raised_in"] == first and ack["finding"].startswith("slow_ack")

    change_action(app, ack["id"], ActionChange(status="in_progress", owner_email=LEAD_BR), by=FACILITATOR)
    with pytest.raises(InputError, match="only with evidence"):
        change_action(app, ack["id"], ActionChange(status="done"), by=LEAD_BR)
    assert action_on(app, "acknowledgement")["status"] == "in_progress"  # the refusal stored nothing
    done = change_action(
        app, ack["id"], ActionChange(status="done", evidence="https://wiki.example/on-call-rota"), by=LEAD_BR
    )
    assert done["status"] == "done" and done["owner"]["email"] == LEAD_BR
    assert done["evidence"][0]["evidence"] == "https://wiki.example/on-call-rota"

    second = run_drill(app, clock, answer_at=timedelta(minutes=10))  # answered within the hour now
    verified = action_on(app, "acknowledgement")
    assert verified["status"] == "verified" and verified["verified_in"] == second
    kinds = [kind for kind, payload in system_events(app, "action.") if payload["action"] == ack["id"]]
    assert kinds == ["action.raised", "action.updated", "action.updated", "action.verified"]


def test_accepting_a_risk_needs_a_reason_and_ends_the_carrying_over(app, clock):
    first = run_drill(app, clock)
    skipped = next(a for a in list_actions(app) if a["finding"].startswith("skipped_step"))
    with pytest.raises(InputError, match="needs a reason"):
        change_action(app, skipped["id"], ActionChange(status="risk_accepted"), by=FACILITATOR)
    change_action(
        app, skipped["id"], ActionChange(status="risk_accepted", note="the board accepted it on 1 Dec"),
        by=FACILITATOR,
    )  # fmt: skip
    with pytest.raises(InputError, match="risk_accepted already"):
        change_action(app, skipped["id"], ActionChange(status="done", evidence="x"), by=FACILITATOR)
    second = run_drill(app, clock)  # the same step is skipped again: a new finding, not the old one
    again = [a for a in list_actions(app) if a["subject"] == skipped["subject"]]
    assert [(a["raised_in"], a["status"]) for a in again] == [(first, "risk_accepted"), (second, "open")]


def test_unknown_actions_statuses_and_addresses_are_refused(app, clock):
    run_drill(app, clock)
    with pytest.raises(InputError, match="no corrective action"):
        change_action(app, 999, ActionChange(status="in_progress"), by=FACILITATOR)
    some = list_actions(app)[0]
    with pytest.raises(InputError, match="is not a status"):
        change_action(app, some["id"], ActionChange(status="finished"), by=FACILITATOR)
    with pytest.raises(InputError):
        change_action(app, some["id"], ActionChange(owner_email="not an address"), by=FACILITATOR)
    with pytest.raises(InputError, match="UTC offset"):
        change_action(app, some["id"], ActionChange(due=datetime(2027, 1, 31, 17, 0)), by=FACILITATOR)
    assert list_actions(app)[0] == some


def test_reminders_go_before_the_due_date_and_once_overdue_to_the_owner_each_once(app, clock):
    run_drill(app, clock)
    ack = action_on(app, "acknowledgement")
    due = datetime.fromisoformat(ack["due"])
    assert queue_action_reminders(app, due - timedelta(days=8)) == []
    week = queue_action_reminders(app, due - timedelta(days=6))
    # No owner named yet: both incident leads (the gap is both parties').
    assert sorted(k.rsplit("|", 1)[1] for k in week if k.startswith(f"action:{ack['id']}|")) == [
        "jana.weber@nordlicht.example", "rafael.costa@horizonte.example",
    ]  # fmt: skip
    assert queue_action_reminders(app, due - timedelta(days=5)) == []  # each stage once
    change_action(app, ack["id"], ActionChange(owner_email=LEAD_BR), by=FACILITATOR)
    late = [
        k
        for k in queue_action_reminders(app, due + timedelta(hours=1))
        if k.startswith(f"action:{ack['id']}|")
    ]
    assert late == [f"action:{ack['id']}|overdue|{LEAD_BR}"]
    with app.transaction() as session:
        mail = session.scalars(select(Message).where(Message.idempotency_key == late[0])).one()
        assert mail.subject.startswith(f"Corrective action {ack['id']} overdue")
        assert f"breachops actions close {ack['id']}" in mail.body_text


def test_the_register_exports_as_the_hseep_improvement_plan(app, clock):
    run_drill(app, clock)
    rows = improvement_plan_rows(list_actions(app))
    assert rows and list(rows[0]) == list(IMPROVEMENT_PLAN_COLUMNS)
    ack = next(r for r in rows if r["Capability"] == "acknowledgement")
    assert ack["Capability Element"] == "Organization" and ack["Status"] == "open"
    assert ack["Start Date"] == "2026-11-24" and ack["Completion Date"] == ""
    buffer = io.StringIO()
    csv.DictWriter(buffer, IMPROVEMENT_PLAN_COLUMNS).writerows(rows)
    assert len(list(csv.reader(io.StringIO(buffer.getvalue())))) == len(rows)

"""Incident messages besides reminders: opened, step assigned, drafts, digest; and what stops reminders."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from breachops.bootstrap import App
from breachops.config.agreements import parse_agreement
from breachops.config.settings import Settings, load_settings
from breachops.deadlines.reminders import ReminderPolicy
from breachops.errors import InputError
from breachops.flows.scheduler import ReminderService
from breachops.notifications import MemoryChannel
from breachops.notifications.notices import DIGEST_HOUR
from breachops.notifications.planner import ReminderPlanner
from breachops.reports.incident import incident_to_dict
from breachops.services.incidents import agreement_of
from breachops.services.steps import complete_step, mark_waiting
from breachops.store import Repository, prove_witness
from breachops.store.models import Message

from .conftest import ROOT, START, open_example


def messages(app: App, kind: str | None = None) -> list[Message]:
    with app.transaction() as session:
        query = select(Message).order_by(Message.id)
        if kind is not None:
            query = query.where(Message.kind == kind)
        return list(session.scalars(query))


def internal_addresses() -> set[str]:
    data = yaml.safe_load((ROOT / "examples" / "agreement.yaml").read_text())
    return {c["email"] for p in data["parties"].values() for c in p["contacts"].values()}


def test_opening_tells_both_parties_incident_teams_once(app):
    incident = open_example(app)
    opened = messages(app, "incident_opened")
    to = {m.recipients[0] for m in opened}
    assert "jana.weber@nordlicht.example" in to and "rafael.costa@horizonte.example" in to
    assert len(to) == len(opened) == 12  # six roles at each of the two parties
    assert not any("ganga.example" in a for a in to)  # the subcontractor is not one of the two parties
    assert all(m.subject.startswith(f"{incident} opened:") for m in opened)
    from breachops.notifications.notices import Notices, notify

    assert notify(app, incident, Notices.incident_opened) == []  # a replay queues nothing


def test_a_waiting_step_is_assigned_to_its_owners_and_a_drill_says_so(app):
    incident = open_example(app, drill=True)
    mark_waiting(app, incident, ["preserve-evidence"])
    mark_waiting(app, incident, ["preserve-evidence"])  # a replayed flow
    assigned = messages(app, "step_assigned")
    assert sorted(m.recipients[0] for m in assigned) == [
        "lars.hoffmann@nordlicht.example",
        "tiago.rocha@horizonte.example",
    ]
    assert all(m.subject.startswith("[DRILL]") and m.drill for m in assigned)
    assert "legal hold" in assigned[0].body_text


def _walk_to_notification(app: App, incident: str) -> None:
    with app.transaction() as session:
        repo = Repository(session)
        inc = repo.get_incident(incident)
        for step in ("freeze-access", "preserve-evidence", "alert-counterparty-lead", "scope-disclosure",
                     "assess-notifiability"):  # fmt: skip
            repo.set_step_status(inc, step, "done", "rafael.costa@horizonte.example", START)


def test_notice_drafts_go_to_the_partys_own_people_never_to_the_audience(app):
    incident = open_example(app)
    _walk_to_notification(app, incident)
    mark_waiting(app, incident, ["notify-counterparty", "notify-regulators", "notify-individuals"])
    drafts = [m for m in messages(app) if m.kind.endswith("_notice_draft")]
    kinds = {m.kind for m in drafts}
    assert kinds == {"counterparty_notice_draft", "regulator_notice_draft", "individuals_notice_draft"}
    assert {r for m in drafts for r in m.recipients} <= internal_addresses()
    counterparty = {m.recipients[0] for m in drafts if m.kind == "counterparty_notice_draft"}
    # contract-receiving-to-disclosing is owed by the receiving party; the flow-down by the subcontractor
    assert {"rafael.costa@horizonte.example", "marina.alves@horizonte.example"} <= counterparty
    gdpr = [m for m in drafts if "eu-gdpr-art33" in m.idempotency_key]
    assert gdpr and all(m.recipients[0].split("@")[0] in ("dpo", "felix.braun", "encarregado", "marina.alves")
                        for m in gdpr)  # fmt: skip
    body = gdpr[0].body_text
    assert "7,240" in body  # Art. 33(3)(a): approximate number of people (5400 + 1200 + 640)
    assert "[[FILL IN" in body  # what is not known yet is marked for the person who approves it
    before = len(messages(app))
    mark_waiting(app, incident, ["notify-regulators"])
    assert len(messages(app)) == before


def test_completing_a_step_tied_to_an_obligation_meets_it_and_stops_its_reminders(app, clock):
    incident = open_example(app)
    planner = ReminderPlanner(app)
    counterparty = {r.target for rs in planner.reminders().values() for r in rs if "contract-" in r.target}
    assert "obligation:contract-receiving-to-disclosing/notification" in counterparty
    with app.transaction() as session:
        repo = Repository(session)
        inc = repo.get_incident(incident)
        for step in ("freeze-access", "preserve-evidence"):
            repo.set_step_status(inc, step, "done", "tiago.rocha@horizonte.example", START)
    complete_step(app, incident, "alert-counterparty-lead", {}, by="rafael.costa@horizonte.example")
    with app.transaction() as session:
        status = {o.key: o.status for o in Repository(session).obligations(incident)}
    assert status["contract-receiving-to-disclosing/notification"] == "met"
    assert status["contract-subcontractor-flow-down/notification"] != "met"  # owed by another party
    assert status["eu-gdpr-art33-authority/notification"] == "pending"
    left = {r.target for rs in planner.reminders().values() for r in rs}
    assert "obligation:contract-receiving-to-disclosing/notification" not in left
    assert "obligation:contract-subcontractor-flow-down/notification" in left


def test_a_daily_digest_per_open_incident_once_a_day(app, clock):
    incident = open_example(app)
    reminders = ReminderService(app, MemoryChannel(clock=clock))
    reminders.tick()
    assert messages(app, "digest") == []  # opened at 20:00 UTC: the first digest is tomorrow morning
    assert reminders.next_wake() is not None
    morning = (START + timedelta(days=1)).replace(hour=DIGEST_HOUR, minute=0)
    clock.set(morning)
    reminders.tick()
    clock.advance(timedelta(hours=2))
    reminders.tick()
    digests = messages(app, "digest")
    assert sorted(m.recipients[0] for m in digests) == [
        "jana.weber@nordlicht.example",
        "rafael.costa@horizonte.example",
    ]
    assert all(m.subject.startswith(f"{incident} daily digest") for m in digests)


def test_every_message_and_each_digest_line_carry_a_head_of_the_record_that_proves_as_a_witness(app, clock):
    incident = open_example(app)
    channel = MemoryChannel(clock=clock)
    reminders = ReminderService(app, channel)
    clock.set((START + timedelta(days=1)).replace(hour=DIGEST_HOUR, minute=0))
    reminders.tick()
    reminders.tick()
    sent = [m for m in channel.sent.values() if m.incident_id == incident]
    assert sent and all(m.audit_head for m in sent)
    [digest, *_] = [m for m in sent if m.kind == "digest"]
    line = next(x for x in digest.text.splitlines() if x.startswith("Audit head: "))
    seq, digest_hash = line.removeprefix("Audit head: ").split(":")
    with app.transaction() as session:
        assert prove_witness(session, incident, digest_hash, int(seq)) is None
        for message in sent:
            head_seq, head_hash = message.audit_head.split(":")
            assert prove_witness(session, incident, head_hash, int(head_seq)) is None


def test_message_states_show_in_the_incident_report(app, clock):
    incident = open_example(app)
    ReminderService(app, MemoryChannel(clock=clock)).tick()
    with app.transaction() as session:
        repo = Repository(session)
        inc = repo.get_incident(incident)
        rows = list(session.scalars(select(Message).where(Message.incident_id == incident)))
        data = incident_to_dict(
            inc, repo.steps(incident), repo.obligations(incident), agreement_of(app, inc), messages=rows
        )
    assert data["messages"]["counts"]["sent"] == data["messages"]["total"] > 12
    assert data["messages"]["not_sent"] == []


def test_reminder_times_follow_the_agreement_then_the_workspace_then_the_defaults(tmp_path, clock):
    agreement = yaml.safe_load((ROOT / "examples" / "agreement.yaml").read_text())
    agreement["reminders"] = {
        "before_hours": [2],
        "by_role": {"security": {"before_hours": [3], "escalate": False}},
    }
    parsed = parse_agreement(agreement, "agreement.yaml")
    workspace = ReminderPolicy().with_overrides(
        Settings.model_validate({"reminders": {"before_hours": [48, 1], "overdue_every_hours": 2}}).reminders
    )
    policy = workspace.with_overrides(parsed.reminders)
    assert policy.default.offsets == (timedelta(hours=2),)
    assert policy.default.overdue_every == timedelta(hours=2)  # from the workspace
    security = policy.schedule_for(["freeze-access"], "security")
    assert security.offsets == (timedelta(hours=3),) and security.overdue_every is None
    assert workspace.default.offsets == (timedelta(hours=48), timedelta(hours=1))


@pytest.mark.parametrize(
    ("reminders", "field", "value"),
    [
        ({"before_hours": [24, -4]}, "reminders.before_hours", "-4"),
        ({"overdue_every_hours": 0}, "reminders.overdue_every_hours", "0"),
        ({"by_role": {"ceo": {}}}, "reminders.by_role", "ceo"),
        ({"befor_hours": [1]}, "reminders.befor_hours", "[1]"),
    ],
)
def test_bad_reminder_settings_name_file_field_and_value(tmp_path, reminders: Any, field: str, value: str):
    agreement = yaml.safe_load((ROOT / "examples" / "agreement.yaml").read_text())
    with pytest.raises(InputError) as caught:
        parse_agreement({**agreement, "reminders": reminders}, "deals/agreement.yaml")
    assert str(caught.value).startswith(f"deals/agreement.yaml: {field}") and value in str(caught.value)

    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "settings.yaml").write_text(yaml.safe_dump({"reminders": reminders}))
    with pytest.raises(InputError) as caught:
        load_settings({"BREACHOPS_WORKSPACE": str(workspace)})
    assert "settings.yaml: " + field in str(caught.value) and value in str(caught.value)

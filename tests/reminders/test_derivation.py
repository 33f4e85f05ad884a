"""Reminder derivation is pure: rows in, reminders out, time only through the values passed."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from breachops.config.agreements import load_agreement
from breachops.deadlines.reminders import Recipient, ReminderPolicy, Schedule, derive_reminders

from .conftest import ROOT, START

AGREEMENT = load_agreement(ROOT / "examples" / "agreement.yaml")
INC = "INC-2026-0042"


def obligation(due=START + timedelta(hours=48), status="pending", rule="contract-receiving-to-disclosing"):
    return SimpleNamespace(
        key=f"{rule}/notification", rule_id=rule, title="Notify the licensor", citation="§ 11.2",
        audience="counterparty" if rule.startswith("contract-") else "regulator", due=due, status=status,
    )  # fmt: skip


def step(due=START + timedelta(hours=10), status="pending", role="security", party="receiving"):
    return SimpleNamespace(
        step_id="freeze-access",
        title="Freeze access",
        owner_role=role,
        owner_party=party,
        due=due,
        status=status,
    )


def test_reminders_come_24_4_and_1_hours_before_to_the_notifying_partys_lead():
    found = derive_reminders(INC, [obligation()], [], AGREEMENT, since=START)
    before = [r for r in found if r.kind == "reminder"]
    assert [r.offset_label for r in before] == ["-24h", "-4h", "-1h"]
    assert [r.due_at - START for r in before] == [timedelta(hours=h) for h in (24, 44, 47)]
    assert before[0].key == f"{INC}|obligation:contract-receiving-to-disclosing/notification|reminder|-24h"
    assert all(r.recipients == (Recipient("incident_lead", "receiving"),) for r in before)


def test_overdue_escalates_one_level_up_the_owners_chain_every_4_hours():
    found = [r for r in derive_reminders(INC, [], [step()], AGREEMENT) if r.kind == "overdue"]
    due = START + timedelta(hours=10)
    assert [(r.offset_label, r.level, r.due_at - due) for r in found] == [
        ("+4h#1", 1, timedelta(hours=4)),
        ("+8h#2", 2, timedelta(hours=8)),
        ("+12h#3", 3, timedelta(hours=12)),
    ]
    # security is not in the chain (incident_lead, legal, executive): level 1 is the chain's first role
    assert [r.recipients for r in found] == [
        (Recipient("incident_lead", "receiving"),),
        (Recipient("legal", "receiving"),),
        (Recipient("executive", "receiving"),),
    ]
    led = [
        r for r in derive_reminders(INC, [], [step(role="incident_lead")], AGREEMENT) if r.kind == "overdue"
    ]
    assert [r.recipients[0].role for r in led] == ["legal", "executive"]


def test_met_done_waived_withdrawn_and_undated_items_give_no_reminders():
    for status in ("met", "waived", "withdrawn"):
        assert derive_reminders(INC, [obligation(status=status)], [], AGREEMENT) == []
    assert derive_reminders(INC, [], [step(status="done")], AGREEMENT) == []
    assert derive_reminders(INC, [obligation(due=None)], [step(due=None)], AGREEMENT) == []


def test_a_recomputed_due_time_moves_the_reminders_under_the_same_keys():
    first = derive_reminders(INC, [obligation()], [], AGREEMENT)
    moved = derive_reminders(INC, [obligation(due=START + timedelta(hours=72))], [], AGREEMENT)
    assert [r.key for r in first] == [r.key for r in moved]
    assert all(b.due_at - a.due_at == timedelta(hours=24) for a, b in zip(first, moved, strict=True))


def test_per_rule_and_per_role_overrides_win_over_the_defaults():
    policy = ReminderPolicy(
        by_rule={
            "contract-receiving-to-disclosing": Schedule(offsets=(timedelta(hours=2),), overdue_every=None)
        },
        by_role={"security": Schedule(offsets=(timedelta(minutes=30),), overdue_every=timedelta(hours=1))},
    )
    found = derive_reminders(INC, [obligation()], [step()], AGREEMENT, policy)
    ob = [r.offset_label for r in found if r.target.startswith("obligation:")]
    st = [r.offset_label for r in found if r.target.startswith("step:")]
    assert ob == ["-2h"]
    assert st == ["-30m", "+1h#1", "+2h#2", "+3h#3"]


def test_non_contract_obligations_go_to_both_parties_legal_and_early_ones_are_dropped():
    ob = obligation(rule="gdpr-33", due=START + timedelta(hours=2))
    found = derive_reminders(INC, [ob], [], AGREEMENT, since=START)
    assert [r.offset_label for r in found if r.kind == "reminder"] == ["-1h"]  # -24h, -4h: before opening
    assert found[0].recipients == (Recipient("legal", "disclosing"), Recipient("legal", "receiving"))

"""Order and parallelism: what may run now, and when each step is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from breachops.playbooks import Due, Playbook, load_playbook
from tests.playbooks.helpers import step, variant

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def tiny() -> Playbook:
    return Playbook.model_validate(variant())


def test_steps_come_phase_by_phase_in_written_order():
    assert [s.id for s in tiny().steps()] == [
        "freeze-access",
        "preserve-evidence",
        "assess-notifiability",
        "rotate-credentials",
        "notify-counterparty",
    ]


def test_ready_steps_offers_independent_steps_together_for_parallel_work():
    assert [s.id for s in tiny().ready_steps(set())] == ["freeze-access", "preserve-evidence"]


def test_ready_steps_waits_until_every_dependency_is_done():
    playbook = tiny()
    done = {"freeze-access", "assess-notifiability", "rotate-credentials"}
    assert "notify-counterparty" not in [s.id for s in playbook.ready_steps(done)]
    assert [s.id for s in playbook.ready_steps({*done, "preserve-evidence"})] == ["notify-counterparty"]


def test_ready_steps_never_offers_a_step_already_done():
    playbook = tiny()
    assert [s.id for s in playbook.ready_steps({"freeze-access"})] == [
        "preserve-evidence",
        "assess-notifiability",
    ]
    assert playbook.ready_steps({s.id for s in playbook.steps()}) == []


def test_ready_steps_in_the_leak_playbook_waits_for_scoping_before_assessment():
    leak = load_playbook("confidential-information-leak")
    ready = {s.id for s in leak.ready_steps({"freeze-access"})}
    assert "scope-disclosure" not in ready
    ready = {s.id for s in leak.ready_steps({"freeze-access", "preserve-evidence", "scope-disclosure"})}
    assert {"assess-notifiability", "assess-materiality", "request-takedowns", "rotate-credentials"} <= ready


def test_ready_steps_refuses_a_step_id_the_playbook_does_not_have():
    with pytest.raises(ValueError, match="no step 'not-a-step'"):
        tiny().ready_steps({"not-a-step"})


def test_a_later_written_dependency_is_ready_first():
    data = variant()
    data["phases"]["containment"] = [
        step("freeze-access", depends_on=["preserve-evidence"]),
        step("preserve-evidence"),
    ]
    playbook = Playbook.model_validate(data)
    ready = [s.id for s in playbook.ready_steps(set())]
    assert "preserve-evidence" in ready and "freeze-access" not in ready
    assert "freeze-access" in [s.id for s in playbook.ready_steps({"preserve-evidence"})]


def test_owner_both_means_the_disclosing_and_the_receiving_party():
    leak = load_playbook("confidential-information-leak")
    assert leak.step("preserve-evidence").owner.parties == ("disclosing", "receiving")
    assert leak.step("freeze-access").owner.parties == ("receiving",)


def test_phase_of_and_step_find_a_step_by_id():
    playbook = tiny()
    assert playbook.phase_of("rotate-credentials") == "remediation"
    assert playbook.step("rotate-credentials").owner.role == "security"
    with pytest.raises(KeyError):
        playbook.step("nope")


@dataclass
class FakeObligation:
    rule_id: str
    audience: str
    due: datetime | None
    status: str = "pending"


def test_a_due_from_an_event_is_an_offset_in_hours_and_minutes():
    due = Due.model_validate({"from": "aware", "hours": 2, "minutes": 30})
    assert due.resolve({"aware": T0}) == T0 + timedelta(hours=2, minutes=30)
    assert due.describe() == "2 h 30 min after aware"


def test_a_due_from_an_event_not_yet_known_is_none():
    due = Due.model_validate({"from": "assessed", "hours": 4})
    assert due.resolve({"aware": T0, "assessed": None}) is None


def test_a_due_from_discovery_falls_back_to_awareness_like_the_facts_do():
    due = Due.model_validate({"from": "discovered", "hours": 1})
    assert due.resolve({"aware": T0}) == T0 + timedelta(hours=1)


def test_a_due_tied_to_an_audience_is_before_the_earliest_matching_obligation():
    due = Due.model_validate({"obligation": {"audience": "regulator"}, "before_hours": 4})
    obligations = [
        FakeObligation("gdpr-art-33", "regulator", T0 + timedelta(hours=72)),
        FakeObligation("nis2-early-warning", "regulator", T0 + timedelta(hours=24)),
        FakeObligation("old", "regulator", T0 + timedelta(hours=1), status="waived"),
        FakeObligation("counterparty", "counterparty", T0 + timedelta(hours=2)),
        FakeObligation("pending-clock", "regulator", None),
    ]
    assert due.resolve({}, obligations) == T0 + timedelta(hours=20)


def test_a_due_tied_to_a_rule_follows_only_that_rule_and_before_hours_defaults_to_zero():
    due = Due.model_validate({"obligation": {"rule": "gdpr-art-33"}})
    obligations = [
        FakeObligation("gdpr-art-33", "regulator", T0 + timedelta(hours=72)),
        FakeObligation("nis2-early-warning", "regulator", T0 + timedelta(hours=24)),
    ]
    assert due.resolve({}, obligations) == T0 + timedelta(hours=72)
    assert due.resolve({}, []) is None

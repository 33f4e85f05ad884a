"""The shipped playbooks: they load from the package, are acyclic, and tie notices to obligations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from breachops.config.agreements import ROLES
from breachops.deadlines.models import parse_facts
from breachops.errors import InputError
from breachops.playbooks import PHASES, Playbook, list_playbooks, load_playbook, shipped_playbook_files
from tests.playbooks.helpers import variant, write

SHIPPED = ["confidential-information-leak", "compelled-disclosure"]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=SHIPPED)
def shipped(request):
    return load_playbook(request.param)


def test_both_shipped_playbooks_are_package_data_and_load_by_name():
    names = {p.stem for p in shipped_playbook_files()}
    assert set(SHIPPED) <= names
    leak = load_playbook("confidential-information-leak")
    assert (leak.kind, leak.version) == ("leak", "1.0.0")
    assert leak.origin.endswith("library/confidential-information-leak.yaml")
    assert load_playbook("compelled-disclosure").kind == "compelled_disclosure"


def walk(playbook: Playbook) -> list[str]:
    """Step ids in the order a flow running one ready step at a time would run them."""
    done: list[str] = []
    while ready := playbook.ready_steps(done):
        done.append(ready[0].id)
    return done


def test_shipped_playbooks_are_acyclic_and_order_every_step_after_its_dependencies(shipped):
    order = walk(shipped)
    assert sorted(order) == sorted(s.id for s in shipped.steps())
    for step in shipped.steps():
        for dep in step.depends_on:
            assert order.index(dep) < order.index(step.id), (dep, step.id)


def test_shipped_playbooks_have_all_four_phases_in_order_and_known_roles(shipped):
    assert tuple(shipped.phases) == PHASES
    assert all(shipped.phases[p] for p in PHASES)
    assert all(s.owner.role in ROLES for s in shipped.steps())


def test_no_shipped_step_beyond_containment_starts_before_something_else_is_done(shipped):
    # ready_steps follows depends_on only, so a later-phase step without one would start at once.
    first = {s.id for s in shipped.ready_steps(set())}
    assert first <= {s.id for s in shipped.phases["containment"]}


def test_leak_playbook_has_a_realistic_size_and_splits_owners_between_parties():
    leak = load_playbook("confidential-information-leak")
    assert 12 <= len(leak.steps()) <= 16
    parties = {s.owner.party for s in leak.steps()}
    assert {"disclosing", "receiving", "both"} <= parties
    assert len({s.owner.role for s in leak.steps()}) >= 5


def test_leak_playbook_freezes_access_within_two_hours_of_opening():
    freeze = load_playbook("confidential-information-leak").step("freeze-access")
    assert (freeze.owner.party, freeze.owner.role) == ("receiving", "security")
    assert freeze.due is not None
    assert freeze.due.resolve({"opened": NOW}) == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def test_leak_playbook_ties_counterparty_regulator_and_individual_notices_to_their_obligations():
    leak = load_playbook("confidential-information-leak")
    tied = {
        s.id: (s.due.obligation.audience, s.due.before_hours or 0)
        for s in leak.steps()
        if s.due is not None and s.due.obligation is not None
    }
    assert tied["alert-counterparty-lead"] == ("counterparty", 4)
    assert tied["notify-counterparty"][0] == "counterparty"
    assert tied["notify-regulators"][0] == "regulator"
    assert tied["notify-individuals"][0] == "individuals"
    assert leak.step("notify-regulators").gate.type == "confirm"


def test_leak_playbook_gates_record_risk_notifiability_and_materiality():
    leak = load_playbook("confidential-information-leak")
    assess = leak.step("assess-notifiability").gate.fields
    assert assess["risk"].sets == "risk" and assess["risk"].choices == ("none", "low", "likely", "high")
    assert assess["notifiable"].stamps == "assessed_at"
    assert leak.step("assess-materiality").gate.fields["material"].stamps == "material_at"


def test_compelled_disclosure_asks_whether_telling_the_counterparty_first_is_lawful():
    playbook = load_playbook("compelled-disclosure")
    first = playbook.step("tell-counterparty-first")
    assert first.gate.fields["notice_lawful"].type == "bool"
    assert first.due is not None and first.due.obligation is not None
    assert first.due.obligation.audience == "counterparty"
    order = walk(playbook)
    assert order.index("tell-counterparty-first") < order.index("narrow-disclosure")
    assert order.index("seek-protective-order") < order.index("record-disclosure")


def test_answers_to_the_leak_playbook_become_facts_the_deadline_engine_accepts():
    leak = load_playbook("confidential-information-leak")
    facts: dict[str, object] = {"aware_at": NOW}
    answers = {
        "scope-disclosure": {
            "affected_by_jurisdiction": "DE=120, BR=40, US-CA",
            "data_categories": "personal, source_code",
            "recipients": "a public paste site",
            "evidence_links": "https://cases.example/INC-2026-0007",
        },
        "assess-notifiability": {
            "risk": "high",
            "acting_as": "controller",
            "notifiable": "yes",
            "rationale": "r",
        },
        "assess-materiality": {"material": "no", "rationale": "small"},
    }
    for step_id, answer in answers.items():
        gate = leak.step(step_id).gate
        facts.update(gate.fact_changes(gate.validate_answer(answer, step_id=step_id, source="test"), NOW))
    parsed = parse_facts(facts)
    assert [j.code for j in parsed.jurisdictions] == ["DE", "BR", "US-CA"]
    assert parsed.risk == "high" and parsed.assessed_at == NOW and parsed.material_at is None
    assert parsed.data_categories == ("personal", "source_code")


def test_load_playbook_by_name_looks_in_workspace_folders_before_the_library(tmp_path):
    data = variant()
    data["name"] = "confidential-information-leak"
    data["version"] = "9.0.0"
    write(tmp_path, data, "confidential-information-leak.yaml")
    assert load_playbook("confidential-information-leak", search=[tmp_path]).version == "9.0.0"
    assert load_playbook("confidential-information-leak", search=[tmp_path / "absent"]).version == "1.0.0"


def test_list_playbooks_shows_workspace_playbooks_and_lets_them_shadow_shipped_ones(tmp_path):
    write(tmp_path, variant())
    shadow = variant()
    shadow["name"] = "compelled-disclosure"
    write(tmp_path, shadow, "mine.yaml")
    found = {p.name: p for p in list_playbooks([tmp_path])}
    assert set(found) == {"tiny", *SHIPPED}
    assert found["compelled-disclosure"].origin == str(tmp_path / "mine.yaml")
    assert found["confidential-information-leak"].version == "1.0.0"


def test_load_playbook_accepts_a_path(tmp_path):
    path = write(tmp_path, variant())
    assert load_playbook(path).name == "tiny"
    assert load_playbook(str(path)).name == "tiny"


def test_an_unknown_playbook_name_is_refused_with_the_known_names(tmp_path):
    with pytest.raises(InputError) as caught:
        load_playbook("no-such-playbook", search=[tmp_path])
    text = str(caught.value)
    assert "no-such-playbook" in text and str(tmp_path) in text and "confidential-information-leak" in text


def test_a_playbook_found_by_name_must_carry_that_name(tmp_path):
    path = write(tmp_path, variant(), "other.yaml")
    with pytest.raises(InputError) as caught:
        load_playbook("other", search=[tmp_path])
    assert str(path) in str(caught.value) and "'tiny'" in str(caught.value)

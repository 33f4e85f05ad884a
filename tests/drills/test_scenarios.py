"""Drill scenarios: shipped ones load and resolve against any start, and a broken one is refused at load
with file, field and value named, before any drill starts."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from breachops.deadlines.models import parse_facts
from breachops.errors import InputError
from breachops.playbooks import load_playbook
from breachops.playbooks.loader import list_scenarios, load_scenario
from breachops.playbooks.scenario_time import format_offset, parse_offset, parse_span
from breachops.playbooks.scenarios import Scenario
from breachops.playbooks.simulation import simulated_answer

T0 = datetime(2026, 3, 28, 23, 30, tzinfo=timezone(timedelta(hours=1)))
SHIPPED = ["authority-access-demand", "insider-roadmap-exfiltration", "subcontractor-source-leak"]


def minimal() -> dict[str, Any]:
    return {
        "id": "tiny-leak",
        "version": "1",
        "title": "Tiny leak",
        "narrative": "Something leaked.",
        "objectives": ["Contain it"],
        "playbook": "confidential-information-leak",
        "duration": "24h",
        "participants": [
            {"party": "receiving", "role": "security"},
            {"party": "both", "role": "incident_lead"},
        ],
        "facts": {"aware_at": "T+0", "discovered_at": "T-6h"},
        "injects": [
            {
                "id": "later",
                "at": "T+10h",
                "title": "Later",
                "message": "More is known.",
                "to": [{"party": "receiving", "role": "security"}],
                "reveals": {"jurisdictions": [{"code": "DE", "affected": 12}], "assessed_at": "T+9h"},
                "expects": ["scope-disclosure"],
            },
            {
                "id": "start",
                "at": "T+0",
                "title": "Start",
                "message": "It begins.",
                "expects": "freeze-access",
            },
        ],
        "simulation": {
            "default_delay": "20m",
            "steps": {"request-takedowns": {"delay": "2h", "answer": {"requests_filed": 2}}},
        },
    }


def write(folder: Path, data: Any, name: str = "tiny-leak.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def refusal(tmp_path: Path, data: Any) -> InputError:
    path = write(tmp_path, data)
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    return caught.value


# ---- scenario time -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("T+0", timedelta(0)),
        ("T+2h", timedelta(hours=2)),
        ("T-6h", timedelta(hours=-6)),
        ("T+1d2h", timedelta(days=1, hours=2)),
        ("T + 30m", timedelta(minutes=30)),
    ],
)
def test_offsets_read_as_signed_spans_from_the_start(text: str, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["2h", "T+", "T+2x", "T*2h", "", "T+1h2d"])
def test_a_malformed_offset_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="offset from the drill's start"):
        parse_offset(text)


def test_spans_and_the_report_clock() -> None:
    assert parse_span("72h") == parse_span("3d") == timedelta(days=3)
    assert parse_span("1d2h30m") == timedelta(days=1, hours=2, minutes=30)
    assert parse_span("20s") == timedelta(seconds=20)
    with pytest.raises(ValueError, match="not a span of time"):
        parse_span("2 hours")
    assert format_offset(timedelta(hours=50, minutes=5)) == "T+50:05"
    assert format_offset(timedelta(hours=-6)) == "T-06:00"


# ---- shipped scenarios ---------------------------------------------------------------------------


def test_the_shipped_scenarios_load_by_name() -> None:
    assert [s.id for s in list_scenarios()] == SHIPPED
    for name in SHIPPED:
        scenario = load_scenario(name)
        assert scenario.id == name
        assert scenario.origin.endswith(f"{name}.yaml")


def test_compelled_disclosure_scenario_uses_its_playbook() -> None:
    assert load_scenario("authority-access-demand").playbook == "compelled-disclosure"


def test_source_leak_injects_follow_the_story() -> None:
    scenario = load_scenario("subcontractor-source-leak")
    timeline = {inject.id: format_offset(inject.at) for inject in scenario.injects}
    assert timeline["public-repo-found"] == "T+00:00"
    assert timeline["journalist-asks"] == "T+02:00"
    assert timeline["authority-asks-update"] == "T+20:00"
    assert "public repository" in scenario.inject("public-repo-found").message
    assert scenario.duration == timedelta(hours=72)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_step_owner_of_a_shipped_scenario_takes_part(name: str) -> None:
    scenario = load_scenario(name)
    playbook = load_playbook(scenario.playbook)
    labels = {p.label for p in scenario.participants}
    for step in playbook.steps():
        for party in step.owner.parties:
            assert f"{party}/{step.owner.role}" in labels, step.id


@pytest.mark.parametrize("name", SHIPPED)
def test_a_simulated_participant_can_answer_every_gate(name: str) -> None:
    scenario = load_scenario(name)
    playbook = load_playbook(scenario.playbook)
    for step in playbook.steps():
        answer = simulated_answer(step, scenario, t0=T0, at=T0 + timedelta(hours=3))
        step.validate_answer(answer, "test")


# ---- resolving against a start -------------------------------------------------------------------


def test_facts_and_reveals_resolve_to_utc_instants(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, minimal()))
    facts = scenario.facts_at(T0)
    assert facts["aware_at"] == datetime(2026, 3, 28, 22, 30, tzinfo=UTC)
    assert facts["discovered_at"] == datetime(2026, 3, 28, 16, 30, tzinfo=UTC)
    assert facts["aware_at"].tzinfo is UTC
    later = scenario.inject("later")
    assert later.reveals_at(T0)["assessed_at"] == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)
    assert later.reveals_at(T0)["jurisdictions"] == [{"code": "DE", "affected": 12}]
    assert later.due_at(T0) == datetime(2026, 3, 29, 8, 30, tzinfo=UTC)
    assert scenario.end(T0) == datetime(2026, 3, 29, 22, 30, tzinfo=UTC)
    parse_facts({**facts, **later.reveals_at(T0)})


def test_resolved_facts_are_a_copy(tmp_path: Path) -> None:
    data = minimal()
    data["facts"]["data_categories"] = ["source_code"]
    scenario = load_scenario(write(tmp_path, data))
    scenario.facts_at(T0)["data_categories"].append("personal")
    assert scenario.facts_at(T0)["data_categories"] == ["source_code"]


def test_a_naive_start_is_refused(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, minimal()))
    with pytest.raises(ValueError, match="timezone-aware"):
        scenario.facts_at(datetime(2026, 3, 28, 9, 0))


def test_injects_are_sorted_by_time_and_both_expands(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, minimal()))
    assert [i.id for i in scenario.injects] == ["start", "later"]
    assert [p.label for p in scenario.participants] == [
        "receiving/security",
        "disclosing/incident_lead",
        "receiving/incident_lead",
    ]
    assert scenario.inject("start").recipients(scenario.participants) == scenario.participants
    assert scenario.expected_by() == {"freeze-access": "start", "scope-disclosure": "later"}


def test_facts_revealed_by_injects_accumulate(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, minimal()))
    assert parse_facts(scenario.facts_at(T0), "facts").jurisdictions == ()
    assert scenario.inject("start").reveals_at(T0) == {}
    assert [j.code for j in scenario.final_facts(T0).jurisdictions] == ["DE"]
    assert scenario.final_facts(T0).assessed_at == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)


def test_simulation_delay_falls_back_to_the_default(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, minimal()))
    assert scenario.simulation.delay_for("request-takedowns") == timedelta(hours=2)
    assert scenario.simulation.delay_for("freeze-access") == timedelta(minutes=20)


# ---- simulated answers ---------------------------------------------------------------------------


def test_default_answers_follow_the_field_types(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, minimal()))
    playbook = load_playbook("confidential-information-leak")
    assert simulated_answer(playbook.step("freeze-access"), scenario) == {"confirmed": True}
    evidence = simulated_answer(playbook.step("preserve-evidence"), scenario)
    assert evidence == {
        "evidence_links": ["https://drill.invalid/tiny-leak/preserve-evidence/evidence_links"],
        "legal_hold": True,
    }
    fix = simulated_answer(playbook.step("fix-root-cause"), scenario)
    assert fix["fix_summary"].startswith("(simulated) ")
    notify = simulated_answer(playbook.step("notify-individuals"), scenario)
    assert notify == {"individuals_notified": 1, "channel": "email"}
    assert simulated_answer(playbook.step("request-takedowns"), scenario) == {"requests_filed": 2}


def test_default_answers_agree_with_the_scenarios_facts(tmp_path: Path) -> None:
    data = minimal()
    data["facts"]["data_categories"] = ["source_code", "trade_secret"]
    scenario = load_scenario(write(tmp_path, data))
    scope = simulated_answer(
        load_playbook("confidential-information-leak").step("scope-disclosure"), scenario
    )
    assert scope["affected_by_jurisdiction"] == "DE=12"
    assert scope["data_categories"] == ["source_code", "trade_secret"]


def test_a_datetime_answer_is_the_answer_time_or_a_resolved_offset() -> None:
    scenario = load_scenario("authority-access-demand")
    playbook = load_playbook("compelled-disclosure")
    at = T0 + timedelta(hours=40)
    record = simulated_answer(playbook.step("record-disclosure"), scenario, t0=T0, at=at)
    assert record["disclosed_at"] == at.astimezone(UTC).isoformat()
    demand = simulated_answer(playbook.step("log-demand"), scenario, t0=T0, at=at)
    assert demand["response_deadline"] == (T0 + timedelta(days=5)).astimezone(UTC).isoformat()


# ---- refused at load -----------------------------------------------------------------------------


def test_unknown_expected_step_is_named(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][0]["expects"] = ["scope-disclosure", "call-the-press"]
    error = refusal(tmp_path, data)
    assert error.field == "injects[1] (later).expects"
    assert error.value == "call-the-press"
    assert "freeze-access" in error.problem


def test_unknown_simulated_step_is_named(tmp_path: Path) -> None:
    data = minimal()
    data["simulation"]["steps"]["phone-a-friend"] = {"delay": "1h"}
    error = refusal(tmp_path, data)
    assert error.field == "simulation.steps.phone-a-friend"


def test_duplicate_inject_id(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][1]["id"] = "later"
    error = refusal(tmp_path, data)
    assert error.field == "injects[1] (later).id"
    assert "duplicate" in error.problem


def test_inject_after_the_end(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][0]["at"] = "T+1d1h"
    error = refusal(tmp_path, data)
    assert error.field == "injects[1] (later).at"
    assert error.value == "T+25:00"
    assert "after the scenario ends at T+24:00" in str(error)


def test_inject_before_the_start(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][1]["at"] = "T-1h"
    error = refusal(tmp_path, data)
    assert error.field == "injects[1].at"
    assert "before the drill starts" in error.problem


def test_bad_offset(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][1]["at"] = "in two hours"
    error = refusal(tmp_path, data)
    assert error.field == "injects[1].at"
    assert "'in two hours'" in str(error)


def test_bad_revealed_fact_value_is_named_with_its_inject(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][0]["reveals"] = {"jurisdictions": [{"code": "XX", "affected": 3}]}
    error = refusal(tmp_path, data)
    assert error.field == "injects[1] (later).reveals.jurisdictions[0].code"


def test_unknown_revealed_fact(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][0]["reveals"] = {"severity": "high"}
    error = refusal(tmp_path, data)
    assert error.field == "injects[0].reveals"
    assert "'severity' is not a fact" in error.problem


def test_a_fixed_instant_fact_is_refused(tmp_path: Path) -> None:
    data = minimal()
    data["facts"]["discovered_at"] = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    error = refusal(tmp_path, data)
    assert error.field == "facts"
    assert "offsets from the drill's start" in error.problem


def test_facts_need_aware_at(tmp_path: Path) -> None:
    data = minimal()
    del data["facts"]["aware_at"]
    error = refusal(tmp_path, data)
    assert error.field == "facts.aware_at"


def test_bad_fact_category(tmp_path: Path) -> None:
    data = minimal()
    data["facts"]["data_categories"] = ["gossip"]
    error = refusal(tmp_path, data)
    assert error.field == "facts.data_categories[0]"
    assert error.value == "gossip"


def test_bad_participant_role(tmp_path: Path) -> None:
    data = minimal()
    data["participants"][0]["role"] = "ciso"
    error = refusal(tmp_path, data)
    assert error.field == "participants[0].role"
    assert error.value == "ciso"


def test_bad_participant_party(tmp_path: Path) -> None:
    data = minimal()
    data["participants"][0]["party"] = "Receiving Ltd"
    error = refusal(tmp_path, data)
    assert error.field == "participants[0].party"


def test_participant_listed_twice(tmp_path: Path) -> None:
    data = minimal()
    data["participants"].append({"party": "disclosing", "role": "incident_lead"})
    error = refusal(tmp_path, data)
    assert "disclosing/incident_lead is listed twice" in error.problem


def test_inject_sent_to_someone_not_taking_part(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][0]["to"] = [{"party": "disclosing", "role": "legal"}]
    error = refusal(tmp_path, data)
    assert error.field == "injects[1] (later).to"
    assert error.value == "disclosing/legal"


def test_simulated_answer_invalid_for_its_gate(tmp_path: Path) -> None:
    data = minimal()
    data["simulation"]["steps"]["request-takedowns"]["answer"] = {"requests_filed": "several"}
    error = refusal(tmp_path, data)
    assert error.field == "simulation.steps.request-takedowns.answer.requests_filed"
    assert error.value == "several"


def test_required_jurisdictions_are_never_invented(tmp_path: Path) -> None:
    data = minimal()
    data["injects"][0]["reveals"] = {}
    error = refusal(tmp_path, data)
    assert error.field == "simulation.steps.scope-disclosure.answer.affected_by_jurisdiction"
    assert "Script it under simulation.steps.scope-disclosure.answer" in str(error)


def test_unknown_playbook(tmp_path: Path) -> None:
    data = minimal()
    data["playbook"] = "no-such-playbook"
    error = refusal(tmp_path, data)
    assert error.field == "playbook"
    assert error.value == "no-such-playbook"


def test_unquoted_version(tmp_path: Path) -> None:
    data = minimal()
    data["version"] = 1
    error = refusal(tmp_path, data)
    assert error.field == "version"
    assert "quote it" in error.problem


def test_unknown_top_level_field(tmp_path: Path) -> None:
    data = minimal()
    data["severity"] = "high"
    assert refusal(tmp_path, data).field == "severity"


def test_a_model_built_in_code_is_checked_too() -> None:
    data = copy.deepcopy(minimal())
    data["injects"][0]["at"] = "T+2d"
    with pytest.raises(ValueError, match="after the scenario ends"):
        Scenario.model_validate(data)


# ---- finding scenarios ---------------------------------------------------------------------------


def test_a_workspace_scenario_shadows_a_shipped_one(tmp_path: Path) -> None:
    data = minimal()
    data["id"] = "subcontractor-source-leak"
    data["title"] = "Our own version"
    write(tmp_path, data, "subcontractor-source-leak.yaml")
    assert load_scenario("subcontractor-source-leak", [tmp_path]).title == "Our own version"
    listed = {s.id: s for s in list_scenarios([tmp_path])}
    assert sorted(listed) == SHIPPED
    assert listed["subcontractor-source-leak"].title == "Our own version"


def test_a_name_that_does_not_match_its_file(tmp_path: Path) -> None:
    write(tmp_path, minimal(), "other-name.yaml")
    with pytest.raises(InputError) as caught:
        load_scenario("other-name", [tmp_path])
    assert caught.value.field == "id"
    assert "other-name" in caught.value.problem


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(InputError) as caught:
        load_scenario("alien-invasion")
    assert "subcontractor-source-leak" in str(caught.value)

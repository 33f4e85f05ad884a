"""The resume form a gate offers: one answer to any waiting step, typed from the playbook."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from breachops.flows.gates import gate_input_model, split_answer
from breachops.playbooks import load_playbook

PLAYBOOK = load_playbook("confidential-information-leak")


def test_one_waiting_step_gives_a_form_with_its_own_field_names_and_the_step_preselected():
    model = gate_input_model([PLAYBOOK.step("preserve-evidence")])
    schema = model.model_json_schema()
    assert {"step", "by", "note", "evidence_links", "legal_hold"} <= set(schema["properties"])
    answer = model(by="lars.hoffmann@nordlicht.example", legal_hold=True)
    assert answer.step == "preserve-evidence"


def test_several_waiting_steps_prefix_their_fields_and_the_step_must_be_one_of_them():
    steps = [PLAYBOOK.step("freeze-access"), PLAYBOOK.step("preserve-evidence")]
    model = gate_input_model(steps)
    props = model.model_json_schema()["properties"]
    assert set(props["step"]["enum"]) == {"freeze-access", "preserve-evidence"}
    assert "preserve-evidence__legal_hold" in props
    with pytest.raises(ValidationError):
        model(step="lessons-learned", by="x@y.example")
    with pytest.raises(ValidationError):
        model(by="x@y.example")  # which step: required when several wait


def test_choice_fields_are_typed_and_multiple_choices_are_lists():
    model = gate_input_model([PLAYBOOK.step("assess-notifiability")])
    with pytest.raises(ValidationError):
        model(by="x@y.example", risk="extreme")
    assert model(by="x@y.example", risk="high").risk == "high"


def test_split_answer_keeps_only_the_answered_steps_values():
    raw = {"step": "b", "by": "p", "note": "n", "b__x": 1, "a__x": 2, "y": 3, "b__z": None}
    assert split_answer(raw, "b") == {"x": 1, "y": 3}


def test_the_wake_up_after_a_cli_answer_names_no_one_so_no_other_step_is_answered():
    from types import SimpleNamespace

    from breachops.flows.incident import record_answer
    from breachops.flows.launcher import resume_input

    class StaleSuspension:  # asks about steps other than the one just answered
        def run_input(self, flow_run_id: str, key: str) -> dict:
            return {"properties": {"step": {"enum": ["preserve-evidence", "alert-counterparty-lead"]}}}

    state = SimpleNamespace(details={"run_input_keyset": {"schema": "schema-key"}})
    wake = resume_input(StaleSuspension(), "run-1", state, "freeze-access", "rafael.costa@horizonte.example")
    assert wake is not None
    assert wake["step"] == "preserve-evidence" and wake["by"] == ""
    assert record_answer.fn("INC-2026-0001", wake["step"], "containment", wake) is False

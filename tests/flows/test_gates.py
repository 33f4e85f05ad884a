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

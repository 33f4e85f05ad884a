"""Every bad playbook is refused before an incident, naming the file, the step and the value."""

from __future__ import annotations

import pytest

from breachops.errors import InputError
from breachops.playbooks import Playbook, load_playbook, parse_playbook
from tests.playbooks.helpers import step, variant, write


def refused(tmp_path, data) -> tuple[str, InputError]:
    path = write(tmp_path, data)
    with pytest.raises(InputError) as caught:
        load_playbook(path)
    return str(path), caught.value


def test_a_dependency_cycle_is_refused_naming_every_step_in_it(tmp_path):
    data = variant()
    data["phases"]["containment"] = [
        step("freeze-access", depends_on=["revoke-tokens"]),
        step("preserve-evidence"),
        step("revoke-tokens", depends_on=["freeze-access"]),
    ]
    path, error = refused(tmp_path, data)
    text = str(error)
    assert path in text
    assert "phases.containment[0] (freeze-access).depends_on" in text
    assert "freeze-access → revoke-tokens → freeze-access" in text


def test_a_step_depending_on_itself_is_a_cycle(tmp_path):
    data = variant()
    data["phases"]["remediation"][0]["depends_on"] = ["rotate-credentials"]
    path, error = refused(tmp_path, data)
    assert path in str(error) and "rotate-credentials → rotate-credentials" in str(error)


def test_a_longer_cycle_across_a_phase_is_named_in_dependency_order(tmp_path):
    data = variant()
    data["phases"]["investigation"] = [
        step("scope", depends_on=["assess"]),
        step("assess", depends_on=["classify"]),
        step("classify", depends_on=["scope", "freeze-access"]),
    ]
    data["phases"]["remediation"][0]["depends_on"] = ["scope"]
    _, error = refused(tmp_path, data)
    assert "dependency cycle: scope → assess → classify → scope" in str(error)


def test_an_unknown_dependency_is_refused_with_the_step_and_the_missing_id(tmp_path):
    data = variant()
    data["phases"]["investigation"][0]["depends_on"] = ["freeze-acess"]
    path, error = refused(tmp_path, data)
    assert error.source == path
    assert error.field == "phases.investigation[0] (assess-notifiability).depends_on"
    assert error.value == "freeze-acess"
    assert "'freeze-acess'" in str(error) and "no step" in str(error)


def test_depending_on_a_step_of_a_later_phase_is_refused(tmp_path):
    data = variant()
    data["phases"]["investigation"][0]["depends_on"] = ["notify-counterparty"]
    path, error = refused(tmp_path, data)
    text = str(error)
    assert path in text and "(assess-notifiability).depends_on" in text
    assert "'notify-counterparty'" in text and "later phase notification" in text


def test_an_unknown_role_is_refused_naming_the_step_and_the_role(tmp_path):
    data = variant()
    data["phases"]["remediation"][0]["owner"]["role"] = "ceo"
    path, error = refused(tmp_path, data)
    assert error.field == "phases.remediation[0] (rotate-credentials).owner.role"
    assert path in str(error) and "'ceo'" in str(error) and "incident_lead" in str(error)


def test_a_party_that_is_not_a_lower_snake_key_is_refused(tmp_path):
    data = variant()
    data["phases"]["remediation"][0]["owner"]["party"] = "Sub Contractor"
    _, error = refused(tmp_path, data)
    assert "(rotate-credentials).owner.party" in str(error) and "'Sub Contractor'" in str(error)


def test_a_duplicate_step_id_is_refused_where_it_repeats(tmp_path):
    data = variant()
    data["phases"]["remediation"].append(step("freeze-access"))
    path, error = refused(tmp_path, data)
    assert error.field == "phases.remediation[1] (freeze-access).id"
    assert path in str(error) and "'freeze-access'" in str(error) and "phases.containment[0]" in str(error)


def test_a_missing_phase_is_refused(tmp_path):
    data = variant()
    del data["phases"]["remediation"]
    data["phases"]["notification"][0]["depends_on"] = ["preserve-evidence"]
    path, error = refused(tmp_path, data)
    assert path in str(error) and error.field == "phases" and "'remediation'" in str(error)


def test_phases_out_of_order_are_refused(tmp_path):
    data = variant()
    phases = data["phases"]
    data["phases"] = {k: phases[k] for k in ("containment", "remediation", "investigation", "notification")}
    path, error = refused(tmp_path, data)
    assert path in str(error) and "out of order" in str(error)
    assert "containment, remediation, investigation, notification" in str(error)


def test_an_unknown_phase_is_refused(tmp_path):
    data = variant()
    data["phases"]["recovery"] = []
    _, error = refused(tmp_path, data)
    assert "'recovery'" in str(error)


def test_bad_yaml_is_refused_with_the_file_and_line(tmp_path):
    path, error = refused(tmp_path, "name: tiny\nphases: [containment\n")
    assert path in str(error) and "not valid YAML" in str(error) and "line" in str(error)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    path, error = refused(tmp_path, "- just\n- a list\n")
    assert path in str(error)


def test_a_gate_field_of_unknown_type_is_refused_naming_step_field_and_type(tmp_path):
    data = variant()
    data["phases"]["investigation"][0]["gate"]["fields"]["notifiable"]["type"] = "boolean"
    path, error = refused(tmp_path, data)
    assert error.field == "phases.investigation[0] (assess-notifiability).gate.fields.notifiable.type"
    assert path in str(error) and "'boolean'" in str(error)


@pytest.mark.parametrize(
    ("field", "spec", "expected"),
    [
        ("summary", {"type": "text", "label": "S", "stamps": "assessed_at"}, "stamps needs a bool field"),
        ("risk", {"type": "text", "label": "R", "sets": "risk"}, "sets: risk needs a choice field"),
        ("risk", {"type": "choice", "label": "R", "choices": ["grave"], "sets": "risk"}, "grave"),
        ("level", {"type": "choice", "label": "L"}, "needs choices"),
        ("flag", {"type": "bool", "label": "F", "sets": "verdict"}, "'verdict'"),
        ("flag", {"type": "bool", "label": "F", "stamps": "decided_at"}, "'decided_at'"),
    ],
)
def test_a_gate_field_that_cannot_do_what_it_says_is_refused(tmp_path, field, spec, expected):
    data = variant()
    data["phases"]["investigation"][0]["gate"]["fields"] = {field: spec}
    path, error = refused(tmp_path, data)
    assert path in str(error) and "(assess-notifiability).gate" in str(error) and expected in str(error)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        ({"from": "opened", "hours": 2, "obligation": {"audience": "regulator"}}, "exactly one of from"),
        ({"from": "noticed", "hours": 2}, "'noticed'"),
        ({"from": "opened"}, "needs hours or minutes"),
        ({"obligation": {"audience": "press"}}, "'press'"),
        ({"obligation": {"rule": "gdpr-33", "audience": "regulator"}}, "exactly one of rule"),
        ({"obligation": {"audience": "regulator"}, "hours": 3}, "takes before_hours"),
        ({"from": "opened", "hours": -1}, "-1"),
    ],
)
def test_a_malformed_due_time_is_refused(tmp_path, due, expected):
    data = variant()
    data["phases"]["remediation"][0]["due"] = due
    path, error = refused(tmp_path, data)
    assert path in str(error) and "(rotate-credentials).due" in str(error) and expected in str(error)


@pytest.mark.parametrize(
    ("gate", "expected"),
    [
        ({"type": "input", "prompt": "?"}, "needs fields"),
        ({"type": "confirm"}, "needs a prompt"),
        ({"type": "approve", "prompt": "?"}, "'approve'"),
        ({"type": "confirm", "prompt": "?", "fields": {"x": {"type": "bool", "label": "X"}}}, "no fields"),
    ],
)
def test_a_malformed_gate_is_refused(tmp_path, gate, expected):
    data = variant()
    data["phases"]["remediation"][0]["gate"] = gate
    _, error = refused(tmp_path, data)
    assert "(rotate-credentials).gate" in str(error) and expected in str(error)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("version", "1.0", "semantic version"),
        ("name", "Tiny Playbook", "playbook name"),
        ("kind", "Leak!", "kind"),
    ],
)
def test_a_bad_header_is_refused_naming_the_field(tmp_path, key, value, expected):
    data = variant()
    data[key] = value
    path, error = refused(tmp_path, data)
    assert error.field == key and path in str(error) and repr(value) in str(error) and expected in str(error)


def test_an_unknown_step_key_is_refused(tmp_path):
    data = variant()
    data["phases"]["containment"][1]["deadline"] = "soon"
    _, error = refused(tmp_path, data)
    assert error.field == "phases.containment[1] (preserve-evidence).deadline"


def test_a_step_id_that_is_not_a_slug_is_refused(tmp_path):
    data = variant()
    data["phases"]["containment"][1]["id"] = "Preserve Evidence"
    _, error = refused(tmp_path, data)
    assert "phases.containment[1] (Preserve Evidence).id" in str(error)


def test_a_playbook_built_in_code_is_checked_too():
    data = variant()
    data["phases"]["investigation"][0]["depends_on"] = ["notify-counterparty"]
    with pytest.raises(ValueError, match="later phase"):
        Playbook.model_validate(data)


def test_parse_playbook_names_the_given_source():
    data = variant()
    data["phases"]["containment"][0]["owner"]["role"] = "cfo"
    with pytest.raises(InputError, match=r"^workspace/p\.yaml: phases\.containment\[0\] \(freeze-access\)"):
        parse_playbook(data, "workspace/p.yaml")

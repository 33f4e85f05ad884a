"""Answers at a gate: coerced from what people type, refused with step, field and value when wrong,
and turned into the facts they set and the instants they stamp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from breachops.errors import InputError
from breachops.playbooks import Gate, load_playbook, parse_jurisdiction_counts

AT = datetime(2026, 3, 2, 10, 15, tzinfo=timezone(timedelta(hours=1)))

GATE = Gate.model_validate(
    {
        "type": "input",
        "prompt": "Tell us",
        "fields": {
            "notifiable": {"type": "bool", "label": "Notifiable", "stamps": "assessed_at"},
            "records": {"type": "int", "label": "Records", "min": 0},
            "risk": {
                "type": "choice",
                "label": "Risk",
                "choices": ["none", "low", "likely", "high"],
                "sets": "risk",
            },
            "categories": {
                "type": "choice",
                "label": "Categories",
                "multiple": True,
                "choices": ["personal", "source_code", "trade_secret"],
                "sets": "data_categories",
            },
            "where": {"type": "text", "label": "Where", "sets": "jurisdictions", "required": False},
            "report": {"type": "url", "label": "Report", "required": False},
            "evidence": {"type": "urls", "label": "Evidence", "required": False},
            "found_at": {"type": "datetime", "label": "Found", "required": False},
            "note": {"type": "text", "label": "Note", "required": False},
        },
    }
)
VALID = {"notifiable": "yes", "records": "12", "risk": "likely", "categories": "personal, source_code"}


def answer(**changes):
    return GATE.validate_answer({**VALID, **changes}, step_id="assess-notifiability", source="cli")


def refusal(**changes) -> InputError:
    with pytest.raises(InputError) as caught:
        answer(**changes)
    return caught.value


def test_typed_strings_are_coerced_to_their_field_types():
    got = answer(
        report=" https://cases.example/INC-2026-0007 ",
        evidence="https://a.example/1, https://b.example/2\nhttps://c.example/3",
        found_at="2026-03-01T22:00:00-03:00",
        where="DE=120, uk: 4, FR",
    )
    assert got["notifiable"] is True and got["records"] == 12 and got["risk"] == "likely"
    assert got["categories"] == ["personal", "source_code"]
    assert got["report"] == "https://cases.example/INC-2026-0007"
    assert got["evidence"] == ["https://a.example/1", "https://b.example/2", "https://c.example/3"]
    assert got["found_at"] == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert got["note"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("yes", True), ("No", False), ("TRUE", True), ("false", False), ("y", True), ("0", False), (True, True)],
)
def test_yes_no_and_true_false_are_booleans(text, expected):
    assert answer(notifiable=text)["notifiable"] is expected


def test_native_values_pass_through():
    got = answer(notifiable=False, records=7, categories=["trade_secret"], evidence=["https://a.example"])
    assert (got["notifiable"], got["records"], got["categories"]) == (False, 7, ["trade_secret"])


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"notifiable": "maybe"}, "notifiable", "maybe"),
        ({"records": "twelve"}, "records", "twelve"),
        ({"records": "1.5"}, "records", "1.5"),
        ({"records": True}, "records", True),
        ({"records": "-3"}, "records", "-3"),
        ({"risk": "extreme"}, "risk", "extreme"),
        ({"categories": "personal, health"}, "categories", "personal, health"),
        ({"report": "ftp://files.example/r"}, "report", "ftp://files.example/r"),
        ({"report": "cases/INC-7"}, "report", "cases/INC-7"),
        (
            {"evidence": "https://a.example javascript:alert(1)"},
            "evidence",
            "https://a.example javascript:alert(1)",
        ),
        ({"found_at": "2026-03-01T22:00:00"}, "found_at", "2026-03-01T22:00:00"),
        ({"found_at": "yesterday"}, "found_at", "yesterday"),
        ({"found_at": "9999-12-31T23:00:00-05:00"}, "found_at", "9999-12-31T23:00:00-05:00"),
        ({"found_at": "0001-01-01T00:00:00+14:00"}, "found_at", "0001-01-01T00:00:00+14:00"),
        ({"where": "DE=many"}, "where", "DE=many"),
        ({"where": "XX=3"}, "where", "XX=3"),
        ({"note": 42}, "note", 42),
    ],
)
def test_a_wrong_value_is_refused_naming_the_step_field_and_value(changes, field, value):
    error = refusal(**changes)
    assert error.source == "cli"
    assert error.field == f"assess-notifiability.{field}"
    assert error.value == value
    assert "assess-notifiability" in str(error) and repr(value) in str(error)


def test_a_number_too_long_to_be_a_count_is_refused_as_not_a_whole_number():
    error = refusal(records="9" * 5000)
    assert error.field == "assess-notifiability.records"
    assert "expected a whole number" in error.problem


def test_a_choice_not_in_the_list_is_refused_with_the_choices():
    error = refusal(risk="extreme")
    assert "none, low, likely, high" in str(error)


@pytest.mark.parametrize("missing", [None, "", "   ", []])
def test_a_missing_required_field_is_refused(missing):
    error = refusal(risk=missing)
    assert error.field == "assess-notifiability.risk" and "required" in str(error)


def test_a_required_field_left_out_entirely_is_refused():
    with pytest.raises(InputError, match=r"assess-notifiability\.records: required"):
        GATE.validate_answer(
            {"notifiable": "no", "risk": "low", "categories": "personal"},
            step_id="assess-notifiability",
            source="cli",
        )


def test_an_unknown_field_is_refused_naming_it_and_the_known_fields():
    error = refusal(notifable="yes")
    assert error.field == "assess-notifiability.notifable"
    assert "'yes'" in str(error) and "notifiable" in str(error) and "unknown field" in str(error)


def test_an_answer_that_is_not_a_mapping_is_refused():
    with pytest.raises(InputError, match="assess-notifiability"):
        GATE.validate_answer(["yes"], step_id="assess-notifiability", source="cli")  # type: ignore[arg-type]


def test_a_confirm_gate_accepts_a_bare_confirmation_and_keeps_a_note():
    gate = Gate.model_validate({"type": "confirm", "prompt": "Done?"})
    assert gate.validate_answer({}, step_id="freeze-access", source=None) == {"confirmed": True, "note": None}
    got = gate.validate_answer(
        {"confirmed": "yes", "note": "tokens revoked"}, step_id="freeze-access", source=None
    )
    assert got == {"confirmed": True, "note": "tokens revoked"}


def test_a_confirm_gate_refuses_a_negative_confirmation_and_unknown_fields():
    gate = Gate.model_validate({"type": "confirm", "prompt": "Done?"})
    with pytest.raises(InputError, match=r"freeze-access\.confirmed: the step was not confirmed"):
        gate.validate_answer({"confirmed": "no"}, step_id="freeze-access", source=None)
    with pytest.raises(InputError, match=r"freeze-access\.risk"):
        gate.validate_answer({"risk": "high"}, step_id="freeze-access", source=None)


def test_a_step_without_a_gate_takes_no_answer():
    gate = Gate.model_validate("none")
    assert gate.validate_answer(None, step_id="x-step", source=None) == {}
    with pytest.raises(InputError, match="takes no answer"):
        gate.validate_answer({"done": True}, step_id="x-step", source=None)


def test_fact_changes_copy_set_answers_into_facts():
    got = GATE.fact_changes(answer(where="DE=120, BR, EU"), AT)
    assert got["risk"] == "likely"
    assert got["data_categories"] == ["personal", "source_code"]
    assert got["jurisdictions"] == [
        {"code": "DE", "affected": 120},
        {"code": "BR", "affected": None},
        {"code": "EU", "affected": None},
    ]


def test_a_true_answer_stamps_its_fact_with_the_instant_in_utc():
    got = GATE.fact_changes(answer(notifiable="yes"), AT)
    assert got["assessed_at"] == datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    assert got["assessed_at"].tzinfo == UTC


def test_a_false_answer_stamps_nothing():
    got = GATE.fact_changes(answer(notifiable="no"), AT)
    assert "assessed_at" not in got
    assert got["risk"] == "likely"


def test_fields_that_set_nothing_change_no_facts():
    got = GATE.fact_changes(answer(note="hello", report="https://r.example"), AT)
    assert set(got) == {"risk", "data_categories", "assessed_at"}


def test_fact_changes_needs_an_aware_instant():
    with pytest.raises(ValueError, match="timezone-aware"):
        GATE.fact_changes(answer(), datetime(2026, 3, 2, 9, 0))


def test_step_validate_answer_names_its_own_step():
    step = load_playbook("confidential-information-leak").step("assess-materiality")
    with pytest.raises(InputError) as caught:
        step.validate_answer({"material": "perhaps", "rationale": "r"}, "cli")
    assert caught.value.field == "assess-materiality.material" and "'perhaps'" in str(caught.value)
    changes = step.gate.fact_changes(step.validate_answer({"material": "true", "rationale": "r"}, "cli"), AT)
    assert changes == {"material_at": AT.astimezone(UTC)}


def test_jurisdiction_counts_are_normalised_and_refuse_repeats():
    assert parse_jurisdiction_counts("uk=3; us-ca: 10") == [
        {"code": "GB", "affected": 3},
        {"code": "US-CA", "affected": 10},
    ]
    with pytest.raises(ValueError, match="DE is given twice"):
        parse_jurisdiction_counts("DE=1, de=2")

"""A value of the wrong kind is refused, never coerced: a typo must not move a deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breachops.config.agreements import parse_agreement
from breachops.config.reminders import ReminderSettings
from breachops.config.rule_files import load_catalogue
from breachops.config.rule_models import Rule
from breachops.config.settings import load_settings
from breachops.config.yaml import parse_yaml
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts, parse_facts
from breachops.errors import InputError

AWARE = "aware_at: 2026-03-28T09:00:00+01:00\n"


def facts_error(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_facts(parse_yaml(text, "facts.yaml"), "facts.yaml")
    assert caught.value.source == "facts.yaml"
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("aware_at: 2026\n", "aware_at"),  # lax pydantic: 2026 seconds after 1970-01-01
        ('aware_at: "2026"\n', "aware_at"),
        ("aware_at: true\n", "aware_at"),
        ("aware_at: 1.5\n", "aware_at"),
        (AWARE + "discovered_at: 20260328\n", "discovered_at"),
        (AWARE + "jurisdictions: [{code: DE, affected: true}]\n", "jurisdictions[0].affected"),
        (AWARE + 'jurisdictions: [{code: DE, affected: "12"}]\n', "jurisdictions[0].affected"),
        (AWARE + "jurisdictions: [{code: DE, affected: 12.0}]\n", "jurisdictions[0].affected"),
        (AWARE + "jurisdictions: [{code: DE, affected: yes}]\n", "jurisdictions[0].affected"),
        (AWARE + "jurisdictions: [{code: DE, affected: .nan}]\n", "jurisdictions[0].affected"),
        (AWARE + "jurisdictions: [{code: DE, affected: .inf}]\n", "jurisdictions[0].affected"),
        (AWARE + "jurisdictions: [{code: DE, affected: 10000000000001}]\n", "jurisdictions[0].affected"),
        (AWARE + "jurisdictions: [{code: DE, affected: -1}]\n", "jurisdictions[0].affected"),
        (AWARE + "risk: no\n", "risk"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_naming_the_field(text: str, field: str) -> None:
    assert facts_error(text).field == field


def test_yes_is_not_a_count_and_the_error_says_what_was_given() -> None:
    error = facts_error(AWARE + "jurisdictions: [{code: DE, affected: yes}]\n")
    assert error.value == "yes"
    assert "not a whole number" in str(error)


def test_a_huge_count_is_refused_as_no_count_of_people() -> None:
    error = facts_error(AWARE + "jurisdictions: [{code: DE, affected: 99999999999999999999}]\n")
    assert "cannot be a count of people" in error.problem


def test_nan_is_refused() -> None:
    assert "NaN" in str(facts_error(AWARE + "jurisdictions: [{code: DE, affected: .nan}]\n"))


def test_year_9999_aware_at_is_refused_before_the_engine_adds_72_hours() -> None:
    # GDPR Art. 33(1) counts 72 hours from awareness; from 9999-12-31 that passes datetime's last year.
    error = facts_error("aware_at: 9999-12-31T12:00:00Z\njurisdictions: [DE]\n")
    assert error.field == "aware_at"
    assert "out of range" in error.problem and "8999" in error.problem


def test_the_last_accepted_year_still_counts_every_window_of_the_catalogue() -> None:
    catalogue = load_catalogue()
    codes = sorted({rule.jurisdiction for rule in catalogue})
    when = "8999-12-31T23:59:59-12:00"
    facts = parse_facts(
        {
            **{
                f"{event}_at": when for event in ("aware", "discovered", "assessed", "material", "classified")
            },
            "jurisdictions": codes,
            "sectors": ["financial", "health", "public_company", "essential_entity", "telecom"],
        },
        "facts",
    )
    result = assess(facts, catalogue, now=datetime(2026, 1, 1, tzinfo=UTC))
    gdpr = next(o for o in result.obligations if o.rule_id == "eu-gdpr-art33-authority")
    assert gdpr.due == facts.aware_at + timedelta(hours=72)


def test_year_1_with_a_positive_offset_is_refused_not_overflowing() -> None:
    assert facts_error("aware_at: 0001-01-01T00:00:00+14:00\n").field == "aware_at"


def test_instants_given_as_datetimes_or_iso_text_are_accepted() -> None:
    as_text = parse_facts({"aware_at": "2026-03-28T09:00:00+01:00"}, "f")
    as_datetime = parse_facts({"aware_at": datetime(2026, 3, 28, 8, tzinfo=UTC)}, "f")
    assert as_text == as_datetime
    assert isinstance(as_text, Facts)


RULE = {
    "id": "xx-test",
    "jurisdiction": "DE",
    "instrument": "Test Act",
    "article": "§ 1",
    "title": "Test",
    "audience": "regulator",
    "recipient": "authority",
    "clock": "aware",
    "window": {"hours": 72},
    "source": "https://example.org/law",
    "reviewed": "2026-12-01",
}


@pytest.mark.parametrize(
    "change",
    [
        {"window": {"hours": "72"}},
        {"window": {"hours": True}},
        {"window": {"hours": 72.5}},
        {"window": {"hours": 10**9}},  # would overflow an instant, and is no window of any law
        {"window": {"business_days": 10**9, "holidays": "DE"}},
        {"window": {"calendar_days": 3, "include_trigger_day": "yes"}},
        {"reviewed": 2026},
        {"reviewed": "2026-12-01T00:00:00Z"},
        {"confirmed": "no"},
        {"applies_when": {"affected_at_least": "500"}},
    ],
)
def test_rule_fields_are_strict(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Rule.model_validate({**RULE, **change})


def test_agreement_effective_date_is_strict() -> None:
    with pytest.raises(InputError) as caught:
        parse_agreement({"id": "a", "title": "T", "governing_law": "DE", "effective": 2026}, "a.yaml")
    assert caught.value.field == "effective"


@pytest.mark.parametrize(
    "data",
    [
        {"before_hours": ["24"]},
        {"before_hours": [True]},
        {"before_hours": [float("nan")]},
        {"overdue_every_hours": "4"},
        {"escalate": "no"},
        {"escalate": 0},
    ],
)
def test_reminder_settings_are_strict(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ReminderSettings.model_validate(data)


def test_settings_target_hours_are_whole_numbers(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text('target_hours: {eu-gdpr-art34-individuals: "48"}\n', "utf-8")
    with pytest.raises(InputError) as caught:
        load_settings({"BREACHOPS_WORKSPACE": str(tmp_path)})
    assert caught.value.field == "target_hours.eu-gdpr-art34-individuals"


@pytest.mark.parametrize("text", ["1000000000d", "99999999999999999999h", "3661d", "9" * 100 + "m"])
def test_a_scenario_span_beyond_ten_years_is_refused_not_overflowing(text: str) -> None:
    from breachops.playbooks.scenario_time import parse_span

    with pytest.raises(ValueError) as caught:
        parse_span(text)
    assert type(caught.value) is ValueError
    assert parse_span("3660d").days == 3660

"""The catalogue reaches every jurisdiction it sets out to: each US state, DC, PR, GU and VI, each EEA
state, and each of the 45 largest economies is covered by a rule or recorded as having no general duty;
and the README's Coverage section is the one the catalogue generates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from breachops.config.coverage import Coverage
from breachops.config.coverage_readme import BEGIN, COMMAND, END, README, coverage_section
from breachops.config.rule_files import load_catalogue
from breachops.deadlines.engine import assess
from breachops.deadlines.models import parse_facts

CATALOGUE = load_catalogue()


def _codes(text: str) -> list[str]:
    return text.split()


US = [
    *(f"US-{s}" for s in _codes(
        "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM "
        "NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
    )),
    "US-DC", "US-PR", "US-GU", "US-VI",
]  # fmt: skip
EEA = _codes("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO")
# The 45 largest economies by nominal GDP, IMF World Economic Outlook, October 2025, series NGDPD, year
# 2025, in that order (https://www.imf.org/en/Publications/WEO/weo-database/2025/october; the list is
# the one at the top of breachops/config/rules/world_americas.yaml).
LARGEST_45 = _codes(
    "US CN DE JP IN GB FR IT RU CA BR ES MX KR AU TR ID NL SA PL CH TW BE IE SE AR IL SG AE AT TH NO PH "
    "VN BD MY DK CO HK ZA RO PK CZ EG CL"
)


def test_the_target_lists_are_complete():
    assert len(US) == 54 and len(set(US)) == 54  # 50 states, DC, Puerto Rico, Guam, US Virgin Islands
    assert len(EEA) == 30 and len(set(EEA)) == 30  # 27 EU members, Iceland, Liechtenstein, Norway
    assert len(LARGEST_45) == 45 and len(set(LARGEST_45)) == 45


@pytest.mark.parametrize("code", sorted({*US, *EEA, *LARGEST_45}))
def test_every_target_jurisdiction_is_covered_or_recorded_as_no_duty(code: str):
    found = Coverage(CATALOGUE).of(code)
    assert found.status in ("covered", "no_duty"), f"{code}: {found.status} ({found.why})"


def test_a_thousand_residents_in_each_us_jurisdiction_give_each_an_obligation_of_its_own():
    facts = parse_facts(
        {
            "aware_at": "2026-11-20T10:00:00-05:00",
            "jurisdictions": [{"code": code, "affected": 1000} for code in US],
            "data_categories": ["personal"],
        }
    )
    result = assess(facts, CATALOGUE, now=datetime(2026, 11, 25, tzinfo=UTC))
    reached = {o.jurisdiction for o in result.obligations}
    assert [code for code in US if code not in reached] == []
    assert not [g for g in result.gaps if g in US]


def test_the_readme_coverage_section_is_the_one_the_catalogue_generates():
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"README.md lacks the coverage markers; see {COMMAND}"
    shown = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert shown == coverage_section(CATALOGUE), (
        f"README.md's Coverage section is out of date: run `{COMMAND}` and commit README.md"
    )

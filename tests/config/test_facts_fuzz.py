"""Whatever bytes a facts file holds, reading it gives valid Facts or one clear line: never a crash."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from breachops.config.rule_files import load_catalogue
from breachops.config.yaml import parse_yaml
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts, parse_facts
from breachops.errors import InputError

CATALOGUE = load_catalogue()
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)

# Pieces that make YAML-ish text interesting: indicators, anchors, tags, facts' own names and values.
TOKENS = [
    *list(":-[]{}&*!|>'\"#%@`,?~ \n\t.+0123456789TZaeNO"),
    "aware_at: ",
    "discovered_at: ",
    "jurisdictions:",
    "\n  - ",
    "{code: ",
    "affected: ",
    "data_categories: [personal]",
    "risk: ",
    "sectors: [financial]",
    "2026-03-28T09:00:00+01:00",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+14:00",
    "2026",
    "NO",
    "yes",
    "true",
    ".nan",
    ".inf",
    "99999999999999999999",
    "&a ",
    "*a",
    "<<: ",
    "!!binary ",
    "!!int ",
    "!!str ",
    "!!python/object:os.system ",
    "---\n",
    "...\n",
    "\x00",
    "\x1b",
    "\u2028",
    "\ufeff",
    "é",
]
yamlish = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2026-03-28T09:00:00+01:00",
            "2026-03-28",
            "9999-12-31T23:00:00Z",
            "T+2h",
            "NO",
            "DE",
            "US-CA",
            "high",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
fact_names = st.sampled_from(
    [*Facts.model_fields, "code", "affected", "extra"],
)
documents = st.dictionaries(fact_names, values, max_size=6).map(
    lambda data: yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
)


def check(data: bytes | str) -> None:
    try:
        facts = parse_facts(parse_yaml(data, "fuzz.yaml"), "fuzz.yaml")
    except InputError as error:
        message = str(error)
        assert message and "\n" not in message and "\r" not in message, message
        assert len(message) < 2000
        return
    assert isinstance(facts, Facts)
    for instant in (facts.aware_at, facts.discovered_at, facts.assessed_at):
        assert instant is None or instant.tzinfo is not None
    for place in facts.jurisdictions:
        assert place.affected is None or (isinstance(place.affected, int) and not math.isnan(place.affected))
    assess(facts, CATALOGUE, now=NOW)  # valid facts can always be counted from


@FUZZ
@given(yamlish)
def test_yaml_ish_text_gives_facts_or_one_clear_line(text: str) -> None:
    check(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_give_facts_or_one_clear_line(data: bytes) -> None:
    check(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(documents)
def test_documents_with_facts_names_and_random_values_give_facts_or_one_clear_line(text: str) -> None:
    check(text)


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.fixed_dictionaries(
        {"aware_at": st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())},
        optional={"jurisdictions": st.lists(st.sampled_from(["DE", "NO", "BR", "US-CA", "EU"]), max_size=3)},
    )
)
def test_any_aware_instant_is_accepted_or_refused_cleanly(data: dict[str, object]) -> None:
    check(yaml.safe_dump(data))

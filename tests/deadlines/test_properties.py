"""Properties of the engine over random incidents and the whole shipped catalogue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from breachops.config.jurisdictions import MEMBERSHIP, country_of
from breachops.config.rule_files import load_catalogue
from breachops.config.rule_models import CLOCK_EVENTS, DATA_CATEGORIES, RISK_LEVELS, SECTORS
from breachops.deadlines.calendars import is_business_day
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts

CATALOGUE = load_catalogue()
CODES = sorted(CATALOGUE.jurisdictions | {"DE", "FR", "US-CA", "US-TX", "IT", "NO"})
NOW = datetime(2026, 6, 1, tzinfo=UTC)

offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
instants = st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2035, 12, 31), timezones=offsets)
jurisdiction = st.fixed_dictionaries(
    {"code": st.sampled_from(CODES), "affected": st.none() | st.integers(min_value=0, max_value=2_000_000)}
)


@st.composite
def incident_facts(draw) -> Facts:
    aware = draw(instants)
    later = {
        f"{event}_at": aware + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
        for event in CLOCK_EVENTS
        if event != "aware" and draw(st.booleans())
    }
    codes = draw(st.lists(jurisdiction, min_size=1, max_size=4, unique_by=lambda j: j["code"]))
    return Facts.model_validate(
        {
            "aware_at": aware,
            **later,
            "jurisdictions": codes,
            "data_categories": draw(st.lists(st.sampled_from(DATA_CATEGORIES), unique=True, max_size=4)),
            "sectors": draw(st.lists(st.sampled_from(SECTORS), unique=True, max_size=3)),
            "risk": draw(st.none() | st.sampled_from(RISK_LEVELS)),
            "acting_as": draw(st.sampled_from(["controller", "processor"])),
        }
    )


@settings(max_examples=300, deadline=None)
@given(incident_facts())
def test_no_obligation_is_ever_due_before_its_clock_starts(f):
    for o in assess(f, CATALOGUE, now=NOW).obligations:
        if o.due is not None:
            assert o.clock_start is not None
            assert o.due >= o.clock_start, o
            assert o.due.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(incident_facts(), jurisdiction)
def test_adding_a_jurisdiction_never_removes_or_delays_another_obligation(f, extra):
    before = {o.key: o.due for o in assess(f, CATALOGUE, now=NOW).obligations}
    grown = f.model_copy(update={"jurisdictions": (*f.jurisdictions, type(f.jurisdictions[0])(**extra))})
    after = {o.key: o.due for o in assess(grown, CATALOGUE, now=NOW).obligations}
    for key, due in before.items():
        assert key in after, key
        # A bloc's rule counts its days in every member state concerned and takes the earliest end:
        # a new member state may bring it forward (PT, then CZ: DORA's final report ends at the end of
        # Prague's day, an hour before Lisbon's), never push it back.
        assert after[key] == due or (due is not None and after[key] is not None and after[key] < due), key


@settings(max_examples=200, deadline=None)
@given(incident_facts())
def test_obligations_are_ordered_strictest_first_and_the_result_is_pure(f):
    first = assess(f, CATALOGUE, now=NOW)
    dated = [o.due for o in first.obligations if o.due is not None]
    assert dated == sorted(dated)
    undated = [o.due for o in first.obligations[len(dated) :]]
    assert all(d is None for d in undated)
    assert assess(f, CATALOGUE, now=NOW) == first


@settings(max_examples=200, deadline=None)
@given(incident_facts())
def test_windows_keep_their_counting_rule(f):
    for rule in CATALOGUE:
        stages = {s.name: s for s in rule.stages}
        for o in assess(f, [rule], now=NOW).obligations:
            stage = stages[o.stage]
            if o.due is None or stage.cap is not None:
                continue
            window = stage.window
            if window.hours:
                assert o.due - o.clock_start == timedelta(hours=window.hours)
            if window.business_days:
                zone = ZoneInfo(window.timezone)
                start, end = o.clock_start.astimezone(zone).date(), o.due.astimezone(zone).date()
                counted = sum(
                    is_business_day(start + timedelta(days=i), window.holidays)
                    for i in range(1, (end - start).days + 1)
                )
                assert counted == window.business_days
                assert is_business_day(end, window.holidays)


@settings(max_examples=150, deadline=None)
@given(incident_facts())
def test_every_candidate_is_an_obligation_or_explained(f):
    a = assess(f, CATALOGUE, now=NOW)
    reached = {r.id for r in CATALOGUE if any(r.reaches(j.code) for j in f.jurisdictions)}
    # A bloc's rule is also a candidate where a country of the facts belonged to the bloc once (the UK).
    once = {
        r.id
        for r in CATALOGUE
        if r.jurisdiction in MEMBERSHIP
        and any(country_of(j.code) in MEMBERSHIP[r.jurisdiction] for j in f.jurisdictions)
    }
    explained = {o.rule_id for o in a.obligations} | {n.rule_id for n in a.not_applicable}
    assert reached <= explained <= reached | once
    assert not {o.rule_id for o in a.obligations} & {n.rule_id for n in a.not_applicable}

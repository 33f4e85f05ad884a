"""Properties of coverage and local calendars over random incidents and the whole shipped catalogue."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from breachops.config.coverage import Coverage
from breachops.config.jurisdictions import BLOCS, MEMBERSHIP, blocs_of, country_of
from breachops.config.rule_files import load_catalogue
from breachops.config.rule_models import CLOCK_EVENTS, DATA_CATEGORIES, RISK_LEVELS, SECTORS
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts

CATALOGUE = load_catalogue()
COVERAGE = Coverage(CATALOGUE)
MEMBERS = sorted(BLOCS["EEA"])
CODES = sorted(
    CATALOGUE.jurisdictions
    | {"DE", "FR", "IT", "NO", "IS", "LI", "GB", "HR", "US-IL", "US-TX", "AQ", "BR-SP"}
)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
STAGES = {(r.id, s.name): s for r in CATALOGUE for s in r.stages}

offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
instants = st.datetimes(min_value=datetime(2012, 1, 1), max_value=datetime(2030, 12, 31), timezones=offsets)
counts = st.none() | st.integers(min_value=0, max_value=2_000_000)


@st.composite
def incident_facts(draw, codes=CODES) -> Facts:
    aware = draw(instants)
    later = {
        f"{event}_at": aware + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)))
        for event in CLOCK_EVENTS
        if event != "aware" and draw(st.booleans())
    }
    places = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=4, unique=True))
    return Facts.model_validate(
        {
            "aware_at": aware,
            **later,
            "jurisdictions": [{"code": c, "affected": draw(counts)} for c in places],
            "data_categories": draw(st.lists(st.sampled_from(DATA_CATEGORIES), max_size=3, unique=True)),
            "sectors": draw(st.lists(st.sampled_from(SECTORS), max_size=2, unique=True)),
            "risk": draw(st.none() | st.sampled_from(RISK_LEVELS)),
        }
    )


@settings(max_examples=150, deadline=None)
@given(incident_facts())
def test_every_jurisdiction_named_is_covered_no_duty_or_named_as_a_gap(f: Facts):
    a = assess(f, CATALOGUE, now=NOW)
    for j in f.jurisdictions:
        day = f.aware_at.date()
        for code in {j.code, country_of(j.code), *blocs_of(j.code, day)}:
            status = COVERAGE.of(code, day).status
            assert status in ("covered", "no_duty") or code in a.gaps, (code, status, a.gaps)


@settings(max_examples=150, deadline=None)
@given(incident_facts())
def test_no_day_or_month_window_ends_at_a_utc_midnight_artefact(f: Facts):
    """A local window ends at the end of a local day of a zone concerned; 23:59:59Z only where that
    zone's offset is zero then (London in winter), never because days were counted on UTC's calendar."""
    for o in assess(f, CATALOGUE, now=NOW).obligations:
        stage = STAGES.get((o.rule_id, o.stage))
        if o.due is None or stage is None or o.window != stage.window.description:
            continue  # contract rules, or a cap that bound instead of the stage's own window
        if not stage.window.local or stage.window.day_end != "end_of_day":
            continue
        assert o.zones, f"{o.key}: a day window of a law is counted in the zone of its jurisdiction"
        ends = {z: o.due.astimezone(ZoneInfo(z)) for z in o.zones}
        assert any(t.time() == time(23, 59, 59) for t in ends.values()), (o.key, o.due, ends)
        if o.due.astimezone(UTC).time() == time(23, 59, 59) and stage.window.timezone != "UTC":
            zero = [z for z, t in ends.items() if t.utcoffset() == timedelta(0) and z != "UTC"]
            assert zero, (o.key, o.due, ends)


@settings(max_examples=120, deadline=None)
@given(incident_facts(), st.sampled_from(MEMBERS), counts)
def test_adding_a_member_state_never_removes_a_bloc_obligation(f: Facts, member: str, affected):
    if member in {j.code for j in f.jurisdictions}:
        return
    before = assess(f, CATALOGUE, now=NOW)
    data = f.model_dump(mode="json")
    data["jurisdictions"].append({"code": member, "affected": affected})
    more = Facts.model_validate(data)
    after = assess(more, CATALOGUE, now=NOW)
    bloc_keys = {o.key for o in before.obligations if o.jurisdiction in MEMBERSHIP}
    assert bloc_keys <= {o.key for o in after.obligations}

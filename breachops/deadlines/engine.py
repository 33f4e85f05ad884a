"""The deadline engine: (facts, rules, agreement, now) → obligations, strictest first.

A pure function: no I/O, no clock of its own. Called again whenever a fact changes; the caller keeps
the history. Each rule is worked out once per catalogue (``plans``), and the rules a combination of
jurisdictions meets once per combination (``index``): an assessment only does what its facts make
necessary.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import partial
from operator import attrgetter

from breachops.config.agreements import Agreement
from breachops.config.authorities import Directory, shipped_directory
from breachops.config.catalogue import Catalogue
from breachops.config.coverage import Coverage
from breachops.config.jurisdictions import MEMBERSHIP, blocs_of
from breachops.config.rule_models import Rule
from breachops.config.zones import zone_of
from breachops.deadlines.calendars import tz, window_end
from breachops.deadlines.conditions import Place, facts_read
from breachops.deadlines.consistency import clock_warnings
from breachops.deadlines.index import CONTRACT, GAPS_KEPT, Layout, RuleIndex
from breachops.deadlines.models import Assessment, Facts, NotApplicable, Obligation, assessment
from breachops.deadlines.obligations import Run, apply
from breachops.deadlines.order import strictest
from breachops.deadlines.plans import RulePlan, plans

__all__ = ["RuleIndex", "assess", "coverage_gaps", "window_end"]


class _Prepared:
    """What does not depend on the facts, worked out once per catalogue and directory."""

    __slots__ = ("coverage", "directory", "index")

    def __init__(self, rules: Catalogue | Sequence[Rule], directory: Directory):
        self.directory = directory
        self.index = RuleIndex(rules, directory)
        self.coverage = Coverage(rules)


_CACHE: dict[tuple[int, int], tuple[object, Directory | None, _Prepared]] = {}
# The last catalogue asked for, with its directory and what was prepared for it: replaced whole.
_LAST: tuple[object, object, _Prepared | None] = (None, None, None)


def _directory(rules: Catalogue | Sequence[Rule], directory: Directory | None) -> Directory:
    if directory is not None:
        return directory
    attached = rules.directory if isinstance(rules, Catalogue) else None
    return attached if attached is not None else shipped_directory()


def _prepared(rules: Catalogue | Sequence[Rule], directory: Directory | None = None) -> _Prepared:
    # A catalogue is immutable, so its plans, index and coverage are built once (per directory asked
    # for) and kept beside it; the last asked for first.
    global _LAST
    last = _LAST
    if last[0] is rules and last[1] is directory and last[2] is not None:
        return last[2]
    key = (id(rules), id(directory))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is rules and cached[1] is directory:
        _LAST = cached
        return cached[2]
    prepared = _Prepared(rules, _directory(rules, directory))
    if isinstance(rules, Catalogue):
        _CACHE[key] = _LAST = (rules, directory, prepared)
    return prepared


_Contract = tuple[tuple[tuple[RulePlan, int], ...], tuple[str, ...]]
_CONTRACT_CACHE: dict[int, tuple[Agreement, Directory, _Contract]] = {}


def _contract_plans(agreement: Agreement, directory: Directory) -> _Contract:
    # An agreement is immutable; its clauses become rule plans (and its people's zones a tuple) once.
    cached = _CONTRACT_CACHE.get(id(agreement))
    if cached is None or cached[0] is not agreement or cached[1] is not directory:
        contract = tuple((plan, CONTRACT) for plan in plans(agreement.contract_rules(), directory))
        cached = (agreement, directory, (contract, agreement.zones()))
        _CONTRACT_CACHE[id(agreement)] = cached
    return cached[2]


def _local_day(instant: datetime, zone: str) -> date:
    return instant.astimezone(tz(zone)).date()


def assess(
    facts: Facts,
    rules: Catalogue | Sequence[Rule],
    *,
    now: datetime,
    agreement: Agreement | None = None,
    zones: Sequence[str] = (),
    directory: Directory | None = None,
) -> Assessment:
    """Every obligation the facts give rise to, strictest (earliest due) first, every candidate rule
    of the incident's jurisdictions that does not apply (with the reason), the jurisdictions the
    catalogue knows nothing of, and the facts that contradict one another.

    ``directory`` names the national authorities a bloc's rule is sent to; by default the one the
    catalogue was loaded with (the shipped directory for rules given as a list)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    prepared = _prepared(rules, directory)
    jurisdictions = facts.jurisdictions
    codes = tuple(map(_code, jurisdictions))
    layout = prepared.index.layout(codes)
    candidates = layout.candidates
    party_zones = tuple(zones)
    if agreement is not None:
        contract, agreement_zones = _contract_plans(agreement, prepared.directory)
        candidates = layout.with_contract(contract)
        party_zones += agreement_zones
    # Place(code, affected, zone) for each, made without a call through Python.
    places = list(map(_place, zip(codes, map(_affected, jurisdictions), layout.zones, strict=True)))
    # Rules reaching the same places share one list, and with it its wording.
    pick = places.__getitem__
    subsets = [list(map(pick, reach)) for reach in layout.subsets]
    read = facts_read(facts)

    run = Run(facts, places, now, party_zones)
    clocks = run.clocks
    affected_text = run.affected_text
    # Candidates (an agreement's clauses among them) come by jurisdiction and id: the rules that do
    # not apply are listed in that order as met. The clauses' obligations follow the others' before
    # they are sorted, so that any two the same by ``strictest`` keep the order they always had.
    obligations: list[Obligation] = []
    clauses: list[Obligation] = []
    not_applicable: list[NotApplicable] = []
    for plan, slot in candidates:
        out = obligations
        if slot >= 0:
            where = subsets[slot]
        elif slot == CONTRACT:
            where = places
            out = clauses
        else:
            start = clocks[plan.first_clock] or now
            where = _bloc_reach(plan.rule.jurisdiction, start, layout, subsets, run)
            if not where:
                # Only a bloc's rule can miss: the country had left it, or not yet joined, that day.
                day, bloc = start.date().isoformat(), plan.rule.jurisdiction
                missed = f"{', '.join(codes)} not a member of the {bloc} on {day} (the clock's day)"
                not_applicable.append(plan.refused(missed))
                continue
        why, reasons = plan.outcome(read, where, affected_text)
        if why is not None:
            # Most reasons repeat: their entry is looked up here rather than through a call.
            not_applicable.append(plan.refusals.get(why) or plan.refused(why))
            continue
        apply(plan, run, reasons, where, out, not_applicable)
    obligations += clauses
    obligations.sort(key=strictest)
    return assessment(
        tuple(obligations),
        tuple(not_applicable),
        now.astimezone(UTC),
        _gaps(prepared.coverage, layout, run, facts.aware_at, codes),
        clock_warnings(facts, obligations, run.stamp_of),
    )


def _utc_day(instant: datetime) -> date:
    return instant.date() if instant.tzinfo is UTC else instant.astimezone(UTC).date()


def _bloc_reach(
    bloc: str, start: datetime, layout: Layout, subsets: list[list[Place]], run: Run
) -> list[Place]:
    """The places a bloc's rule reaches (by membership on the local day its clock starts there): the
    layout's answer for the period of the clock's day, but on a day a local day may fall across a
    change of membership."""
    day = _utc_day(start)
    if day in layout.unsteady:
        return run.bloc_reach(bloc, start)
    slot = layout.bloc_slots[bloc][bisect_right(layout.changes, day)]
    return subsets[slot] if slot >= 0 else []


_code = attrgetter("code")
_affected = attrgetter("affected")
_place = partial(tuple.__new__, Place)


def _gaps(
    coverage: Coverage, layout: Layout, run: Run, aware: datetime, codes: tuple[str, ...]
) -> tuple[str, ...]:
    # The gaps depend on the day only through the blocs each place belonged to that day: kept by those,
    # and by period between changes of membership.
    day = aware.date() if aware.tzinfo is UTC else aware.astimezone(UTC).date()
    period = -1 if day in layout.unsteady else bisect_right(layout.changes, day)
    if period >= 0:
        found = layout.period_gaps[period]
        if found is not None:
            return found
        key = layout.period_blocs[period]
    else:
        key = tuple(blocs_of(codes[i], run.day(aware, zone)) for i, zone in layout.members)
    found = layout.gaps.get(key)
    if found is None:
        found = coverage.gaps(codes, {p.code: run.day(aware, p.zone) for p in run.places if p.zone})
        if len(layout.gaps) < GAPS_KEPT:
            layout.gaps[key] = found
    if period >= 0:
        layout.period_gaps[period] = found
    return found


def coverage_gaps(facts: Facts, rules: Catalogue | Sequence[Rule]) -> tuple[str, ...]:
    """The jurisdictions of the facts (their countries and blocs) the catalogue knows nothing of."""
    days = {
        j.code: _local_day(facts.aware_at, zone_of(j.code))
        for j in facts.jurisdictions
        if j.code not in MEMBERSHIP
    }
    return _prepared(rules).coverage.gaps([j.code for j in facts.jurisdictions], days)

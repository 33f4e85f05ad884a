"""The deadline engine: (facts, rules, agreement, now) → obligations, strictest first.

A pure function: no I/O, no clock of its own. Called again whenever a fact changes; the caller keeps
the history. Each rule is worked out once per catalogue (``plans``), and the rules a combination of
jurisdictions meets once per combination (``index``): an assessment only does what its facts make
necessary.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import attrgetter

from breachops.config.agreements import Agreement
from breachops.config.authorities import Directory, shipped_directory
from breachops.config.catalogue import Catalogue
from breachops.config.coverage import Coverage
from breachops.config.jurisdictions import MEMBERSHIP, blocs_of
from breachops.config.rule_models import PERSONAL_CATEGORIES, Rule
from breachops.config.zones import zone_of
from breachops.deadlines.calendars import tz, window_end
from breachops.deadlines.conditions import Place, people_affected
from breachops.deadlines.consistency import clock_warnings
from breachops.deadlines.index import CONTRACT, GAPS_KEPT, Layout, RuleIndex
from breachops.deadlines.models import Assessment, Facts, NotApplicable, Obligation, obligation
from breachops.deadlines.order import strictest
from breachops.deadlines.plans import RulePlan, plans, rule_zones

__all__ = ["RuleIndex", "assess", "coverage_gaps", "window_end"]


class _Prepared:
    """What does not depend on the facts, worked out once per catalogue and directory."""

    __slots__ = ("coverage", "directory", "index")

    def __init__(self, rules: Catalogue | Sequence[Rule], directory: Directory):
        self.directory = directory
        self.index = RuleIndex(rules, directory)
        self.coverage = Coverage(rules)


_CACHE: dict[tuple[int, int], tuple[object, Directory | None, _Prepared]] = {}


def _directory(rules: Catalogue | Sequence[Rule], directory: Directory | None) -> Directory:
    if directory is not None:
        return directory
    attached = rules.directory if isinstance(rules, Catalogue) else None
    return attached if attached is not None else shipped_directory()


def _prepared(rules: Catalogue | Sequence[Rule], directory: Directory | None = None) -> _Prepared:
    # A catalogue is immutable, so its plans, index and coverage are built once (per directory asked
    # for) and kept beside it.
    key = (id(rules), id(directory))
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is rules and cached[1] is directory:
        return cached[2]
    prepared = _Prepared(rules, _directory(rules, directory))
    if isinstance(rules, Catalogue):
        _CACHE[key] = (rules, directory, prepared)
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


class _Run:
    """What one assessment asks many times, worked out once: the clocks, local days, the places each
    rule reaches, window ends, and instants as text."""

    __slots__ = ("clocks", "days", "ends", "in_force_days", "places", "reach", "stamps", "texts", "zone_sets")

    def __init__(self, facts: Facts, places: list[Place]):
        self.clocks: dict[str, datetime | None] = {
            "aware": facts.aware_at,
            "discovered": facts.discovered_at or facts.aware_at,
            "assessed": facts.assessed_at,
            "material": facts.material_at,
            "classified": facts.classified_at,
        }
        self.places = places
        self.days: dict[tuple[datetime, str], date] = {}
        self.reach: dict[tuple[str, datetime], list[Place]] = {}
        self.stamps: dict[datetime, str] = {}
        self.zone_sets: dict[tuple[str, str, int], tuple[str, ...]] = {}
        self.in_force_days: dict[tuple[datetime, tuple[str, ...]], tuple[date, ...]] = {}
        self.texts: dict[int, str] = {}
        self.ends: dict[tuple[object, ...], datetime] = {}

    def affected_text(self, where: list[Place]) -> str:
        """'people affected in DE, FR (1,300)', once per list of places."""
        found = self.texts.get(id(where))
        if found is None:
            found = self.texts[id(where)] = people_affected(where)
        return found

    def days_in(self, instant: datetime, zones: tuple[str, ...]) -> tuple[date, ...]:
        """The local dates of ``instant`` in ``zones``, earliest first."""
        key = (instant, zones)
        found = self.in_force_days.get(key)
        if found is None:
            found = self.in_force_days[key] = tuple(sorted({self.day(instant, zone) for zone in zones}))
        return found

    def zones(self, plan: RulePlan, where: list[Place]) -> tuple[str, ...]:
        """The zones of a bloc's law: of the member states it reaches."""
        # ``where`` lists live as long as the run (kept in ``reach``), so their identity is a key.
        rule = plan.rule
        key = (rule.jurisdiction, rule.kind, id(where))
        found = self.zone_sets.get(key)
        if found is None:
            codes = tuple(p.code for p in where)
            found = self.zone_sets[key] = rule_zones(rule.jurisdiction, rule.kind, codes)
        return found

    def day(self, instant: datetime, zone: str) -> date:
        key = (instant, zone)
        found = self.days.get(key)
        if found is None:
            found = self.days[key] = instant.astimezone(tz(zone)).date()
        return found

    def stamp(self, instant: datetime) -> str:
        found = self.stamps.get(instant)
        if found is None:
            found = self.stamps[instant] = _stamp(instant)
        return found

    def bloc_reach(self, jurisdiction: str, start: datetime) -> list[Place]:
        """The places a bloc's rule reaches: by membership on the local day its clock starts there."""
        key = (jurisdiction, start)
        found = self.reach.get(key)
        if found is None:
            found = self.reach[key] = [
                p
                for p in self.places
                if jurisdiction in blocs_of(p.code, None if p.zone is None else self.day(start, p.zone))
            ]
        return found


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
    codes = tuple(j.code for j in jurisdictions)
    layout = prepared.index.layout(codes)
    candidates = layout.candidates
    party_zones = tuple(zones)
    if agreement is not None:
        contract, agreement_zones = _contract_plans(agreement, prepared.directory)
        candidates += contract
        party_zones += agreement_zones
    places = [
        Place(code, j.affected, zone)
        for code, j, zone in zip(codes, jurisdictions, layout.zones, strict=True)
    ]
    # Rules reaching the same places share one list, and with it its wording.
    subsets = [[places[i] for i in reach] for reach in layout.subsets]
    categories = _categories(facts.data_categories)

    run = _Run(facts, places)
    clocks = run.clocks
    affected_text = run.affected_text
    obligations: list[Obligation] = []
    not_applicable: list[NotApplicable] = []
    for plan, slot in candidates:
        start = clocks[plan.first_clock] or now
        if slot >= 0:
            where = subsets[slot]
        elif slot == CONTRACT:
            where = places
        else:
            where = run.bloc_reach(plan.rule.jurisdiction, start)
            if not where:
                # Only a bloc's rule can miss: the country had left it, or not yet joined, that day.
                day, bloc = start.date().isoformat(), plan.rule.jurisdiction
                why = f"{', '.join(codes)} not a member of the {bloc} on {day} (the clock's day)"
                not_applicable.append(plan.refused(why))
                continue
        verdict = plan.check(facts, categories, where, affected_text)
        if verdict.__class__ is str:
            # Most reasons repeat: their entry is looked up here rather than through a call.
            refusal = plan.refusals.get(verdict)  # type: ignore[call-overload]
            not_applicable.append(refusal or plan.refused(verdict))  # type: ignore[arg-type]
            continue
        _apply(plan, run, verdict, now, start, where, party_zones, obligations, not_applicable)  # type: ignore[arg-type]
    obligations.sort(key=strictest)
    not_applicable.sort(key=_by_place)
    return Assessment(
        tuple(obligations),
        tuple(not_applicable),
        now.astimezone(UTC),
        gaps=_gaps(prepared.coverage, layout, run, facts.aware_at, codes),
        warnings=clock_warnings(facts, obligations),
    )


_by_place = attrgetter("jurisdiction", "rule_id")


@lru_cache(maxsize=4096)
def _categories(named: tuple[str, ...]) -> frozenset[str]:
    # Categories that are personal data count as personal data too.
    categories = frozenset(named)
    return categories | {"personal"} if categories & PERSONAL_CATEGORIES else categories


def _gaps(
    coverage: Coverage, layout: Layout, run: _Run, aware: datetime, codes: tuple[str, ...]
) -> tuple[str, ...]:
    # The gaps depend on the day only through the blocs each place belonged to that day: kept by those.
    places = run.places
    key = tuple(blocs_of(codes[i], run.day(aware, zone)) for i, zone in layout.members)
    found = layout.gaps.get(key)
    if found is None:
        found = coverage.gaps(codes, {p.code: run.day(aware, p.zone) for p in places if p.zone})
        if len(layout.gaps) < GAPS_KEPT:
            layout.gaps[key] = found
    return found


def coverage_gaps(facts: Facts, rules: Catalogue | Sequence[Rule]) -> tuple[str, ...]:
    """The jurisdictions of the facts (their countries and blocs) the catalogue knows nothing of."""
    days = {
        j.code: _local_day(facts.aware_at, zone_of(j.code))
        for j in facts.jurisdictions
        if j.code not in MEMBERSHIP
    }
    return _prepared(rules).coverage.gaps([j.code for j in facts.jurisdictions], days)


@lru_cache(maxsize=4096)
def _shown_zones(rule_zones: tuple[str, ...], party_zones: tuple[str, ...]) -> tuple[str, ...]:
    # The zones of the jurisdiction concerned (a few, for a bloc), then the parties' people's zones.
    return tuple(dict.fromkeys(z for z in rule_zones[:3] + party_zones if z != "UTC"))


def _stamp(t: datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


def _apply(
    plan: RulePlan,
    run: _Run,
    reasons: Sequence[str],
    now: datetime,
    started: datetime,
    where: list[Place],
    party_zones: tuple[str, ...],
    out: list[Obligation],
    not_applicable: list[NotApplicable],
) -> None:
    """Add the rule's obligations to ``out``, or to ``not_applicable`` why it is not in force.
    ``started`` is the instant the first stage's clock started (now, while it waits)."""
    rule = plan.rule
    zones = plan.zones or run.zones(plan, where)
    if plan.bounded and not plan.safe_from <= started.astimezone(UTC).date() <= plan.safe_until:
        # A rule binds only where in force on the local day its clock starts (or today, while it waits),
        # in the zone of the jurisdiction concerned; counted in several, the rule applies if in force in any.
        refused = plan.out_of_force(run.days_in(started, plan.stages[0].window.own_zone or zones))
        if refused is not None:
            not_applicable.append(refused)
            return

    clocks = run.clocks
    stamps = run.stamps
    recipient = plan.recipient(tuple(p.code for p in where)) if plan.routed else rule.recipient
    head = plan.head + "; ".join(reasons) + "; " if reasons else plan.head
    due_by_stage: dict[str, datetime | None] = {}
    for stage in plan.stages:
        window = stage.window
        event: str
        if stage.clock is not None:
            start = clocks[stage.clock]
            event = stage.clock
        else:
            # A later report counts from the earlier report's due time until its submission is recorded.
            start = due_by_stage.get(stage.after)
            event = f"{stage.after} due"
        if start is None:
            due = None
            clock = stage.waiting
        else:
            elapsed = window.elapsed
            due = start + elapsed if elapsed is not None else window.end(start, zones, run.ends)
            clock = stage.from_text + (stamps.get(start) or run.stamp(start)) + " UTC"
        cap = stage.cap
        if cap is not None:
            cap_start = clocks[stage.cap_clock]
            cap_due = cap.end(cap_start, zones, run.ends) if cap_start is not None else None
            if cap_due is not None and (due is None or cap_due < due):
                # The cap binds (or is the only clock running): report its clock, so the due time is
                # read against the right start.
                clock = stage.cap_from + run.stamp(cap_start) + " UTC"  # type: ignore[arg-type]
                clock += stage.outer if due is None else stage.earlier
                due, start, event, window = cap_due, cap_start, stage.cap_clock, cap
        due_by_stage[stage.name] = due
        out.append(
            obligation(
                rule.id,
                stage.name,
                rule.jurisdiction,
                rule.audience,
                recipient,
                plan.citation,
                rule.title,
                head + clock,
                event,
                start,
                due,
                "awaiting_clock" if due is None else window.basis,  # type: ignore[arg-type]
                window.description,
                window.term,
                _shown_zones(window.own_zone or zones, party_zones),
                rule.source,
                rule.origin,
                rule.confirmed,
                rule.kind,
                "awaiting" if due is None else ("overdue" if due <= now else "pending"),
            )
        )

"""The deadline engine: (facts, rules, agreement, now) → obligations, strictest first.

A pure function: no I/O, no clock of its own. Called again whenever a fact changes; the caller keeps
the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache

from breachops.config.agreements import Agreement
from breachops.config.authorities import recipient_for
from breachops.config.coverage import Coverage
from breachops.config.jurisdictions import MEMBERSHIP, blocs_of, country_of, covers
from breachops.config.rules import PERSONAL_CATEGORIES, Catalogue, Rule, Stage, Window
from breachops.config.zones import zone_of, zones_of_bloc
from breachops.deadlines.calendars import tz, window_end
from breachops.deadlines.conditions import Place, conditions, people_affected
from breachops.deadlines.consistency import clock_warnings
from breachops.deadlines.models import Assessment, Basis, Facts, NotApplicable, Obligation, Status

__all__ = ["RuleIndex", "assess", "coverage_gaps", "window_end"]


@lru_cache(maxsize=4096)
def _candidate_jurisdictions(code: str) -> tuple[str, ...]:
    """Rule jurisdictions that may reach people in ``code``: itself, its country, and every bloc its
    country ever belonged to (membership on the clock's day is checked per rule)."""
    country = country_of(code)
    blocs = (
        tuple(MEMBERSHIP) if code in MEMBERSHIP else tuple(b for b, m in MEMBERSHIP.items() if country in m)
    )
    return tuple(dict.fromkeys((code, country, *blocs)))


class RuleIndex:
    """The rules by jurisdiction, so that an incident only looks at rules that can reach it."""

    def __init__(self, rules: Iterable[Rule]):
        self.by_jurisdiction: dict[str, list[Rule]] = {}
        for rule in rules:
            self.by_jurisdiction.setdefault(rule.jurisdiction, []).append(rule)
        self._cache: dict[tuple[str, ...], list[Rule]] = {}

    def candidates(self, codes: Iterable[str]) -> list[Rule]:
        key = tuple(codes)
        cached = self._cache.get(key)
        if cached is None:
            found: dict[str, Rule] = {}
            for code in key:
                for jurisdiction in _candidate_jurisdictions(code):
                    for rule in self.by_jurisdiction.get(jurisdiction, ()):
                        found.setdefault(rule.id, rule)
            cached = list(found.values())
            if len(self._cache) < 65536:
                self._cache[key] = cached
        return list(cached)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What does not depend on the facts, worked out once per catalogue."""

    index: RuleIndex
    coverage: Coverage


_CACHE: dict[int, tuple[object, _Prepared]] = {}


def _prepared(rules: Catalogue | Sequence[Rule]) -> _Prepared:
    # A catalogue is immutable, so its index and coverage are built once and kept beside it.
    key = id(rules)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is rules:
        return cached[1]
    prepared = _Prepared(RuleIndex(rules), Coverage(rules))
    if isinstance(rules, Catalogue):
        _CACHE[key] = (rules, prepared)
    return prepared


_CONTRACT_CACHE: dict[int, tuple[Agreement, list[Rule], tuple[str, ...]]] = {}


def _contract_rules(agreement: Agreement) -> tuple[list[Rule], tuple[str, ...]]:
    # An agreement is immutable; its clauses become rules (and its people's zones a tuple) once.
    cached = _CONTRACT_CACHE.get(id(agreement))
    if cached is None or cached[0] is not agreement:
        cached = (agreement, agreement.contract_rules(), agreement.zones())
        _CONTRACT_CACHE[id(agreement)] = cached
    return cached[1], cached[2]


def _local_day(instant: datetime, zone: str) -> date:
    return instant.astimezone(tz(zone)).date()


class _Run:
    """What one assessment asks many times, worked out once: the clocks, local days, the places each
    rule jurisdiction reaches, and instants as text."""

    __slots__ = ("clocks", "days", "in_force_days", "places", "reach", "stamps", "texts", "zone_sets")

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
        self.reach: dict[tuple[str, datetime | None], list[Place]] = {}
        self.stamps: dict[datetime, str] = {}
        self.zone_sets: dict[tuple[str, str, int], tuple[str, ...]] = {}
        self.in_force_days: dict[tuple[datetime, tuple[str, ...]], tuple[date, ...]] = {}
        self.texts: dict[int, str] = {}

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

    def zones(self, rule: Rule, where: list[Place]) -> tuple[str, ...]:
        # ``where`` lists live as long as the run (kept in ``reach``), so their identity is a key.
        key = (rule.jurisdiction, rule.kind, id(where))
        found = self.zone_sets.get(key)
        if found is None:
            found = self.zone_sets[key] = _rule_zones(
                rule.jurisdiction, rule.kind, tuple(p.code for p in where)
            )
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

    def where(self, rule: Rule, start: datetime) -> list[Place]:
        """The places of the facts that ``rule`` reaches; a bloc's rule by membership on the local
        day its clock starts there."""
        if rule.kind == "contract":
            return self.places
        bloc = rule.jurisdiction in MEMBERSHIP
        key = (rule.jurisdiction, start if bloc else None)
        found = self.reach.get(key)
        if found is None:
            if bloc:
                found = [
                    p
                    for p in self.places
                    if rule.jurisdiction
                    in blocs_of(p.code, None if p.zone is None else self.day(start, p.zone))
                ]
            else:
                found = [p for p in self.places if covers(rule.jurisdiction, p.code)]
            self.reach[key] = found
        return found


def assess(
    facts: Facts,
    rules: Catalogue | Sequence[Rule],
    *,
    now: datetime,
    agreement: Agreement | None = None,
    zones: Sequence[str] = (),
) -> Assessment:
    """Every obligation the facts give rise to, strictest (earliest due) first, every candidate rule
    of the incident's jurisdictions that does not apply (with the reason), the jurisdictions the
    catalogue knows nothing of, and the facts that contradict one another."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    prepared = _prepared(rules)
    codes = [j.code for j in facts.jurisdictions]
    candidates = prepared.index.candidates(codes)
    party_zones = tuple(zones)
    if agreement is not None:
        contract, agreement_zones = _contract_rules(agreement)
        candidates += contract
        party_zones += agreement_zones
    places = [
        Place(j.code, j.affected, None if j.code in MEMBERSHIP else zone_of(j.code))
        for j in facts.jurisdictions
    ]
    categories: set[str] = set(facts.data_categories)
    if categories & PERSONAL_CATEGORIES:
        categories.add("personal")

    run = _Run(facts, places)
    clocks = run.clocks
    obligations: list[Obligation] = []
    not_applicable: list[NotApplicable] = []
    for rule in candidates:
        start = clocks[rule.stages[0].clock or "aware"] or now
        where = run.where(rule, start)
        if not where and rule.kind == "law":
            # Only a bloc's rule can miss: the country had left it, or not yet joined, that day.
            day = start.date().isoformat()
            why = f"{', '.join(codes)} not a member of the {rule.jurisdiction} on {day} (the clock's day)"
            not_applicable.append(NotApplicable(rule.id, rule.jurisdiction, rule.citation, why))
            continue
        verdict = conditions(rule, facts, categories, where, run.affected_text)
        if isinstance(verdict, str):
            not_applicable.append(NotApplicable(rule.id, rule.jurisdiction, rule.citation, verdict))
            continue
        obligations += _apply(rule, run, verdict, now, where, party_zones, not_applicable)
    obligations.sort(key=_strictest)
    not_applicable.sort(key=lambda n: (n.jurisdiction, n.rule_id))
    aware_days = {p.code: run.day(facts.aware_at, p.zone) for p in places if p.zone}
    return Assessment(
        tuple(obligations),
        tuple(not_applicable),
        now.astimezone(UTC),
        gaps=prepared.coverage.gaps(codes, aware_days),
        warnings=clock_warnings(facts, obligations),
    )


def coverage_gaps(facts: Facts, rules: Catalogue | Sequence[Rule]) -> tuple[str, ...]:
    """The jurisdictions of the facts (their countries and blocs) the catalogue knows nothing of."""
    days = {
        j.code: _local_day(facts.aware_at, zone_of(j.code))
        for j in facts.jurisdictions
        if j.code not in MEMBERSHIP
    }
    return _prepared(rules).coverage.gaps([j.code for j in facts.jurisdictions], days)


def _strictest(o: Obligation) -> tuple[bool, datetime, str, str]:
    return (o.due is None, o.due or datetime.max.replace(tzinfo=UTC), o.rule_id, o.stage)


@lru_cache(maxsize=16384)
def _rule_zones(jurisdiction: str, kind: str, where: tuple[str, ...]) -> tuple[str, ...]:
    """Zones whose calendars count a window without a zone of its own: the jurisdiction's capital,
    and for a bloc's rule each member state concerned (all members where the facts name the bloc)."""
    zones: dict[str, None] = {}
    if jurisdiction in MEMBERSHIP:
        for code in where if kind == "law" else ():
            for zone in zones_of_bloc(code) if code in MEMBERSHIP else (zone_of(code),):
                zones[zone] = None
        if not zones:
            zones.update(dict.fromkeys(zones_of_bloc(jurisdiction)))
    else:
        zones[zone_of(jurisdiction)] = None
    return tuple(zones)


def _end(window: Window, start: datetime, zones: tuple[str, ...]) -> datetime:
    """The window's end; counted in several zones, the earliest."""
    elapsed = window.elapsed
    if elapsed is not None:
        return start + elapsed  # clocks are UTC instants: elapsed time needs no calendar
    if window.timezone or not window.local or len(zones) == 1:
        return window_end(window, start, zones[0])
    return min(window_end(window, start, zone) for zone in zones)


@lru_cache(maxsize=4096)
def _shown_zones(rule_zones: tuple[str, ...], party_zones: tuple[str, ...]) -> tuple[str, ...]:
    # The zones of the jurisdiction concerned (a few, for a bloc), then the parties' people's zones.
    return tuple(dict.fromkeys(z for z in rule_zones[:3] + party_zones if z != "UTC"))


def _stamp(t: datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


def _apply(
    rule: Rule,
    run: _Run,
    reasons: list[str],
    now: datetime,
    where: list[Place],
    party_zones: tuple[str, ...],
    not_applicable: list[NotApplicable],
) -> list[Obligation]:
    first = rule.stages[0]
    zones = run.zones(rule, where)
    started = run.clocks[first.clock] if first.clock else None
    if rule.in_force_from is not None or rule.in_force_until is not None:
        # A rule binds only where in force on the local day its clock starts (or today, while it waits),
        # in the zone of the jurisdiction concerned; counted in several, the rule applies if in force in any.
        instant = started or now
        own = (first.window.timezone,) if first.window.timezone else zones
        days = run.days_in(instant, own)
        if not any(rule.in_force_on(day) for day in days):
            day = days[-1] if rule.in_force_from and days[-1] < rule.in_force_from else days[0]
            if rule.in_force_from and day < rule.in_force_from:
                why = f"not in force on {day.isoformat()}: in force from {rule.in_force_from.isoformat()}"
            else:
                why = f"not in force on {day.isoformat()}: repealed after {rule.in_force_until}"
            if rule.replaces:
                why += f" (it replaces {rule.replaces})"
            not_applicable.append(NotApplicable(rule.id, rule.jurisdiction, rule.citation, why))
            return []

    out: list[Obligation] = []
    due_by_stage: dict[str, datetime | None] = {}
    recipient = recipient_for(rule, [place.code for place in where])
    for stage in rule.stages:
        start, event = _stage_start(stage, run.clocks, due_by_stage)
        due = _end(stage.window, start, zones) if start is not None else None
        window = stage.window
        outer = False
        if stage.cap is not None:
            cap_start = run.clocks[stage.cap.clock]
            cap_due = _end(stage.cap.window, cap_start, zones) if cap_start is not None else None
            if cap_due is not None and (due is None or cap_due < due):
                # The cap binds (or is the only clock running): report its clock, so the due time is
                # read against the right start.
                outer = due is None
                due, start, event, window = cap_due, cap_start, stage.cap.clock, stage.cap.window
        due_by_stage[stage.name] = due
        basis: Basis = "awaiting_clock" if due is None else ("target" if window.term else "deadline")
        status: Status = "awaiting" if due is None else ("overdue" if due <= now else "pending")
        out.append(
            Obligation(
                rule_id=rule.id,
                stage=stage.name,
                jurisdiction=rule.jurisdiction,
                audience=rule.audience,
                recipient=recipient,
                citation=rule.citation,
                title=rule.title,
                reason=_reason(rule, stage, window, reasons, event, start, outer, run),
                clock_event=event,
                clock_start=start,
                due=due,
                basis=basis,
                window=window.description,
                term=window.term,
                zones=_shown_zones((window.timezone,) if window.timezone else zones, party_zones),
                source=rule.source,
                origin=rule.origin,
                confirmed=rule.confirmed,
                kind=rule.kind,
                status=status,
            )
        )
    return out


def _stage_start(
    stage: Stage, clocks: dict[str, datetime | None], due_by_stage: dict[str, datetime | None]
) -> tuple[datetime | None, str]:
    if stage.clock is not None:
        return clocks[stage.clock], stage.clock
    # A later report counts from the earlier report's due time until its submission is recorded.
    return due_by_stage.get(stage.after or ""), f"{stage.after} due"


def _reason(
    rule: Rule,
    stage: Stage,
    window: Window,
    reasons: list[str],
    event: str,
    start: datetime | None,
    outer: bool,
    run: _Run,
) -> str:
    if start is None:
        clock = f"clock waits for {event}" + ("_at" if not event.endswith(" due") else "")
    else:
        clock = f"{window.description} from {event} {run.stamp(start)} UTC"
        if outer:
            clock += (
                f" (the outer bound: the {stage.window.description} from {stage.clock}_at has not "
                "started, and this limit holds whatever it brings)"
            )
        elif window is not stage.window:
            clock += f" (no later than; {stage.window.description} from {stage.clock} ends later)"
    return f"{rule.citation}: " + "; ".join([*reasons, clock])

"""The deadline engine: (facts, rules, agreement, now) → obligations, strictest first.

A pure function: no I/O, no clock of its own. Called again whenever a fact changes; the caller keeps
the history. Each rule is worked out once per catalogue (``plans``); an assessment only does what the
facts make necessary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import attrgetter

from breachops.config.agreements import Agreement
from breachops.config.authorities import Directory, shipped_directory
from breachops.config.coverage import Coverage
from breachops.config.jurisdictions import MEMBERSHIP, blocs_of, country_of, covers
from breachops.config.rules import PERSONAL_CATEGORIES, Catalogue, Rule
from breachops.config.zones import zone_of
from breachops.deadlines.calendars import tz, window_end
from breachops.deadlines.conditions import Place, people_affected
from breachops.deadlines.consistency import clock_warnings
from breachops.deadlines.models import Assessment, Facts, NotApplicable, Obligation
from breachops.deadlines.plans import RulePlan, plans, rule_zones

__all__ = ["RuleIndex", "assess", "coverage_gaps", "window_end"]

# Countries that ever belonged to a bloc: only their local day can change which blocs reach them.
_EVER_MEMBERS = frozenset(c for members in MEMBERSHIP.values() for c in members)
# The candidates of so many combinations of jurisdictions are kept; past it, they are found anew.
_KEPT = 65536


@lru_cache(maxsize=4096)
def _candidate_jurisdictions(code: str) -> tuple[str, ...]:
    """Rule jurisdictions that may reach people in ``code``: itself, its country, and every bloc its
    country ever belonged to (membership on the clock's day is checked per rule)."""
    country = country_of(code)
    blocs = (
        tuple(MEMBERSHIP) if code in MEMBERSHIP else tuple(b for b, m in MEMBERSHIP.items() if country in m)
    )
    return tuple(dict.fromkeys((code, country, *blocs)))


# A candidate rule, and the positions of the facts' places it reaches whatever the day (None for a
# bloc's law, whose reach depends on the day its clock starts, and for a contract, which reaches all).
_Candidate = tuple[RulePlan, tuple[int, ...] | None]


class RuleIndex:
    """The rules by jurisdiction, so that an incident only looks at rules that can reach it."""

    def __init__(self, rules: Iterable[Rule], directory: Directory | None = None):
        self.by_jurisdiction: dict[str, list[RulePlan]] = {}
        for plan in plans(rules, directory or shipped_directory()):
            self.by_jurisdiction.setdefault(plan.rule.jurisdiction, []).append(plan)
        self._cache: dict[tuple[str, ...], tuple[_Candidate, ...]] = {}

    def candidates(self, codes: Iterable[str]) -> list[Rule]:
        return [plan.rule for plan, _ in self.plans(tuple(codes))]

    def plans(self, codes: tuple[str, ...]) -> tuple[_Candidate, ...]:
        cached = self._cache.get(codes)
        if cached is None:
            found: dict[str, RulePlan] = {}
            for code in codes:
                for jurisdiction in _candidate_jurisdictions(code):
                    for plan in self.by_jurisdiction.get(jurisdiction, ()):
                        found.setdefault(plan.rule.id, plan)
            cached = tuple((plan, _reach(plan, codes)) for plan in found.values())
            if len(self._cache) < _KEPT:
                self._cache[codes] = cached
        return cached


def _reach(plan: RulePlan, codes: tuple[str, ...]) -> tuple[int, ...] | None:
    if plan.contract or plan.bloc:
        return None
    return tuple(i for i, code in enumerate(codes) if covers(plan.rule.jurisdiction, code))


class _Prepared:
    """What does not depend on the facts, worked out once per catalogue and directory."""

    __slots__ = ("coverage", "directory", "gaps", "index")

    def __init__(self, rules: Catalogue | Sequence[Rule], directory: Directory):
        self.directory = directory
        self.index = RuleIndex(rules, directory)
        self.coverage = Coverage(rules)
        self.gaps: dict[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...]] = {}


_CACHE: dict[int, tuple[object, Directory, _Prepared]] = {}


def _directory(rules: Catalogue | Sequence[Rule], directory: Directory | None) -> Directory:
    if directory is not None:
        return directory
    attached = rules.directory if isinstance(rules, Catalogue) else None
    return attached if attached is not None else shipped_directory()


def _prepared(rules: Catalogue | Sequence[Rule], directory: Directory | None = None) -> _Prepared:
    # A catalogue is immutable, so its plans, index and coverage are built once and kept beside it.
    found = _directory(rules, directory)
    key = id(rules)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is rules and cached[1] is found:
        return cached[2]
    prepared = _Prepared(rules, found)
    if isinstance(rules, Catalogue):
        _CACHE[key] = (rules, found, prepared)
    return prepared


_CONTRACT_CACHE: dict[int, tuple[Agreement, Directory, tuple[_Candidate, ...], tuple[str, ...]]] = {}


def _contract_plans(
    agreement: Agreement, directory: Directory
) -> tuple[tuple[_Candidate, ...], tuple[str, ...]]:
    # An agreement is immutable; its clauses become rule plans (and its people's zones a tuple) once.
    cached = _CONTRACT_CACHE.get(id(agreement))
    if cached is None or cached[0] is not agreement or cached[1] is not directory:
        contract = tuple((plan, None) for plan in plans(agreement.contract_rules(), directory))
        cached = (agreement, directory, contract, agreement.zones())
        _CONTRACT_CACHE[id(agreement)] = cached
    return cached[2], cached[3]


def _local_day(instant: datetime, zone: str) -> date:
    return instant.astimezone(tz(zone)).date()


class _Run:
    """What one assessment asks many times, worked out once: the clocks, local days, the places each
    rule reaches, window ends, and instants as text."""

    __slots__ = (
        "clocks",
        "days",
        "ends",
        "in_force_days",
        "places",
        "reach",
        "stamps",
        "subsets",
        "texts",
        "zone_sets",
    )

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
        self.subsets: dict[tuple[int, ...], list[Place]] = {}
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
        if plan.zones is not None:
            return plan.zones
        # ``where`` lists live as long as the run (kept in ``reach``), so their identity is a key.
        rule = plan.rule
        key = (rule.jurisdiction, rule.kind, id(where))
        found = self.zone_sets.get(key)
        if found is None:
            found = self.zone_sets[key] = rule_zones(
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

    def subset(self, indices: tuple[int, ...]) -> list[Place]:
        """The places at ``indices``, one list per set of positions (rules reaching the same places
        share it, and with it its wording)."""
        found = self.subsets.get(indices)
        if found is None:
            places = self.places
            found = self.subsets[indices] = [places[i] for i in indices]
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
    candidates = prepared.index.plans(codes)
    party_zones = tuple(zones)
    if agreement is not None:
        contract, agreement_zones = _contract_plans(agreement, prepared.directory)
        candidates += contract
        party_zones += agreement_zones
    places = [
        Place(j.code, j.affected, None if j.code in MEMBERSHIP else zone_of(j.code)) for j in jurisdictions
    ]
    categories: set[str] = set(facts.data_categories)
    if categories & PERSONAL_CATEGORIES:
        categories.add("personal")

    run = _Run(facts, places)
    clocks = run.clocks
    affected_text = run.affected_text
    obligations: list[Obligation] = []
    not_applicable: list[NotApplicable] = []
    for plan, indices in candidates:
        start = clocks[plan.first_clock] or now
        if indices is not None:
            where = run.subset(indices)
        elif plan.contract:
            where = places
        else:
            where = run.bloc_reach(plan.rule.jurisdiction, start)
            if not where:
                # Only a bloc's rule can miss: the country had left it, or not yet joined, that day.
                rule = plan.rule
                day = start.date().isoformat()
                why = f"{', '.join(codes)} not a member of the {rule.jurisdiction} on {day} (the clock's day)"
                not_applicable.append(NotApplicable(rule.id, rule.jurisdiction, plan.citation, why))
                continue
        verdict = plan.check(facts, categories, where, affected_text)
        if verdict.__class__ is str:
            rule = plan.rule
            not_applicable.append(NotApplicable(rule.id, rule.jurisdiction, plan.citation, verdict))  # type: ignore[arg-type]
            continue
        _apply(plan, run, verdict, now, start, where, party_zones, obligations, not_applicable)  # type: ignore[arg-type]
    obligations.sort(key=_strictest)
    not_applicable.sort(key=_by_place)
    return Assessment(
        tuple(obligations),
        tuple(not_applicable),
        now.astimezone(UTC),
        gaps=_gaps(prepared, run, facts.aware_at, codes),
        warnings=clock_warnings(facts, obligations),
    )


_by_place = attrgetter("jurisdiction", "rule_id")


def _gaps(prepared: _Prepared, run: _Run, aware: datetime, codes: tuple[str, ...]) -> tuple[str, ...]:
    # The gaps depend on the day only through the blocs each place belonged to on it: kept by those.
    days = {
        p.code: run.day(aware, p.zone) for p in run.places if p.zone and country_of(p.code) in _EVER_MEMBERS
    }
    key = tuple((code, blocs_of(code, days.get(code))) for code in codes)
    found = prepared.gaps.get(key)
    if found is None:
        all_days = {p.code: run.day(aware, p.zone) for p in run.places if p.zone}
        found = prepared.coverage.gaps(codes, all_days)
        if len(prepared.gaps) < _KEPT:
            prepared.gaps[key] = found
    return found


def coverage_gaps(facts: Facts, rules: Catalogue | Sequence[Rule]) -> tuple[str, ...]:
    """The jurisdictions of the facts (their countries and blocs) the catalogue knows nothing of."""
    days = {
        j.code: _local_day(facts.aware_at, zone_of(j.code))
        for j in facts.jurisdictions
        if j.code not in MEMBERSHIP
    }
    return _prepared(rules).coverage.gaps([j.code for j in facts.jurisdictions], days)


def _strictest(o: Obligation) -> tuple[bool, datetime, str, str]:
    return (o.due is None, o.due or _NEVER, o.rule_id, o.stage)


_NEVER = datetime.max.replace(tzinfo=UTC)


@lru_cache(maxsize=4096)
def _shown_zones(rule_zones: tuple[str, ...], party_zones: tuple[str, ...]) -> tuple[str, ...]:
    # The zones of the jurisdiction concerned (a few, for a bloc), then the parties' people's zones.
    return tuple(dict.fromkeys(z for z in rule_zones[:3] + party_zones if z != "UTC"))


def _stamp(t: datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


def _not_in_force(plan: RulePlan, days: tuple[date, ...]) -> str:
    rule = plan.rule
    day = days[-1] if rule.in_force_from and days[-1] < rule.in_force_from else days[0]
    if rule.in_force_from and day < rule.in_force_from:
        why = f"not in force on {day.isoformat()}: in force from {rule.in_force_from.isoformat()}"
    else:
        why = f"not in force on {day.isoformat()}: repealed after {rule.in_force_until}"
    if rule.replaces:
        why += f" (it replaces {rule.replaces})"
    return why


def _apply(
    plan: RulePlan,
    run: _Run,
    reasons: list[str],
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
    zones = run.zones(plan, where)
    if plan.bounded and not plan.in_force_near(started.astimezone(UTC).date()):
        # A rule binds only where in force on the local day its clock starts (or today, while it waits),
        # in the zone of the jurisdiction concerned; counted in several, the rule applies if in force in any.
        first = plan.stages[0].window
        days = run.days_in(started, first.own_zone or zones)
        if not any(rule.in_force_on(day) for day in days):
            not_applicable.append(
                NotApplicable(rule.id, rule.jurisdiction, plan.citation, _not_in_force(plan, days))
            )
            return

    clocks = run.clocks
    ends = run.ends
    due_by_stage: dict[str, datetime | None] = {}
    recipient = plan.recipient(tuple(place.code for place in where))
    head = f"{plan.citation}: " + "".join(reason + "; " for reason in reasons)
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
        due = window.end(start, zones, ends) if start is not None else None
        clock = stage.waiting if start is None else stage.from_text + run.stamp(start) + " UTC"
        cap = stage.cap
        if cap is not None:
            cap_start = clocks[stage.cap_clock]
            cap_due = cap.end(cap_start, zones, ends) if cap_start is not None else None
            if cap_due is not None and (due is None or cap_due < due):
                # The cap binds (or is the only clock running): report its clock, so the due time is
                # read against the right start.
                clock = stage.cap_from + run.stamp(cap_start) + " UTC"  # type: ignore[arg-type]
                clock += stage.outer if due is None else stage.earlier
                due, start, event, window = cap_due, cap_start, stage.cap_clock, cap
        due_by_stage[stage.name] = due
        out.append(
            Obligation(
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

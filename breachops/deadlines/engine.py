"""The deadline engine: (facts, rules, agreement, now) → obligations, strictest first.

A pure function: no I/O, no clock of its own. Called again whenever a fact changes; the caller keeps
the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from breachops.config.agreements import Agreement
from breachops.config.authorities import recipient_for
from breachops.config.jurisdictions import BLOCS, country_of
from breachops.config.rules import PERSONAL_CATEGORIES, RISK_LEVELS, Catalogue, Rule, Stage, Window
from breachops.deadlines.calendars import add_business_days, add_months, local_deadline
from breachops.deadlines.models import Assessment, Basis, Facts, NotApplicable, Obligation, Status

__all__ = ["RuleIndex", "assess", "window_end"]

_RISK_RANK = {level: rank for rank, level in enumerate(RISK_LEVELS)}


def window_end(window: Window, start: datetime) -> datetime:
    """When ``window`` ends for a clock started at ``start`` (aware). Returns UTC.

    Hours are elapsed time (arithmetic on the UTC instant, so DST never shifts them). Day and month
    windows are reckoned on the local calendar of ``window.timezone``.
    """
    start = start.astimezone(UTC)
    if window.hours:
        return start + timedelta(hours=window.hours)
    if window.term:
        return start + timedelta(hours=window.target_hours or 0)
    zone = ZoneInfo(window.timezone)
    local = start.astimezone(zone)
    if window.calendar_days:
        offset = window.calendar_days - (1 if window.include_trigger_day else 0)
        day = local.date() + timedelta(days=offset)
    elif window.business_days:
        day = add_business_days(local.date(), window.business_days, window.holidays or "")
    else:
        day = add_months(local.date(), window.months or 0)
    cutoff = window.cutoff
    at = cutoff if cutoff is not None else local.time()
    return local_deadline(day, at, zone).astimezone(UTC)


class RuleIndex:
    """The rules by jurisdiction, so that an incident only looks at rules that can reach it."""

    def __init__(self, rules: Iterable[Rule]):
        self.by_jurisdiction: dict[str, list[Rule]] = {}
        for rule in rules:
            self.by_jurisdiction.setdefault(rule.jurisdiction, []).append(rule)

    def candidates(self, codes: Iterable[str]) -> list[Rule]:
        found: dict[str, Rule] = {}
        for code in codes:
            for jurisdiction in _reaching(code):
                for rule in self.by_jurisdiction.get(jurisdiction, ()):
                    found.setdefault(rule.id, rule)
        return list(found.values())


@lru_cache(maxsize=4096)
def _reaching(code: str) -> tuple[str, ...]:
    """Rule jurisdictions that reach people in ``code``: itself, its country, its blocs."""
    out = [code]
    country = country_of(code)
    if country != code:
        out.append(country)
    out += [bloc for bloc, members in BLOCS.items() if country in members]
    if code == "EU":
        out.append("EEA")
    return tuple(out)


_INDEX_CACHE: dict[int, tuple[object, RuleIndex]] = {}


def _index_for(rules: Catalogue | Sequence[Rule]) -> RuleIndex:
    # A catalogue is immutable, so its index is built once and kept beside it.
    key = id(rules)
    cached = _INDEX_CACHE.get(key)
    if cached is not None and cached[0] is rules:
        return cached[1]
    index = RuleIndex(rules)
    if isinstance(rules, Catalogue):
        _INDEX_CACHE[key] = (rules, index)
    return index


_CONTRACT_CACHE: dict[int, tuple[Agreement, list[Rule], tuple[str, ...]]] = {}


def _contract_rules(agreement: Agreement) -> tuple[list[Rule], tuple[str, ...]]:
    # An agreement is immutable; its clauses become rules (and its people's zones a tuple) once.
    cached = _CONTRACT_CACHE.get(id(agreement))
    if cached is None or cached[0] is not agreement:
        cached = (agreement, agreement.contract_rules(), agreement.zones())
        _CONTRACT_CACHE[id(agreement)] = cached
    return cached[1], cached[2]


def assess(
    facts: Facts,
    rules: Catalogue | Sequence[Rule],
    *,
    now: datetime,
    agreement: Agreement | None = None,
    zones: Sequence[str] = (),
) -> Assessment:
    """Every obligation the facts give rise to, strictest (earliest due) first, and every candidate
    rule of the incident's jurisdictions that does not apply, with the reason."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    codes = [j.code for j in facts.jurisdictions]
    candidates = _index_for(rules).candidates(codes)
    party_zones = tuple(zones)
    if agreement is not None:
        contract, agreement_zones = _contract_rules(agreement)
        candidates += contract
        party_zones += agreement_zones
    # Which rule jurisdictions reach each affected place, worked out once for all candidates.
    reach = [(j.code, j.affected, _reaching(j.code)) for j in facts.jurisdictions]
    categories: set[str] = set(facts.data_categories)
    if categories & PERSONAL_CATEGORIES:
        categories.add("personal")

    obligations: list[Obligation] = []
    not_applicable: list[NotApplicable] = []
    for rule in candidates:
        verdict = _conditions(rule, facts, categories, reach)
        if isinstance(verdict, str):
            not_applicable.append(NotApplicable(rule.id, rule.jurisdiction, rule.citation, verdict))
            continue
        obligations += _apply(rule, facts, verdict, now, party_zones, not_applicable)
    obligations.sort(key=_strictest)
    not_applicable.sort(key=lambda n: (n.jurisdiction, n.rule_id))
    return Assessment(tuple(obligations), tuple(not_applicable), now.astimezone(UTC))


def _strictest(o: Obligation) -> tuple[bool, datetime, str, str]:
    return (o.due is None, o.due or datetime.max.replace(tzinfo=UTC), o.rule_id, o.stage)


Reach = list[tuple[str, int | None, tuple[str, ...]]]


def _affected(rule: Rule, reach: Reach) -> tuple[int | None, list[str]]:
    total: int | None = 0
    where = []
    contract = rule.kind == "contract"
    for code, affected, reaching in reach:
        if contract or rule.jurisdiction in reaching:
            where.append(code)
            total = None if total is None or affected is None else total + affected
    return total, where


def _conditions(rule: Rule, facts: Facts, categories: set[str], reach: Reach) -> list[str] | str:
    """The reasons a rule applies (a list, with any assumption made), or why it does not (a string)."""
    when = rule.applies_when
    reasons: list[str] = []
    count, where = _affected(rule, reach)
    places = ", ".join(where)
    if when.affected_at_least is not None or when.affected_more_than is not None:
        if count is None:
            reasons.append(f"assumes the threshold is met: affected count in {places} not yet known")
        elif when.affected_at_least is not None and count < when.affected_at_least:
            return f"needs at least {when.affected_at_least:,} affected; {count:,} in {places}"
        elif when.affected_more_than is not None and count <= when.affected_more_than:
            return f"needs more than {when.affected_more_than:,} affected; {count:,} in {places}"
        else:
            reasons.append(f"{count:,} affected in {places}")
    elif where and rule.kind == "law":
        reasons.append(
            f"people affected in {places} ({count:,})" if count else f"people affected in {places}"
        )
    if when.data_categories_any:
        if not facts.data_categories:
            reasons.append(f"assumes {'/'.join(when.data_categories_any)} data: categories not yet known")
        else:
            hit = sorted(categories.intersection(when.data_categories_any))
            if not hit:
                needed = " or ".join(when.data_categories_any)
                return f"needs {needed} data; facts name {', '.join(facts.data_categories)}"
            reasons.append(f"{', '.join(hit)} data")
    if when.sectors_any:
        hit = sorted(set(facts.sectors).intersection(when.sectors_any))
        if not hit:
            have = ", ".join(facts.sectors) or "none"
            return f"needs sector {' or '.join(when.sectors_any)}; facts name {have}"
        reasons.append(f"sector {', '.join(hit)}")
    if when.risk_at_least is not None:
        if facts.risk is None:
            reasons.append(f"assumes risk at least {when.risk_at_least}: not yet assessed")
        elif _RISK_RANK[facts.risk] < _RISK_RANK[when.risk_at_least]:
            return f"needs risk at least {when.risk_at_least}; assessed {facts.risk}"
        else:
            reasons.append(f"risk {facts.risk}")
    if when.acting_as is not None and facts.acting_as != when.acting_as:
        return f"applies to a {when.acting_as}; the organisation acts as {facts.acting_as}"
    return reasons


@lru_cache(maxsize=1024)
def _zones(rule_zone: str, party_zones: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(((rule_zone,) if rule_zone != "UTC" else ()) + party_zones))


def _stamp(t: datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"


def _apply(
    rule: Rule,
    facts: Facts,
    reasons: list[str],
    now: datetime,
    party_zones: tuple[str, ...],
    not_applicable: list[NotApplicable],
) -> list[Obligation]:
    first = rule.stages[0]
    started = facts.clock(first.clock) if first.clock else None
    # A rule binds only where in force on the day its clock starts (or today, while it waits).
    dated = rule.in_force_from is not None or rule.in_force_until is not None
    day = (started or now).astimezone(ZoneInfo(first.window.timezone)).date() if dated else None
    if day is not None and not rule.in_force_on(day):
        if rule.in_force_from and day < rule.in_force_from:
            why = f"not in force on {day.isoformat()}: in force from {rule.in_force_from.isoformat()}"
        else:
            why = f"not in force on {day.isoformat()}: repealed after {rule.in_force_until}"
        not_applicable.append(NotApplicable(rule.id, rule.jurisdiction, rule.citation, why))
        return []

    out: list[Obligation] = []
    due_by_stage: dict[str, datetime | None] = {}
    recipient = recipient_for(rule, [j.code for j in facts.jurisdictions])
    for stage in rule.stages:
        start, event = _stage_start(stage, facts, due_by_stage)
        due = window_end(stage.window, start) if start is not None else None
        window = stage.window
        if due is not None and stage.cap is not None:
            cap_start = facts.clock(stage.cap.clock)
            cap_due = window_end(stage.cap.window, cap_start) if cap_start is not None else None
            if cap_due is not None and cap_due < due:
                # The cap binds: report its clock, so the due time is read against the right start.
                due, start, event, window = cap_due, cap_start, stage.cap.clock, stage.cap.window
        due_by_stage[stage.name] = due
        basis: Basis = "awaiting_clock" if due is None else ("target" if stage.window.term else "deadline")
        status: Status = "awaiting" if due is None else ("overdue" if due <= now else "pending")
        zones = _zones(stage.window.timezone, party_zones)
        out.append(
            Obligation(
                rule_id=rule.id,
                stage=stage.name,
                jurisdiction=rule.jurisdiction,
                audience=rule.audience,
                recipient=recipient,
                citation=rule.citation,
                title=rule.title,
                reason=_reason(rule, stage, window, reasons, event, start),
                clock_event=event,
                clock_start=start,
                due=due,
                basis=basis,
                window=window.description,
                term=window.term,
                zones=zones,
                source=rule.source,
                origin=rule.origin,
                confirmed=rule.confirmed,
                kind=rule.kind,
                status=status,
            )
        )
    return out


def _stage_start(
    stage: Stage, facts: Facts, due_by_stage: dict[str, datetime | None]
) -> tuple[datetime | None, str]:
    if stage.clock is not None:
        return facts.clock(stage.clock), stage.clock
    # A later report counts from the earlier report's due time until its submission is recorded.
    return due_by_stage.get(stage.after or ""), f"{stage.after} due"


def _reason(
    rule: Rule, stage: Stage, window: Window, reasons: list[str], event: str, start: datetime | None
) -> str:
    if start is None:
        clock = f"clock waits for {event}" + ("_at" if not event.endswith(" due") else "")
    else:
        clock = f"{window.description} from {event} {_stamp(start)} UTC"
        if window is not stage.window:
            clock += f" (no later than; {stage.window.description} from {stage.clock} ends later)"
    return f"{rule.citation}: " + "; ".join([*reasons, clock])

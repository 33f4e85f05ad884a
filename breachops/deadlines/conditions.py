"""Whether a rule applies to the facts: thresholds, data categories, sectors, risk, role.

An unknown fact counts as met, and the reason says which assumption it rests on: a team must not miss
a duty while it is still counting.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import NamedTuple

from breachops.config.rule_models import RISK_LEVELS, Rule
from breachops.deadlines.models import Facts

__all__ = ["Check", "Place", "Verdict", "compile_conditions", "conditions", "people_affected"]

_RISK_RANK = {level: rank for rank, level in enumerate(RISK_LEVELS)}


class Place(NamedTuple):
    """One jurisdiction of the facts: its code, the people affected there (None: unknown), and the
    zone its days are counted in (None for a bloc named as such)."""

    code: str
    affected: int | None
    zone: str | None


# The reasons a rule applies (with any assumption made), or why it does not (a string).
Verdict = list[str] | tuple[str, ...] | str
Check = Callable[[Facts, AbstractSet[str], list[Place], Callable[[list[Place]], str]], Verdict]


def people_affected(where: list[Place]) -> str:
    places = ", ".join([p.code for p in where])
    count = 0
    for p in where:
        if p.affected is None:
            return f"people affected in {places}"  # a count not yet known: no total
        count += p.affected
    return f"people affected in {places} ({count:,})" if count else f"people affected in {places}"


def conditions(
    rule: Rule,
    facts: Facts,
    categories: AbstractSet[str],
    where: list[Place],
    affected_text: Callable[[list[Place]], str] = people_affected,
) -> Verdict:
    """The reasons a rule applies (with any assumption made), or why it does not (a string).
    ``affected_text`` words the places reached (the engine keeps it once per list of places)."""
    return compile_conditions(rule)(facts, categories, where, affected_text)


def compile_conditions(rule: Rule) -> Check:
    """``conditions`` for one rule, with its tests and wording worked out once: the engine asks it
    for every incident whose jurisdictions the rule may reach."""
    when = rule.applies_when
    chain = _chain(when.data_categories_any, when.sectors_any, when.risk_at_least, when.acting_as)
    if when.affected_at_least is not None or when.affected_more_than is not None:
        threshold = _threshold(when.affected_at_least, when.affected_more_than, when.threshold_scope)

        def check(
            facts: Facts,
            categories: AbstractSet[str],
            where: list[Place],
            affected_text: Callable[[list[Place]], str],
        ) -> Verdict:
            reasons = threshold(where)
            if reasons.__class__ is str:
                return reasons
            last = chain.last
            found = (
                last[2] if last[0] is facts and last[1] is categories else chain.outcome(facts, categories)
            )
            if found.__class__ is str:
                return found
            reasons.extend(found)  # type: ignore[union-attr]
            return reasons

    else:
        # Without a threshold, a law names the people it reaches; a contract clause does not.
        law = rule.kind == "law"

        def check(
            facts: Facts,
            categories: AbstractSet[str],
            where: list[Place],
            affected_text: Callable[[list[Place]], str],
        ) -> Verdict:
            last = chain.last
            found = (
                last[2] if last[0] is facts and last[1] is categories else chain.outcome(facts, categories)
            )
            if found.__class__ is str or not (where and law):
                return found
            # Worded only once the rule applies: the places come first among the reasons.
            return [affected_text(where), *found]

    return check


class _Chain:
    """The conditions of a rule other than a count threshold: data categories, sectors, risk, role.

    Rules with the same ones share a chain, and a chain keeps its outcome for the facts it was last
    asked of: an incident's candidate rules share a few chains, each then worked out once per incident.
    """

    __slots__ = ("last", "steps")

    def __init__(self, steps: tuple[_Step, ...]):
        self.steps = steps
        # (facts, categories, outcome), replaced whole so that a reader never pairs facts with an
        # outcome worked out for others.
        self.last: tuple[object, object, tuple[str, ...] | str] = (None, None, ())

    def outcome(self, facts: Facts, categories: AbstractSet[str]) -> tuple[str, ...] | str:
        """The reasons the conditions are met (with any assumption), or why they are not."""
        reasons: list[str] = []
        found: tuple[str, ...] | str | None = None
        for step in self.steps:
            found = step(facts, categories, reasons)
            if found is not None:
                break
        if found is None:
            found = tuple(reasons)
        self.last = (facts, categories, found)
        return found


@lru_cache(maxsize=1024)
def _chain(
    categories: tuple[str, ...], sectors: tuple[str, ...], risk: str | None, role: str | None
) -> _Chain:
    steps: list[_Step] = []
    if categories:
        steps.append(_categories(categories))
    if sectors:
        steps.append(_sectors(sectors))
    if risk is not None:
        steps.append(_risk(risk))
    if role is not None:
        steps.append(_role(role))
    return _Chain(tuple(steps))


def _threshold(least: int | None, more: int | None, scope: str) -> Callable[[list[Place]], list[str] | str]:
    meets = (lambda n: n >= least) if least is not None else (lambda n: n > (more or 0))
    need = f"at least {least:,}" if least is not None else f"more than {more:,}"

    def per_jurisdiction(where: list[Place]) -> list[str] | str:
        # Met by the count in one jurisdiction, never by adding several together.
        hit = [p for p in where if p.affected is not None and meets(p.affected)]
        if hit:
            return [f"{hit[0].affected:,} affected in {hit[0].code} (threshold per jurisdiction)"]
        unknown = [p.code for p in where if p.affected is None]
        if unknown:
            return [f"assumes the threshold is met: affected count in {', '.join(unknown)} not yet known"]
        counts = ", ".join(f"{p.affected:,} in {p.code}" for p in where)
        return f"needs {need} affected in one jurisdiction; {counts}"

    def total(where: list[Place]) -> list[str] | str:
        places = ", ".join([p.code for p in where])
        count = 0
        for p in where:
            if p.affected is None:
                return [f"assumes the threshold is met: affected count in {places} not yet known"]
            count += p.affected
        if not meets(count):
            return f"needs {need} affected; {count:,} in {places}"
        return [f"{count:,} affected in {places}"]

    return per_jurisdiction if scope == "per_jurisdiction" else total


# Outcomes kept per step and per value of the facts it reads; the values are few (a set of data
# categories, a tuple of sectors), so a step's outcome is worked out once per value.
_KEPT = 4096
_Step = Callable[[Facts, AbstractSet[str], list[str]], str | None]


def _categories(wanted: tuple[str, ...]) -> _Step:
    assumed = f"assumes {'/'.join(wanted)} data: categories not yet known"
    needed = " or ".join(wanted)
    wanted_set = frozenset(wanted)
    said: dict[frozenset[str], str] = {}  # by the facts' categories: the reason ("" where none is wanted)

    def step(facts: Facts, categories: AbstractSet[str], reasons: list[str]) -> str | None:
        if not facts.data_categories:
            reasons.append(assumed)
            return None
        key = categories if isinstance(categories, frozenset) else frozenset(categories)
        reason = said.get(key)
        if reason is None:
            hit = sorted(key & wanted_set)
            reason = f"{', '.join(hit)} data" if hit else ""
            if len(said) < _KEPT:
                said[key] = reason
        if not reason:
            return f"needs {needed} data; facts name {', '.join(facts.data_categories)}"
        reasons.append(reason)
        return None

    return step


def _sectors(wanted: tuple[str, ...]) -> _Step:
    needed = " or ".join(wanted)
    wanted_set = frozenset(wanted)
    said: dict[tuple[str, ...], tuple[str | None, str]] = {}  # by the facts' sectors: (refusal, reason)

    def step(facts: Facts, categories: AbstractSet[str], reasons: list[str]) -> str | None:
        sectors = facts.sectors
        found = said.get(sectors)
        if found is None:
            hit = sorted(wanted_set.intersection(sectors))
            have = ", ".join(sectors) or "none"
            found = (
                (None, f"sector {', '.join(hit)}")
                if hit
                else (f"needs sector {needed}; facts name {have}", "")
            )
            if len(said) < _KEPT:
                said[sectors] = found
        if found[0] is None:
            reasons.append(found[1])
        return found[0]

    return step


def _risk(least: str) -> _Step:
    # Every assessed risk (and none yet) worked out here: (refusal, reason).
    rank = _RISK_RANK[least]
    said: dict[str | None, tuple[str | None, str]] = {
        None: (None, f"assumes risk at least {least}: not yet assessed")
    }
    for level in RISK_LEVELS:
        refused = _RISK_RANK[level] < rank
        said[level] = (
            (f"needs risk at least {least}; assessed {level}", "") if refused else (None, f"risk {level}")
        )

    def step(facts: Facts, categories: AbstractSet[str], reasons: list[str]) -> str | None:
        refusal, reason = said[facts.risk]
        if refusal is None:
            reasons.append(reason)
        return refusal

    return step


def _role(role: str) -> _Step:
    def step(facts: Facts, categories: AbstractSet[str], reasons: list[str]) -> str | None:
        if facts.acting_as != role:
            return f"applies to a {role}; the organisation acts as {facts.acting_as}"
        return None

    return step

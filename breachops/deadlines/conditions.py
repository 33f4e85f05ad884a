"""Whether a rule applies to the facts: thresholds, data categories, sectors, risk, role.

An unknown fact counts as met, and the reason says which assumption it rests on: a team must not miss
a duty while it is still counting.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from breachops.config.rules import RISK_LEVELS, Rule
from breachops.deadlines.models import Facts

__all__ = ["Place", "conditions", "people_affected"]

_RISK_RANK = {level: rank for rank, level in enumerate(RISK_LEVELS)}


class Place(NamedTuple):
    """One jurisdiction of the facts: its code, the people affected there (None: unknown), and the
    zone its days are counted in (None for a bloc named as such)."""

    code: str
    affected: int | None
    zone: str | None


def _threshold(rule: Rule, where: list[Place]) -> list[str] | str:
    when = rule.applies_when
    least, more = when.affected_at_least, when.affected_more_than
    meets = (lambda n: n >= least) if least is not None else (lambda n: n > (more or 0))
    need = f"at least {least:,}" if least is not None else f"more than {more:,}"
    places = ", ".join(p.code for p in where)
    if when.threshold_scope == "per_jurisdiction":
        # Met by the count in one jurisdiction, never by adding several together.
        hit = [p for p in where if p.affected is not None and meets(p.affected)]
        if hit:
            return [f"{hit[0].affected:,} affected in {hit[0].code} (threshold per jurisdiction)"]
        unknown = [p.code for p in where if p.affected is None]
        if unknown:
            return [f"assumes the threshold is met: affected count in {', '.join(unknown)} not yet known"]
        counts = ", ".join(f"{p.affected:,} in {p.code}" for p in where)
        return f"needs {need} affected in one jurisdiction; {counts}"
    total = 0
    for p in where:
        if p.affected is None:
            return [f"assumes the threshold is met: affected count in {places} not yet known"]
        total += p.affected
    if not meets(total):
        return f"needs {need} affected; {total:,} in {places}"
    return [f"{total:,} affected in {places}"]


def people_affected(where: list[Place]) -> str:
    places = ", ".join(p.code for p in where)
    counts = [p.affected for p in where]
    count = None if None in counts else sum(c or 0 for c in counts)
    return f"people affected in {places} ({count:,})" if count else f"people affected in {places}"


def conditions(
    rule: Rule,
    facts: Facts,
    categories: set[str],
    where: list[Place],
    affected_text: Callable[[list[Place]], str] = people_affected,
) -> list[str] | str:
    """The reasons a rule applies (a list, with any assumption made), or why it does not (a string).
    ``affected_text`` words the places reached (the engine keeps it once per list of places)."""
    when = rule.applies_when
    reasons: list[str] = []
    if when.affected_at_least is not None or when.affected_more_than is not None:
        verdict = _threshold(rule, where)
        if isinstance(verdict, str):
            return verdict
        reasons += verdict
    elif where and rule.kind == "law":
        reasons.append(affected_text(where))
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

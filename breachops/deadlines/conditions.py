"""Whether a rule applies to the facts: thresholds, data categories, sectors, risk, role.

An unknown fact counts as met, and the reason says which assumption it rests on: a team must not miss
a duty while it is still counting.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from operator import itemgetter
from typing import Any, NamedTuple

from breachops.config.rule_models import PERSONAL_CATEGORIES, RISK_LEVELS, Rule
from breachops.deadlines.models import Facts

__all__ = [
    "Conditions",
    "Outcome",
    "Place",
    "Verdict",
    "conditions",
    "facts_read",
    "people_affected",
    "personal",
]

_RISK_RANK = {level: rank for rank, level in enumerate(RISK_LEVELS)}
_code = itemgetter(0)  # a Place's code


class Place(NamedTuple):
    """One jurisdiction of the facts: its code, the people affected there (None: unknown), and the
    zone its days are counted in (None for a bloc named as such)."""

    code: str
    affected: int | None
    zone: str | None


# The reasons a rule applies (with any assumption made), or why it does not (a string).
Verdict = list[str] | tuple[str, ...] | str
Wording = Callable[[list[Place]], str]  # words the places a rule reaches, for its reasons
# (why not, "") or (None, the reasons as the obligation's text gives them: each followed by "; ").
Outcome = tuple[str | None, str]


def people_affected(where: list[Place]) -> str:
    places = ", ".join(map(_code, where))
    count = 0
    for p in where:
        if p.affected is None:
            return f"people affected in {places}"  # a count not yet known: no total
        count += p.affected
    return f"people affected in {places} ({count:,})" if count else f"people affected in {places}"


def facts_read(facts: Facts) -> Facts_:
    """What the conditions read of the facts: data categories, sectors, risk, role (``_Step.read``)."""
    return facts.data_categories, facts.sectors, facts.risk, facts.acting_as


def conditions(
    rule: Rule,
    facts: Facts,
    where: list[Place],
    affected_text: Callable[[list[Place]], str] = people_affected,
) -> Verdict:
    """The reasons a rule applies (with any assumption made), or why it does not (a string).
    ``affected_text`` words the places reached (the engine keeps it once per list of places)."""
    check = Conditions(rule)
    reasons: list[str] = []
    if check.threshold is not None:
        counted = check.threshold(where)
        if counted.__class__ is str:
            return counted
        reasons.extend(counted)
    found = check.chain.work_out(facts_read(facts))
    if found[2].__class__ is str:
        return found[2]
    if check.names_places and where:
        reasons.append(affected_text(where))
    return [*reasons, *found[2]]


class Conditions:
    """A rule's conditions worked out once: the engine asks them of every incident whose jurisdictions
    the rule may reach. A count threshold (``threshold``) is tested first, then the other conditions
    (``chain``); without a threshold, a law's reasons start with the people it reaches.

    ``outcome(read, where, wording)`` gives (why not, "") or (None, the reasons, each followed by
    "; ") for what ``facts_read`` gave: one of three methods, chosen once for the rule's kind."""

    __slots__ = ("chain", "names_places", "outcome", "threshold")

    def __init__(self, rule: Rule):
        when = rule.applies_when
        self.chain = _chain(when.data_categories_any, when.sectors_any, when.risk_at_least, when.acting_as)
        self.threshold: Threshold | None = None
        if when.affected_at_least is not None or when.affected_more_than is not None:
            self.threshold = _threshold(when.affected_at_least, when.affected_more_than, when.threshold_scope)
        # Without a threshold, a law names the people it reaches; a contract clause does not.
        self.names_places = self.threshold is None and rule.kind == "law"
        self.outcome: Callable[[Facts_, list[Place], Wording], Outcome] = (
            self._counted if self.threshold else self._named if self.names_places else self._chained
        )

    def _chained(self, read: Facts_, where: list[Place], wording: Wording) -> Outcome:
        last = self.chain.last  # the chain's outcome, if already worked out for these facts
        return (last if last[0] is read else self.chain.work_out(read))[1]

    def _named(self, read: Facts_, where: list[Place], wording: Wording) -> Outcome:
        last = self.chain.last
        found = (last if last[0] is read else self.chain.work_out(read))[1]
        if found[0] is not None or not where:
            return found
        # Worded only once the rule applies: the places come first among the reasons.
        return None, wording(where) + "; " + found[1]

    def _counted(self, read: Facts_, where: list[Place], wording: Wording) -> Outcome:
        counted = self.threshold(where)  # type: ignore[misc]
        if counted.__class__ is str:
            return counted, ""  # type: ignore[return-value]
        last = self.chain.last
        found = (last if last[0] is read else self.chain.work_out(read))[1]
        return found if found[0] is not None else (None, counted[0] + "; " + found[1])


# What the conditions read of the facts (``facts_read``), kept by identity for one incident.
Facts_ = tuple[tuple[str, ...], tuple[str, ...], "str | None", str]
# A chain's last facts read, its outcome for them, and its reasons (or why not).
_Last = tuple[object, Outcome, list[str] | str]


class _Chain:
    """The conditions of a rule other than a count threshold: data categories, sectors, risk, role.

    Rules with the same ones share a chain, and a chain keeps its outcome for the facts it was last
    asked of: an incident's candidate rules share a few chains, each then worked out once per incident.
    """

    __slots__ = ("last", "steps")

    def __init__(self, steps: tuple[_Step, ...]):
        self.steps = steps
        # (facts read, outcome, reasons), replaced whole so that a reader never pairs facts with an
        # outcome worked out for others.
        self.last: _Last = (None, (None, ""), [])

    def work_out(self, read: Facts_) -> _Last:
        """The outcome for these facts, kept as ``last``: (why not, "") or (None, the reasons the
        conditions are met, each followed by "; "); and the reasons, or why not."""
        reasons: list[str] = []
        last: _Last
        for step in self.steps:
            # Each step's answer is kept per value of the fact it reads: looked up here, not called.
            # A refusal's answer, (why, ""), is the chain's outcome as it stands.
            value = read[step.read]
            found = step.said.get(value) or step.answer(value)
            if found[0] is not None:
                self.last = last = (read, found, found[0])
                return last
            if found[1]:
                reasons.append(found[1])
        text = "; ".join(reasons) + "; " if reasons else ""
        self.last = last = (read, (None, text), reasons)
        return last


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


Threshold = Callable[[list[Place]], list[str] | str]  # the reason it is met (one), or why not


@lru_cache(maxsize=1024)
def _threshold(least: int | None, more: int | None, scope: str) -> Threshold:
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
        places = ", ".join(map(_code, where))
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


class _Step:
    """One condition: the fact it reads (``read``: 0 the data categories, 1 the sectors, 2 the risk,
    3 the role), and per value of it (``said``) the refusal, or None and the reason ("" for none)."""

    __slots__ = ("learn", "read", "said")

    def __init__(self, read: int, learn: Callable[[Any], tuple[str | None, str]]):
        self.read = read
        self.learn = learn
        self.said: dict[Any, tuple[str | None, str]] = {}

    def answer(self, value: Any) -> tuple[str | None, str]:
        """Worked out for a value not seen yet (kept, up to a bound)."""
        found = self.learn(value)
        if len(self.said) < _KEPT:
            self.said[value] = found
        return found


def _categories(wanted: tuple[str, ...]) -> _Step:
    assumed = f"assumes {'/'.join(wanted)} data: categories not yet known"
    needed = " or ".join(wanted)
    wanted_set = frozenset(wanted)

    def learn(named: tuple[str, ...]) -> tuple[str | None, str]:
        if not named:
            return None, assumed
        hit = sorted(personal(named) & wanted_set)
        if hit:
            return None, f"{', '.join(hit)} data"
        return f"needs {needed} data; facts name {', '.join(named)}", ""

    return _Step(0, learn)


def _sectors(wanted: tuple[str, ...]) -> _Step:
    needed = " or ".join(wanted)
    wanted_set = frozenset(wanted)

    def learn(sectors: tuple[str, ...]) -> tuple[str | None, str]:
        hit = sorted(wanted_set.intersection(sectors))
        if hit:
            return None, f"sector {', '.join(hit)}"
        return f"needs sector {needed}; facts name {', '.join(sectors) or 'none'}", ""

    return _Step(1, learn)


def _risk(least: str) -> _Step:
    rank = _RISK_RANK[least]

    def learn(risk: str | None) -> tuple[str | None, str]:
        if risk is None:
            return None, f"assumes risk at least {least}: not yet assessed"
        if _RISK_RANK[risk] < rank:
            return f"needs risk at least {least}; assessed {risk}", ""
        return None, f"risk {risk}"

    return _Step(2, learn)


def _role(role: str) -> _Step:
    def learn(acting_as: str) -> tuple[str | None, str]:
        if acting_as != role:
            return f"applies to a {role}; the organisation acts as {acting_as}", ""
        return None, ""

    return _Step(3, learn)


@lru_cache(maxsize=4096)
def personal(named: tuple[str, ...]) -> frozenset[str]:
    """The data categories the facts name; those that are personal data count as personal data too."""
    categories = frozenset(named)
    return categories | {"personal"} if categories & PERSONAL_CATEGORIES else categories

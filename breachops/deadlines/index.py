"""Which rules an incident's jurisdictions may meet, and which of its places each rule reaches.

Both depend only on the codes the facts name, so they are worked out once per combination of codes
and kept (``Layout``); an assessment then only adds the facts' counts and days.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from breachops.config.authorities import Directory
from breachops.config.jurisdictions import MEMBERSHIP, country_of
from breachops.config.rule_models import Rule
from breachops.config.zones import zone_of
from breachops.deadlines.plans import RulePlan, plans

__all__ = ["BLOC", "CONTRACT", "GAPS_KEPT", "KEPT", "Layout", "RuleIndex"]

# Where a candidate's places come from when not from a fixed subset of the facts' places.
BLOC = -1  # a bloc's law: by membership on the local day its clock starts
CONTRACT = -2  # a contract clause: every place of the facts
# Combinations of codes kept (a few kilobytes each), and per combination the gaps for so many
# combinations of blocs on the day (a handful exist); past either, worked out anew.
KEPT = 8192
GAPS_KEPT = 64
# Countries that ever belonged to a bloc: only their local day can change which blocs reach them.
_EVER_MEMBERS = frozenset(c for members in MEMBERSHIP.values() for c in members)


@lru_cache(maxsize=4096)
def _candidate_jurisdictions(code: str) -> tuple[str, ...]:
    """Rule jurisdictions that may reach people in ``code``: itself, its country, and every bloc its
    country ever belonged to (membership on the clock's day is checked per rule)."""
    country = country_of(code)
    blocs = (
        tuple(MEMBERSHIP) if code in MEMBERSHIP else tuple(b for b, m in MEMBERSHIP.items() if country in m)
    )
    return tuple(dict.fromkeys((code, country, *blocs)))


class Layout:
    """For one combination of codes: the candidate rules, each with the slot of the places it reaches
    (a position in ``subsets``, or BLOC), the zones of the places, and the gaps found so far by the
    blocs the places belonged to."""

    __slots__ = ("candidates", "gaps", "members", "subsets", "zones")

    def __init__(self, codes: tuple[str, ...], found: Iterable[tuple[RulePlan, list[int]]]):
        slots: dict[tuple[int, ...], int] = {}
        candidates: list[tuple[RulePlan, int]] = []
        for plan, positions in found:
            if plan.contract:
                candidates.append((plan, CONTRACT))
            elif plan.bloc:
                candidates.append((plan, BLOC))
            else:
                candidates.append((plan, slots.setdefault(tuple(positions), len(slots))))
        self.candidates = tuple(candidates)
        self.subsets = tuple(slots)
        # A bloc named as such has no zone of its own.
        self.zones = tuple(None if code in MEMBERSHIP else zone_of(code) for code in codes)
        self.members = tuple(
            (i, zone)
            for i, (code, zone) in enumerate(zip(codes, self.zones, strict=True))
            if zone is not None and country_of(code) in _EVER_MEMBERS
        )
        self.gaps: dict[tuple[tuple[str, ...], ...], tuple[str, ...]] = {}


class RuleIndex:
    """The rules by jurisdiction, so that an incident only looks at rules that can reach it."""

    def __init__(self, rules: Iterable[Rule], directory: Directory):
        self.directory = directory
        self.by_jurisdiction: dict[str, list[RulePlan]] = {}
        for plan in plans(rules, directory):
            self.by_jurisdiction.setdefault(plan.rule.jurisdiction, []).append(plan)
        self._cache: dict[tuple[str, ...], Layout] = {}
        self._by_code: dict[str, tuple[RulePlan, ...]] = {}

    def candidates(self, codes: Iterable[str]) -> list[Rule]:
        return [plan.rule for plan, _ in self.layout(tuple(codes)).candidates]

    def layout(self, codes: tuple[str, ...]) -> Layout:
        cached = self._cache.get(codes)
        if cached is None:
            # Each rule once, in the order first met, with the positions of the codes it was met
            # through: a rule not of a bloc reaches exactly those (its own code, or its country's).
            found: dict[str, tuple[RulePlan, list[int]]] = {}
            for position, code in enumerate(codes):
                for plan in self._meeting(code):
                    entry = found.get(plan.id)
                    if entry is None:
                        found[plan.id] = (plan, [position])
                    elif entry[0] is plan:
                        entry[1].append(position)
            cached = Layout(codes, found.values())
            if len(self._cache) < KEPT:
                self._cache[codes] = cached
        return cached

    def _meeting(self, code: str) -> tuple[RulePlan, ...]:
        """The rules of ``code``, of its country and of every bloc its country ever belonged to."""
        found = self._by_code.get(code)
        if found is None:
            found = self._by_code[code] = tuple(
                plan
                for jurisdiction in _candidate_jurisdictions(code)
                for plan in self.by_jurisdiction.get(jurisdiction, ())
            )
        return found

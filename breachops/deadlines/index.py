"""Which rules an incident's jurisdictions may meet, and which of its places each rule reaches.

Both depend only on the codes the facts name, so they are worked out once per combination of codes
and kept (``Layout``); an assessment then only adds the facts' counts and days.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from breachops.config.authorities import Directory
from breachops.config.jurisdictions import MEMBERSHIP, country_of, covers
from breachops.config.rules import Rule
from breachops.config.zones import zone_of
from breachops.deadlines.plans import RulePlan, plans

__all__ = ["BLOC", "CONTRACT", "Layout", "RuleIndex"]

# Where a candidate's places come from when not from a fixed subset of the facts' places.
BLOC = -1  # a bloc's law: by membership on the local day its clock starts
CONTRACT = -2  # a contract clause: every place of the facts
# Combinations of codes (and per combination, of blocs on the day) kept; past it, worked out anew.
KEPT = 65536
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

    def __init__(self, codes: tuple[str, ...], found: Iterable[RulePlan]):
        slots: dict[tuple[int, ...], int] = {}
        candidates: list[tuple[RulePlan, int]] = []
        for plan in found:
            if plan.contract:
                candidates.append((plan, CONTRACT))
            elif plan.bloc:
                candidates.append((plan, BLOC))
            else:
                reach = tuple(i for i, code in enumerate(codes) if covers(plan.rule.jurisdiction, code))
                candidates.append((plan, slots.setdefault(reach, len(slots))))
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

    def candidates(self, codes: Iterable[str]) -> list[Rule]:
        return [plan.rule for plan, _ in self.layout(tuple(codes)).candidates]

    def layout(self, codes: tuple[str, ...]) -> Layout:
        cached = self._cache.get(codes)
        if cached is None:
            found: dict[str, RulePlan] = {}
            for code in codes:
                for jurisdiction in _candidate_jurisdictions(code):
                    for plan in self.by_jurisdiction.get(jurisdiction, ()):
                        found.setdefault(plan.rule.id, plan)
            cached = Layout(codes, found.values())
            if len(self._cache) < KEPT:
                self._cache[codes] = cached
        return cached

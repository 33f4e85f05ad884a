"""Which rules an incident's jurisdictions may meet, and which of its places each rule reaches.

Both depend only on the codes the facts name, so they are worked out once per combination of codes
and kept (``Layout``); an assessment then only adds the facts' counts and days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

from breachops.config.authorities import Directory
from breachops.config.jurisdictions import MEMBERSHIP, blocs_of, country_of, membership_changes
from breachops.config.rule_models import Rule
from breachops.config.zones import zone_of
from breachops.deadlines.plans import RulePlan, plans

__all__ = ["BLOC", "CONTRACT", "GAPS_KEPT", "KEPT", "NOWHERE", "Layout", "RuleIndex"]

# Where a candidate's places come from when not from a fixed subset of the facts' places.
BLOC = -1  # a bloc's law: by membership on the local day its clock starts
CONTRACT = -2  # a contract clause: every place of the facts
NOWHERE = -3  # a bloc's law that reaches none of the places (in a period)
# Combinations of codes kept (a few kilobytes each), and per combination the gaps for so many
# combinations of blocs on the day (a handful exist); past either, worked out anew.
KEPT = 8192
GAPS_KEPT = 64
_DAY = timedelta(days=1)


def _by_place(candidate: tuple[RulePlan, int]) -> tuple[str, str]:
    return candidate[0].rule.jurisdiction, candidate[0].id


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
    """For one combination of codes: the candidate rules (by jurisdiction, then id), each with the slot
    of the places it reaches (a position in ``subsets``, or BLOC), the zones of the places, and the
    gaps found so far by the blocs the places belonged to.

    Which places a bloc reaches changes only on the days in ``changes`` (an accession, a withdrawal).
    On any UTC day but those and the day before each (``unsteady``: a local day may fall on the other
    side), it is ``bloc_slots[bloc]`` (NOWHERE, or a slot), ``period_blocs`` the places' blocs and
    ``period_gaps`` the gaps (once found), all for the period ``bisect_right(changes, day)``."""

    __slots__ = (
        "bloc_slots",
        "candidates",
        "changes",
        "gaps",
        "joined",
        "members",
        "period_blocs",
        "period_gaps",
        "subsets",
        "unsteady",
        "zones",
    )

    def __init__(
        self,
        codes: tuple[str, ...],
        found: Iterable[tuple[RulePlan, list[int]]],
        pairs: dict[tuple[RulePlan, int], tuple[RulePlan, int]],
    ):
        slots: dict[tuple[int, ...], int] = {}
        candidates: list[tuple[RulePlan, int]] = []
        blocs: dict[str, None] = {}
        for plan, positions in found:
            if plan.contract:
                candidates.append((plan, CONTRACT))
            elif plan.bloc:
                candidates.append((plan, BLOC))
                blocs[plan.rule.jurisdiction] = None
            else:
                candidates.append((plan, slots.setdefault(tuple(positions), len(slots))))
        # A rule has the same slot in many combinations: one pair (kept by the index) serves them all,
        # so that an assessment touches fewer objects. In the order an assessment lists the rules
        # that do not apply (by jurisdiction, then id), so that it need not sort them.
        candidates.sort(key=_by_place)
        self.candidates = tuple(pairs.setdefault(pair, pair) for pair in candidates)
        # A bloc named as such has no zone of its own.
        self.zones = zones = tuple(None if code in MEMBERSHIP else zone_of(code) for code in codes)
        self.members = tuple(
            (i, zone)
            for i, (code, zone) in enumerate(zip(codes, zones, strict=True))
            if zone is not None and country_of(code) in _EVER_MEMBERS
        )
        self.changes = tuple(
            sorted(
                {
                    day
                    for code, zone in zip(codes, zones, strict=True)
                    if zone
                    for day in membership_changes(code)
                }
            )
        )
        self.unsteady = frozenset(day for change in self.changes for day in (change - _DAY, change))
        periods = (date.min, *self.changes)  # a day of each period
        self.bloc_slots = {
            bloc: tuple(_slot(slots, _reach(codes, zones, bloc, day)) for day in periods) for bloc in blocs
        }
        self.period_blocs = tuple(tuple(blocs_of(codes[i], day) for i, _ in self.members) for day in periods)
        self.period_gaps: list[tuple[str, ...] | None] = [None] * len(periods)
        self.subsets = tuple(slots)
        self.gaps: dict[tuple[tuple[str, ...], ...], tuple[str, ...]] = {}
        self.joined: tuple[object, tuple[tuple[RulePlan, int], ...]] = (None, ())

    def with_contract(self, contract: tuple[tuple[RulePlan, int], ...]) -> tuple[tuple[RulePlan, int], ...]:
        """The candidates and an agreement's clauses, in the same order (a candidate before a clause of
        the same jurisdiction and id); kept for the last agreement asked of."""
        joined = self.joined
        if joined[0] is not contract:
            joined = self.joined = (contract, tuple(sorted(self.candidates + contract, key=_by_place)))
        return joined[1]


def _reach(codes: tuple[str, ...], zones: tuple[str | None, ...], bloc: str, day: date) -> tuple[int, ...]:
    # As the engine asks it on an unsteady day: a bloc named as such is reached whatever the day.
    return tuple(
        i
        for i, (code, zone) in enumerate(zip(codes, zones, strict=True))
        if bloc in blocs_of(code, None if zone is None else day)
    )


def _slot(slots: dict[tuple[int, ...], int], positions: tuple[int, ...]) -> int:
    return slots.setdefault(positions, len(slots)) if positions else NOWHERE


class RuleIndex:
    """The rules by jurisdiction, so that an incident only looks at rules that can reach it."""

    def __init__(self, rules: Iterable[Rule], directory: Directory):
        self.directory = directory
        self.by_jurisdiction: dict[str, list[RulePlan]] = {}
        for plan in plans(rules, directory):
            self.by_jurisdiction.setdefault(plan.rule.jurisdiction, []).append(plan)
        self._cache: dict[tuple[str, ...], Layout] = {}
        self._by_code: dict[str, tuple[RulePlan, ...]] = {}
        self._pairs: dict[tuple[RulePlan, int], tuple[RulePlan, int]] = {}

    def candidates(self, codes: Iterable[str]) -> list[Rule]:
        """The rules the codes may meet, in the order first met."""
        return [plan.rule for plan, _ in self._found(tuple(codes))]

    def layout(self, codes: tuple[str, ...]) -> Layout:
        cached = self._cache.get(codes)
        if cached is None:
            cached = Layout(codes, self._found(codes), self._pairs)
            if len(self._cache) < KEPT:
                self._cache[codes] = cached
        return cached

    def _found(self, codes: tuple[str, ...]) -> list[tuple[RulePlan, list[int]]]:
        # Each rule once, in the order first met, with the positions of the codes it was met through:
        # a rule not of a bloc reaches exactly those (its own code, or its country's).
        found: dict[str, tuple[RulePlan, list[int]]] = {}
        for position, code in enumerate(codes):
            for plan in self._meeting(code):
                entry = found.get(plan.id)
                if entry is None:
                    found[plan.id] = (plan, [position])
                elif entry[0] is plan:
                    entry[1].append(position)
        return list(found.values())

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

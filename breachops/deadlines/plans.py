"""Each rule worked out once per catalogue: its conditions as one function, its stages with their
windows, texts and zones, its recipients by the places it reaches.

The engine asks the same questions of a rule for every incident; the answers that do not depend on
the facts are kept here, so that an assessment only does what the facts make necessary.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache

from breachops.config.authorities import Directory, recipient_for, regime_of
from breachops.config.jurisdictions import MEMBERSHIP
from breachops.config.rule_models import Rule, Stage, Window
from breachops.config.zones import zone_of, zones_of_bloc
from breachops.deadlines.calendars import counter
from breachops.deadlines.conditions import Conditions
from breachops.deadlines.models import Fixed, NotApplicable

__all__ = ["RulePlan", "StagePlan", "WindowPlan", "rule_zones"]

_DAY = timedelta(days=1)
# Recipients per combination of places, and entries per set of local days, kept per rule; past it,
# worked out anew.
_KEPT = 4096
# Not-applicable entries per reason, kept per rule: the reasons that repeat (a sector, a category, a
# risk) are few; those that carry counts are many and are not all worth keeping.
_REFUSALS_KEPT = 256
_UNKNOWN = object()


class WindowPlan:
    """A window and what an obligation says of it."""

    __slots__ = (
        "basis",
        "count",
        "description",
        "elapsed",
        "own_zone",
        "shown",
        "single",
        "term",
        "timezone",
        "window",
    )

    def __init__(self, window: Window):
        self.window = window
        self.elapsed = window.elapsed
        self.timezone = window.timezone
        self.own_zone = (window.timezone,) if window.timezone else None
        self.description = window.description
        self.term = window.term
        self.basis = "target" if window.term else "deadline"
        # Counted in one zone only: the window's own, or none (elapsed time).
        self.count = counter(window)
        self.single = bool(window.timezone) or not window.local
        self.shown: tuple[object, object, tuple[str, ...]] = (None, None, ())

    def shown_zones(self, zones: tuple[str, ...], party_zones: tuple[str, ...]) -> tuple[str, ...]:
        """The zones an obligation shows its due time in, for the rule's ``zones`` and the parties'."""
        last = self.shown  # most rules count in the same zones for every incident: kept for the last
        if last[0] is not zones or last[1] is not party_zones:
            last = self.shown = (zones, party_zones, _shown_zones(self.own_zone or zones, party_zones))
        return last[2]

    def end(self, start: datetime, zones: tuple[str, ...]) -> datetime:
        """The window's end; counted in several zones, the earliest."""
        elapsed = self.elapsed
        if elapsed is not None:
            return start + elapsed  # clocks are UTC instants: elapsed time needs no calendar
        count = self.count
        if self.single or len(zones) == 1:
            return count(start, zones[0])
        return min(count(start, zone) for zone in zones)


class StagePlan:
    """One stage: where its clock starts, its window, an optional cap, and the clock texts."""

    __slots__ = (
        "after",
        "cap",
        "cap_clock",
        "cap_from",
        "clock",
        "earlier",
        "event",
        "fixed",
        "from_text",
        "name",
        "outer",
        "waiting",
        "window",
    )

    def __init__(self, stage: Stage, rule: Rule):
        self.name = stage.name
        self.fixed: Fixed = (
            rule.id, stage.name, rule.jurisdiction, rule.audience, rule.citation, rule.title,
            rule.source, rule.origin, rule.confirmed, rule.kind,
        )  # fmt: skip
        self.clock: str | None = stage.clock
        self.after = stage.after or ""
        self.window = WindowPlan(stage.window)
        self.event = event = stage.clock if stage.clock is not None else f"{stage.after} due"
        self.waiting = f"clock waits for {event}" + ("_at" if not event.endswith(" due") else "")
        self.from_text = f"{stage.window.description} from {event} "
        self.cap: WindowPlan | None = None
        self.cap_clock: str = ""
        self.outer = self.earlier = ""
        if stage.cap is not None:
            self.cap = WindowPlan(stage.cap.window)
            self.cap_clock = stage.cap.clock
            self.outer = (
                f" (the outer bound: the {stage.window.description} from {stage.clock}_at has not "
                "started, and this limit holds whatever it brings)"
            )
            self.earlier = f" (no later than; {stage.window.description} from {stage.clock} ends later)"
        # The cap's clock text, read against the cap's own start.
        self.cap_from = f"{stage.cap.window.description} from {stage.cap.clock} " if stage.cap else ""


class RulePlan:
    """A rule and everything about it that does not depend on the facts."""

    __slots__ = (
        "bloc",
        "bounded",
        "citation",
        "conditions",
        "contract",
        "directory",
        "first_clock",
        "force",
        "head",
        "id",
        "in_force_from",
        "in_force_until",
        "law",
        "outcome",
        "recipients",
        "refusals",
        "routed",
        "rule",
        "safe_from",
        "safe_until",
        "stages",
        "zones",
    )

    def __init__(self, rule: Rule, directory: Directory):
        self.rule = rule
        self.id = rule.id
        self.citation = rule.citation
        self.head = f"{rule.citation}: "
        self.law = rule.kind == "law"
        self.contract = rule.kind == "contract"
        self.bloc = rule.jurisdiction in MEMBERSHIP
        self.first_clock = rule.stages[0].clock or "aware"
        self.conditions = Conditions(rule)
        self.outcome = self.conditions.outcome
        self.bounded = rule.in_force_from is not None or rule.in_force_until is not None
        self.in_force_from = rule.in_force_from
        self.in_force_until = rule.in_force_until
        # An instant's local day is within a day of its UTC day: within these UTC days, in force everywhere.
        self.safe_from = date.min if rule.in_force_from is None else rule.in_force_from + _DAY
        self.safe_until = date.max if rule.in_force_until is None else rule.in_force_until - _DAY
        self.stages = tuple(StagePlan(stage, rule) for stage in rule.stages)
        # A bloc's law counts its days in the member states the facts name; any other rule in its own.
        self.zones = None if self.bloc and self.law else rule_zones(rule.jurisdiction, rule.kind, ())
        self.directory = directory
        # Only a bloc's rule sent to national bodies names them; any other keeps its own recipient.
        self.routed = regime_of(rule) is not None
        self.recipients: dict[tuple[str, ...], str] = {}
        self.refusals: dict[str, NotApplicable] = {}
        self.force: dict[tuple[date, ...], NotApplicable | None] = {}

    def refused(self, why: str) -> NotApplicable:
        """The rule does not apply, and why. The same reason gives the same (immutable) entry, kept."""
        found = self.refusals.get(why)
        if found is None:
            rule = self.rule
            found = NotApplicable(rule.id, rule.jurisdiction, self.citation, why)
            if len(self.refusals) < _REFUSALS_KEPT:
                self.refusals[why] = found
        return found

    def out_of_force(self, days: tuple[date, ...]) -> NotApplicable | None:
        """None if the rule is in force on any of ``days`` (the local days its clock starts, earliest
        first), else why not: kept per set of days."""
        found = self.force.get(days, _UNKNOWN)
        if found is not _UNKNOWN:
            return found  # type: ignore[return-value]
        rule = self.rule
        found = None
        if not any(rule.in_force_on(day) for day in days):
            since = rule.in_force_from
            day = days[-1] if since and days[-1] < since else days[0]
            if since and day < since:
                why = f"not in force on {day.isoformat()}: in force from {since.isoformat()}"
            else:
                why = f"not in force on {day.isoformat()}: repealed after {rule.in_force_until}"
            if rule.replaces:
                why += f" (it replaces {rule.replaces})"
            found = self.refused(why)
        if len(self.force) < _KEPT:
            self.force[days] = found
        return found

    def recipient(self, codes: tuple[str, ...]) -> str:
        """The recipient for facts in ``codes`` the rule reaches (asked only of a routed rule)."""
        found = self.recipients.get(codes)
        if found is None:
            found = recipient_for(self.rule, codes, self.directory)
            if len(self.recipients) < _KEPT:
                self.recipients[codes] = found
        return found


def plans(rules: Iterable[Rule], directory: Directory) -> list[RulePlan]:
    return [RulePlan(rule, directory) for rule in rules]


@lru_cache(maxsize=16384)
def rule_zones(jurisdiction: str, kind: str, where: tuple[str, ...]) -> tuple[str, ...]:
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


@lru_cache(maxsize=4096)
def _shown_zones(rule_zones: tuple[str, ...], party_zones: tuple[str, ...]) -> tuple[str, ...]:
    # The zones of the jurisdiction concerned (a few, for a bloc), then the parties' people's zones.
    return tuple(dict.fromkeys(z for z in rule_zones[:3] + party_zones if z != "UTC"))

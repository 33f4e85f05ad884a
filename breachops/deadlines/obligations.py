"""A rule that applies, made into its obligations: one per stage, with its due time and the words
that explain it.

``Run`` keeps what one assessment asks many times (local days, the places a bloc's rule reaches, the
wording of those places); ``apply`` is called once per rule whose conditions the facts meet.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from operator import itemgetter

from breachops.config.jurisdictions import blocs_of
from breachops.deadlines.calendars import tz
from breachops.deadlines.conditions import Place, people_affected
from breachops.deadlines.models import Facts, NotApplicable, Obligation, stage_obligation
from breachops.deadlines.plans import RulePlan, WindowPlan, rule_zones
from breachops.timefmt import utc_minute

__all__ = ["Run", "apply"]

_code = itemgetter(0)  # a Place's code


class Run:
    """What one assessment asks many times, worked out once: the clocks and their text, local days,
    the places a bloc's rule reaches, and their wording; with the instant of the assessment and the
    zones of the parties' people."""

    __slots__ = (
        "clocks",
        "days",
        "in_force_days",
        "now",
        "party_zones",
        "places",
        "reach",
        "stamps",
        "texts",
        "zone_sets",
    )

    def __init__(self, facts: Facts, places: list[Place], now: datetime, party_zones: tuple[str, ...]):
        self.clocks: dict[str, datetime | None] = {
            "aware": facts.aware_at,
            "discovered": facts.discovered_at or facts.aware_at,
            "assessed": facts.assessed_at,
            "material": facts.material_at,
            "classified": facts.classified_at,
        }
        self.places = places
        self.now = now
        self.party_zones = party_zones
        self.days: dict[tuple[datetime, str], date] = {}
        self.reach: dict[tuple[str, datetime], list[Place]] = {}
        self.zone_sets: dict[tuple[str, str, int], tuple[str, ...]] = {}
        self.in_force_days: dict[tuple[datetime, tuple[str, ...]], tuple[date, ...]] = {}
        self.texts: dict[int, str] = {}
        self.stamps: dict[datetime, str] = {}

    def affected_text(self, where: list[Place]) -> str:
        """'people affected in DE, FR (1,300)', once per list of places."""
        found = self.texts.get(id(where))
        if found is None:
            found = self.texts[id(where)] = people_affected(where)
        return found

    def stamp_of(self, instant: datetime) -> str:
        """``utc_minute(instant)``, as kept if an obligation wrote it."""
        return self.stamps.get(instant) or self.stamp(instant)

    def stamp(self, instant: datetime) -> str:
        """``utc_minute(instant)``, once per instant (an incident's clocks start several obligations)."""
        found = self.stamps[instant] = utc_minute(instant)
        return found

    def days_in(self, instant: datetime, zones: tuple[str, ...]) -> tuple[date, ...]:
        """The local dates of ``instant`` in ``zones``, earliest first."""
        if len(zones) == 1:
            return (self.day(instant, zones[0]),)
        key = (instant, zones)
        found = self.in_force_days.get(key)
        if found is None:
            found = self.in_force_days[key] = tuple(sorted({self.day(instant, zone) for zone in zones}))
        return found

    def zones(self, plan: RulePlan, where: list[Place]) -> tuple[str, ...]:
        """The zones of a bloc's law: of the member states it reaches."""
        # ``where`` lists live as long as the run (kept in ``reach``), so their identity is a key.
        rule = plan.rule
        key = (rule.jurisdiction, rule.kind, id(where))
        found = self.zone_sets.get(key)
        if found is None:
            codes = tuple(map(_code, where))
            found = self.zone_sets[key] = rule_zones(rule.jurisdiction, rule.kind, codes)
        return found

    def day(self, instant: datetime, zone: str) -> date:
        key = (instant, zone)
        found = self.days.get(key)
        if found is None:
            found = self.days[key] = instant.astimezone(tz(zone)).date()
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


def apply(
    plan: RulePlan,
    run: Run,
    reasons: str,
    where: list[Place],
    out: list[Obligation],
    not_applicable: list[NotApplicable],
) -> None:
    """Add the rule's obligations to ``out``, or to ``not_applicable`` why it is not in force.
    ``reasons`` are why it applies, each followed by "; "."""
    clocks = run.clocks
    now = run.now
    zones = plan.zones or run.zones(plan, where)
    if plan.bounded:
        started = clocks[plan.first_clock] or now  # the first stage's clock (now, while it waits)
        # Its UTC day (facts keep their instants in UTC).
        day = started.date() if started.tzinfo is UTC else started.astimezone(UTC).date()
        if not plan.safe_from <= day <= plan.safe_until:
            # A rule binds only where in force on the local day its clock starts (or today, while it
            # waits), in the zone of the jurisdiction concerned; counted in several, the rule applies
            # if in force in any.
            refused = plan.out_of_force(run.days_in(started, plan.stages[0].window.own_zone or zones))
            if refused is not None:
                not_applicable.append(refused)
                return

    party_zones = run.party_zones
    stamps = run.stamps
    recipient = plan.recipient(tuple(map(_code, where))) if plan.routed else plan.rule.recipient
    head = plan.head + reasons
    due_by_stage: dict[str, datetime | None] = {}
    for stage in plan.stages:
        window = stage.window
        event: str = stage.event
        # A later report counts from the earlier report's due time until its submission is recorded.
        start = clocks[stage.clock] if stage.clock is not None else due_by_stage.get(stage.after)
        if start is None:
            due = None
            clock = stage.waiting
        else:
            elapsed = window.elapsed
            due = start + elapsed if elapsed is not None else window.end(start, zones)
            clock = stage.from_text + (stamps.get(start) or run.stamp(start))
        cap = stage.cap
        if cap is not None:
            cap_start = clocks[stage.cap_clock]
            cap_due = cap.end(cap_start, zones) if cap_start is not None else None
            if cap_due is not None and (due is None or cap_due < due):
                # The cap binds (or is the only clock running): report its clock, so the due time is
                # read against the right start.
                clock = stage.cap_from + run.stamp(cap_start)  # type: ignore[arg-type]
                clock += stage.outer if due is None else stage.earlier
                due, start, event, window = cap_due, cap_start, stage.cap_clock, cap
        due_by_stage[stage.name] = due
        shown = window.shown_zones(zones, party_zones)
        if due is not None and len(zones) > 3 and window.elapsed is None:
            shown = _with_binding_zone(window, start, due, zones, shown)  # type: ignore[arg-type]
        out.append(
            stage_obligation(
                stage.fixed,
                recipient,
                head + clock,
                event,
                start,
                due,
                "awaiting_clock" if due is None else window.basis,  # type: ignore[arg-type]
                window.description,
                window.term,
                shown,
                "awaiting" if due is None else ("overdue" if due <= now else "pending"),
            )
        )


def _with_binding_zone(
    window: WindowPlan, start: datetime, due: datetime, zones: tuple[str, ...], shown: tuple[str, ...]
) -> tuple[str, ...]:
    """A bloc's window counted in more zones than are shown: the zone whose count gave the due time
    comes first, so that one of the local times shown is the end that binds."""
    if any(z in zones and window.count(start, z) == due for z in shown):
        return shown
    binding = next((z for z in zones if window.count(start, z) == due), None)
    return shown if binding is None else (binding, *(z for z in shown if z != binding))

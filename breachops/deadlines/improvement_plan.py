"""Gaps and the improvement plan: what went wrong in a drill, and what each party commits to fix before
the next one.

A gap names its subject (``step:freeze-access``, ``obligation:<key>``, ``acknowledgement``), so the next
drill can tell whether it is gone: an open corrective action is carried over until a drill observes
its subject without the gap. Pure, like the rest of scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from breachops.deadlines.drill_record import DrillRecord
from breachops.timefmt import format_span

if TYPE_CHECKING:  # the score holds the plan; the plan reads the score's outcomes
    from breachops.deadlines.scoring import ObligationOutcome, StepOutcome

__all__ = ["CorrectiveAction", "Gap", "find_gaps", "improvement_plan"]

GapKind = Literal["missed_obligation", "late_step", "skipped_step", "slow_acknowledgement"]
ActionStatus = Literal["open", "closed"]

# The order gaps are listed in: legal exposure first, then what the team did not do, then speed.
_GAP_ORDER: dict[str, int] = {
    "missed_obligation": 0,
    "skipped_step": 1,
    "late_step": 2,
    "slow_acknowledgement": 3,
}


@dataclass(frozen=True, slots=True)
class Gap:
    """One finding. ``subject`` names what it is about (``step:freeze-access``, ``obligation:<key>``,
    ``acknowledgement``) so the next drill can tell whether it is gone."""

    kind: GapKind
    subject: str
    summary: str
    owner_party: str
    owner_role: str
    by: timedelta | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}"


@dataclass(frozen=True, slots=True)
class CorrectiveAction:
    """An improvement each party commits to; carried into the next drill until a score shows it done."""

    action: str
    owner_party: str
    owner_role: str
    due: datetime
    gap: str
    subject: str
    status: ActionStatus = "open"
    carried_over: bool = False
    raised_in: str | None = None
    closed_in: str | None = None


def find_gaps(
    record: DrillRecord,
    steps: Sequence[StepOutcome],
    obligations: Sequence[ObligationOutcome],
    acknowledged: timedelta | None,
    acknowledge_within: timedelta,
) -> tuple[Gap, ...]:
    """Missed duties, late and skipped steps, and a slow first answer, in the order they matter."""
    owners = {o.key: (o.owner_party, o.owner_role) for o in record.obligations}
    gaps: list[Gap] = []
    for o in obligations:
        if o.status != "missed":
            continue
        late = -o.margin if o.margin is not None else None
        if o.met_at is not None:
            when = f"met {format_span(late)} late"
        elif late:
            when = f"not met by its due time, {format_span(late)} before the drill ended"
        else:
            when = "not met by its due time"
        party, role = owners[o.key]
        gaps.append(
            Gap(
                "missed_obligation",
                f"obligation:{o.key}",
                f"{o.title} ({o.jurisdiction}, {o.citation}) would have been missed: {when}",
                party,
                role,
                late,
            )
        )
    for s in steps:
        if s.result == "late":
            late = -s.margin if s.margin is not None else None
            gaps.append(
                Gap(
                    "late_step",
                    f"step:{s.step_id}",
                    f"'{s.title}' was done {format_span(late)} late",
                    s.owner_party,
                    s.owner_role,
                    late,
                )
            )
        elif s.result == "skipped":
            gaps.append(
                Gap(
                    "skipped_step",
                    f"step:{s.step_id}",
                    f"'{s.title}' was not done by the end of the drill",
                    s.owner_party,
                    s.owner_role,
                )
            )
    if acknowledged is None or acknowledged > acknowledge_within:
        summary = (
            "nobody answered during the drill"
            if acknowledged is None
            else f"the first answer came {format_span(acknowledged)} after T+0 (expected within "
            f"{format_span(acknowledge_within)})"
        )
        gaps.append(
            Gap("slow_acknowledgement", "acknowledgement", summary, "both", "incident_lead", acknowledged)
        )
    return tuple(sorted(gaps, key=lambda g: (_GAP_ORDER[g.kind], g.subject)))


def improvement_plan(
    record: DrillRecord,
    gaps: Sequence[Gap],
    steps: Sequence[StepOutcome],
    obligations: Sequence[ObligationOutcome],
    previous_plan: Sequence[CorrectiveAction],
    due: datetime,
    acknowledge_within: timedelta,
) -> tuple[CorrectiveAction, ...]:
    """A new action for each gap not already covered, then the previous plan's open actions carried
    over (closed where this drill observed their subject without the gap)."""
    current = {g.subject: g for g in gaps}
    # A subject this drill could have shown a gap for; otherwise a carried action stays open.
    seen = [s for s in steps if s.result not in ("not_reached", "moot")]
    observed = {"acknowledgement"} | {f"step:{s.step_id}" for s in seen}
    observed |= {f"obligation:{o.key}" for o in obligations if o.status != "open"}
    carried: list[CorrectiveAction] = []
    for action in previous_plan:
        if action.status == "closed":
            continue
        if action.subject in observed and action.subject not in current:
            carried.append(replace(action, status="closed", carried_over=True, closed_in=record.drill_id))
        else:
            gap = current.get(action.subject)
            carried.append(replace(action, carried_over=True, gap=gap.key if gap else action.gap))
    still_open = {a.subject for a in carried if a.status == "open"}
    new = [
        CorrectiveAction(
            action=_action_for(gap, acknowledge_within),
            owner_party=gap.owner_party,
            owner_role=gap.owner_role,
            due=due,
            gap=gap.key,
            subject=gap.subject,
            raised_in=record.drill_id,
        )
        for gap in gaps
        if gap.subject not in still_open
    ]
    return (*new, *carried)


def _action_for(gap: Gap, acknowledge_within: timedelta) -> str:
    what = gap.subject.split(":", 1)[-1]
    who = f"{_owner(gap.owner_party)} {gap.owner_role.replace('_', ' ')}"
    if gap.kind == "missed_obligation":
        return (
            f"Pre-approve the notice and a backup sender for {what}, and set a reminder well before "
            "its due time."
        )
    if gap.kind == "late_step":
        return (
            f"Write down and rehearse the procedure for {what} and name a deputy for {who}, so that it "
            f"fits its due time (it was {format_span(gap.by)} late)."
        )
    if gap.kind == "skipped_step":
        return f"Add {what} to the runbook of {who}, with a named deputy; it was not done in the drill."
    return (
        "Set up an on-call rota and paging for both parties' incident leads, so that the first answer "
        f"comes within {format_span(acknowledge_within)} of an incident opening."
    )


def _owner(party: str) -> str:
    return "both parties'" if party == "both" else f"the {party} party's"

"""Scoring a drill: how fast both parties acknowledged and contained, which duties they would have met,
which steps were late or never done, and (``improvement_plan``) what each party commits to fix before
the next drill.

Pure: the caller hands in a :class:`DrillRecord` (every instant in scenario time, timezone-aware) and the
previous drill's plan; nothing here reads a clock, the store or a file. The same record always gives the
same score, in the same order, so reports and their tests are stable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from breachops.deadlines.drill_record import DrillRecord, ObligationRecord, StepRecord
from breachops.deadlines.improvement_plan import CorrectiveAction, Gap, find_gaps, improvement_plan

__all__ = [
    "DrillScore",
    "GroupScore",
    "ObligationOutcome",
    "StepOutcome",
    "score_drill",
]

ObligationStatus = Literal["met", "missed", "open", "waived"]
# "moot": the answers left the step nothing to do (it was skipped with that reason): not owed, not scored.
StepResult = Literal["on_time", "late", "skipped", "not_reached", "moot"]
_BOTH = ("disclosing", "receiving")


# ---- the score (output) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ObligationOutcome:
    """``margin`` is the due time minus when it was met (or the drill's end, if not met): positive is
    time to spare, negative is how late. ``None`` when the obligation has no due time."""

    key: str
    title: str
    audience: str
    jurisdiction: str
    citation: str
    due: datetime | None
    met_at: datetime | None
    status: ObligationStatus
    margin: timedelta | None


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """``margin`` as for obligations; ``after_inject`` is the time from the inject that asked for the step
    to its completion, the measure of how the team reacted to that turn of the story."""

    step_id: str
    title: str
    phase: str
    owner_party: str
    owner_role: str
    due: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    result: StepResult
    margin: timedelta | None
    expected_by_inject: str | None
    after_inject: timedelta | None


@dataclass(frozen=True, slots=True)
class GroupScore:
    """Steps of one party or one role. ``share_on_time`` counts only steps due within the drill."""

    key: str
    on_time: int
    late: int
    skipped: int
    not_reached: int
    moot: int = 0

    @property
    def scored(self) -> int:
        return self.on_time + self.late + self.skipped

    @property
    def share_on_time(self) -> float | None:
        return None if self.scored == 0 else self.on_time / self.scored


@dataclass(frozen=True, slots=True)
class DrillScore:
    """A drill's score: the speed measures, each duty's and each step's outcome, the steps grouped by
    party and by role, the gaps found and the improvement plan."""

    drill_id: str
    time_to_acknowledge: timedelta | None
    time_to_contain: timedelta | None
    obligations: tuple[ObligationOutcome, ...]
    steps: tuple[StepOutcome, ...]
    by_party: tuple[GroupScore, ...]
    by_role: tuple[GroupScore, ...]
    gaps: tuple[Gap, ...]
    plan: tuple[CorrectiveAction, ...]

    @property
    def overall(self) -> GroupScore:
        return _group("all", self.steps)

    def obligation_count(self, status: ObligationStatus) -> int:
        return sum(1 for o in self.obligations if o.status == status)


# ---- scoring -------------------------------------------------------------------------------------


def score_drill(
    record: DrillRecord,
    previous_plan: Sequence[CorrectiveAction] = (),
    *,
    acknowledge_within: timedelta = timedelta(hours=1),
    actions_due_after: timedelta = timedelta(days=30),
) -> DrillScore:
    """Score ``record``. ``acknowledge_within`` is how soon after T+0 a first answer is expected;
    corrective actions are due ``actions_due_after`` the drill's end. Open actions of ``previous_plan``
    are carried over, and closed when this drill observed their subject without the gap."""
    acknowledged = _time_to_acknowledge(record)
    steps = tuple(_step_outcome(step, record) for step in record.steps)
    obligations = tuple(_obligation_outcome(o, record.ended_at) for o in record.obligations)
    gaps = find_gaps(record, steps, obligations, acknowledged, acknowledge_within)
    plan = improvement_plan(
        record,
        gaps,
        steps,
        obligations,
        previous_plan,
        record.ended_at + actions_due_after,
        acknowledge_within,
    )
    return DrillScore(
        drill_id=record.drill_id,
        time_to_acknowledge=acknowledged,
        time_to_contain=_time_to_contain(record),
        obligations=obligations,
        steps=steps,
        by_party=_groups(steps, lambda s: _parties(s.owner_party)),
        by_role=_groups(steps, lambda s: (s.owner_role,)),
        gaps=gaps,
        plan=plan,
    )


def _done_by_end(completed_at: datetime | None, ended_at: datetime) -> bool:
    return completed_at is not None and completed_at <= ended_at


def _time_to_acknowledge(record: DrillRecord) -> timedelta | None:
    """T+0 to the first answer a participant gave during the drill. Only answers count: a step the flow
    completes by itself (no gate) says nothing about whether anyone was listening."""
    instants = [a.at for a in record.answers if record.t0 <= a.at <= record.ended_at]
    return min(instants) - record.t0 if instants else None


def _time_to_contain(record: DrillRecord) -> timedelta | None:
    """T+0 to the moment the last containment step was done; None unless all were, by the end."""
    containment = [s for s in record.steps if s.phase == "containment"]
    if not containment or not all(_done_by_end(s.completed_at, record.ended_at) for s in containment):
        return None
    return max(s.completed_at for s in containment if s.completed_at is not None) - record.t0


def _step_outcome(step: StepRecord, record: DrillRecord) -> StepOutcome:
    done = _done_by_end(step.completed_at, record.ended_at) and step.status != "skipped"
    result: StepResult
    if step.status == "skipped":
        result, margin = "moot", None
    elif done:
        assert step.completed_at is not None
        late = step.due is not None and step.completed_at > step.due
        result = "late" if late else "on_time"
        margin = None if step.due is None else step.due - step.completed_at
    else:
        # A step due only after the drill ended was not yet owed: shown, but not held against anyone.
        owed = step.due is None or step.due <= record.ended_at
        result = "skipped" if owed else "not_reached"
        margin = None if step.due is None else step.due - record.ended_at
    delivered = {i.id: i.delivered_at or i.due_at for i in record.injects}
    asked_at = delivered.get(step.expected_by_inject or "")
    after_inject = step.completed_at - asked_at if done and asked_at and step.completed_at else None
    return StepOutcome(
        step_id=step.step_id,
        title=step.title,
        phase=step.phase,
        owner_party=step.owner_party,
        owner_role=step.owner_role,
        due=step.due,
        completed_at=step.completed_at if done else None,
        completed_by=step.completed_by if done else None,
        result=result,
        margin=margin,
        expected_by_inject=step.expected_by_inject,
        after_inject=after_inject,
    )


def _obligation_outcome(o: ObligationRecord, ended_at: datetime) -> ObligationOutcome:
    met_at = o.met_at if _done_by_end(o.met_at, ended_at) else None
    status: ObligationStatus
    if o.waived:
        status, margin = "waived", None
    elif o.due is None:
        status, margin = ("met" if met_at else "open"), None
    elif met_at is not None:
        margin = o.due - met_at
        status = "met" if margin >= timedelta(0) else "missed"
    else:
        margin = o.due - ended_at
        status = "open" if margin > timedelta(0) else "missed"
    return ObligationOutcome(
        key=o.key,
        title=o.title,
        audience=o.audience,
        jurisdiction=o.jurisdiction,
        citation=o.citation,
        due=o.due,
        met_at=met_at,
        status=status,
        margin=margin,
    )


def _parties(party: str) -> tuple[str, ...]:
    return _BOTH if party == "both" else (party,)


def _group(key: str, steps: Iterable[StepOutcome]) -> GroupScore:
    results = [s.result for s in steps]
    return GroupScore(
        key=key,
        on_time=results.count("on_time"),
        late=results.count("late"),
        skipped=results.count("skipped"),
        not_reached=results.count("not_reached"),
        moot=results.count("moot"),
    )


def _groups(
    steps: Sequence[StepOutcome], keys_of: Callable[[StepOutcome], Iterable[str]]
) -> tuple[GroupScore, ...]:
    members: dict[str, list[StepOutcome]] = {}
    for step in steps:
        for key in keys_of(step):
            members.setdefault(key, []).append(step)
    return tuple(_group(key, members[key]) for key in sorted(members))

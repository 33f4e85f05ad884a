"""Scoring a drill: how fast both parties acknowledged and contained, which duties they would have met,
which steps were late or never done, and what each party commits to fix before the next drill.

Pure: the caller hands in a :class:`DrillRecord` (every instant in scenario time, timezone-aware) and the
previous drill's plan; nothing here reads a clock, the store or a file. The same record always gives the
same score, in the same order, so reports and their tests are stable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, Literal

__all__ = [
    "AnswerRecord",
    "CorrectiveAction",
    "DrillRecord",
    "DrillScore",
    "Gap",
    "GroupScore",
    "InjectRecord",
    "ObligationOutcome",
    "ObligationRecord",
    "StepOutcome",
    "StepRecord",
    "format_span",
    "score_drill",
]

ObligationStatus = Literal["met", "missed", "open", "waived"]
StepResult = Literal["on_time", "late", "skipped", "not_reached"]
GapKind = Literal["missed_obligation", "late_step", "skipped_step", "slow_acknowledgement"]
ActionStatus = Literal["open", "closed"]

# The order gaps are listed in: legal exposure first, then what the team did not do, then speed.
_GAP_ORDER: dict[str, int] = {
    "missed_obligation": 0,
    "skipped_step": 1,
    "late_step": 2,
    "slow_acknowledgement": 3,
}
_BOTH = ("disclosing", "receiving")


# ---- what happened (input) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InjectRecord:
    id: str
    title: str
    due_at: datetime
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One playbook step as the drill left it. ``owner_party`` may be ``both``; ``status`` is the flow's
    (``done``, ``skipped``, ``waiting``, ...), and ``completed_at`` decides whether it was done."""

    step_id: str
    title: str
    phase: str
    owner_role: str
    owner_party: str
    ready_at: datetime | None = None
    due: datetime | None = None
    completed_at: datetime | None = None
    status: str = "pending"
    completed_by: str | None = None
    expected_by_inject: str | None = None


@dataclass(frozen=True, slots=True)
class ObligationRecord:
    """A duty the drill's facts would have created. ``owner_*`` is who answers for it in the plan: the
    owner of the step that discharges it, where the caller knows it."""

    key: str
    title: str
    audience: str
    jurisdiction: str
    citation: str
    due: datetime | None = None
    met_at: datetime | None = None
    waived: bool = False
    owner_party: str = "both"
    owner_role: str = "incident_lead"


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """A participant's answer at a gate; ``by`` is the person (name or address) who gave it."""

    at: datetime
    step_id: str
    party: str
    role: str
    by: str
    answer: Mapping[str, Any] = field(default_factory=dict)
    simulated: bool = False


@dataclass(frozen=True, slots=True)
class DrillRecord:
    drill_id: str
    scenario_id: str
    t0: datetime
    ended_at: datetime
    injects: tuple[InjectRecord, ...] = ()
    steps: tuple[StepRecord, ...] = ()
    obligations: tuple[ObligationRecord, ...] = ()
    answers: tuple[AnswerRecord, ...] = ()

    def __post_init__(self) -> None:
        _check_aware(self, "drill")
        for name in ("injects", "steps", "obligations", "answers"):
            for index, item in enumerate(getattr(self, name)):
                _check_aware(item, f"{name}[{index}]")
        if self.ended_at < self.t0:
            raise ValueError(f"drill.ended_at {self.ended_at.isoformat()} is before t0 {self.t0.isoformat()}")


def _check_aware(item: Any, where: str) -> None:
    for f in fields(item):
        value = getattr(item, f.name)
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError(f"{where}.{f.name} must be timezone-aware, got {value.isoformat()}")


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

    @property
    def scored(self) -> int:
        return self.on_time + self.late + self.skipped

    @property
    def share_on_time(self) -> float | None:
        return None if self.scored == 0 else self.on_time / self.scored


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


@dataclass(frozen=True, slots=True)
class DrillScore:
    """What :func:`score_drill` makes of one drill's record, every span in scenario time: T+0 to the
    first answer and to containment (None when it did not happen), each duty and step judged against its
    due time, the same judged per party and per role, the gaps found, and the improvement plan (the
    previous drill's actions carried over, closed where this drill shows them done)."""

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
    gaps = _gaps(record, steps, obligations, acknowledged, acknowledge_within)
    plan = _plan(
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
    if done:
        assert step.completed_at is not None
        late = step.due is not None and step.completed_at > step.due
        result = "late" if late else "on_time"
        margin = None if step.due is None else step.due - step.completed_at
    else:
        # A step due only after the drill ended was not yet owed: shown, but not held against anyone.
        owed = step.due is None or step.due <= record.ended_at or step.status == "skipped"
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
    )


def _groups(
    steps: Sequence[StepOutcome], keys_of: Callable[[StepOutcome], Iterable[str]]
) -> tuple[GroupScore, ...]:
    members: dict[str, list[StepOutcome]] = {}
    for step in steps:
        for key in keys_of(step):
            members.setdefault(key, []).append(step)
    return tuple(_group(key, members[key]) for key in sorted(members))


# ---- gaps and the improvement plan ---------------------------------------------------------------


def _gaps(
    record: DrillRecord,
    steps: Sequence[StepOutcome],
    obligations: Sequence[ObligationOutcome],
    acknowledged: timedelta | None,
    acknowledge_within: timedelta,
) -> tuple[Gap, ...]:
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


def _plan(
    record: DrillRecord,
    gaps: Sequence[Gap],
    steps: Sequence[StepOutcome],
    obligations: Sequence[ObligationOutcome],
    previous_plan: Sequence[CorrectiveAction],
    due: datetime,
    acknowledge_within: timedelta,
) -> tuple[CorrectiveAction, ...]:
    current = {g.subject: g for g in gaps}
    # A subject this drill could have shown a gap for; otherwise a carried action stays open.
    observed = {"acknowledgement"} | {f"step:{s.step_id}" for s in steps if s.result != "not_reached"}
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


def format_span(value: timedelta | None) -> str:
    """``2 d 3 h``, ``5 h 20 min``, ``45 min``, ``40 s``: the size of a span, as every report writes it.

    Rounded to the nearest unit shown, never cut: 1.01 h (60.6 min) is ``1 h 1 min``, not ``1 h``.
    Spans of days show hours only, the minutes being noise at that scale.
    """
    if value is None:
        return "an unknown time"
    seconds = abs(value.total_seconds())
    if seconds < 59.5:
        return f"{round(seconds)} s" if seconds >= 0.5 else "0 min"
    minutes = round(seconds / 60)
    if minutes >= 24 * 60:
        days, hours = divmod(round(seconds / 3600), 24)
        return f"{days} d {hours} h" if hours else f"{days} d"
    hours, mins = divmod(minutes, 60)
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"

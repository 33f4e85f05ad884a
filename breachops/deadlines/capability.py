"""Rating each exercise objective with HSEEP's four ratings, from the measures that observe it.

HSEEP (2020) rates a capability target as Performed without challenges (P), Performed with some
challenges (S), Performed with major challenges (M) or Unable to be performed (U). Here the rating
follows from the objective's measures in the drill's score, by the rule in :data:`RATING_RULE`; an
evaluator may override it with a reason, and the report shows both. Pure: no clock, store or file.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from breachops.deadlines.scoring import DrillScore, ObligationOutcome

__all__ = [
    "RATINGS",
    "RATING_RULE",
    "MeasureResult",
    "ObjectiveLike",
    "ObjectiveRating",
    "Override",
    "rate_objectives",
]

Rating = Literal["P", "S", "M", "U"]
MeasureStatus = Literal["on_time", "late", "missed", "not_observed"]

RATINGS: dict[str, str] = {
    "P": "Performed without challenges",
    "S": "Performed with some challenges",
    "M": "Performed with major challenges",
    "U": "Unable to be performed",
}
RATING_RULE = (
    "P: every measure met on time. S: at least half of the measures met, some late or missed. "
    "M: fewer than half met. U: none met. A step counts as met when done by the drill's end, on time "
    "when by its due time; a duty when discharged (or waived), on time when before it fell due; "
    "a discussion question when answered. "
    "A step or duty not yet owed when the drill ended, or a duty the drill's facts never created, "
    "is not observed and not counted; an objective with no observed measure is not rated unless an "
    "evaluator rates it."
)


class ObjectiveLike(Protocol):
    """What rating reads of an objective (``scenarios.Objective`` has it)."""

    id: str
    text: str
    capability: str
    target: str
    measured_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Override:
    """An evaluator's rating of an objective, with the reason; recorded in the drill's audit stream."""

    objective: str
    rating: Rating
    reason: str
    by: str


@dataclass(frozen=True, slots=True)
class MeasureResult:
    measure: str
    status: MeasureStatus


@dataclass(frozen=True, slots=True)
class ObjectiveRating:
    """``computed`` is the rule's rating (None when nothing was observed); ``rating`` the one that
    stands: the evaluator's when overridden."""

    objective: str
    text: str
    capability: str
    target: str
    measures: tuple[MeasureResult, ...]
    computed: Rating | None
    override: Override | None = None

    @property
    def rating(self) -> Rating | None:
        return self.override.rating if self.override is not None else self.computed


def rate_objectives(
    objectives: Sequence[ObjectiveLike],
    score: DrillScore,
    overrides: Mapping[str, Override] | None = None,
    answered: Collection[str] = (),
) -> tuple[ObjectiveRating, ...]:
    """Rate every objective of the scenario, in its written order; the last override of each stands.
    ``answered`` holds the ``<inject id>/<question id>`` of every discussion question answered."""
    overrides = overrides or {}
    return tuple(
        ObjectiveRating(
            objective=o.id,
            text=o.text,
            capability=o.capability,
            target=o.target,
            measures=(results := tuple(_measure(m, score, answered) for m in o.measured_by)),
            computed=_computed(results),
            override=overrides.get(o.id),
        )
        for o in objectives
    )


def _computed(results: Sequence[MeasureResult]) -> Rating | None:
    observed = [r.status for r in results if r.status != "not_observed"]
    if not observed:
        return None
    on_time = observed.count("on_time")
    met = on_time + observed.count("late")
    if on_time == len(observed):
        return "P"
    if met == 0:
        return "U"
    return "S" if met * 2 >= len(observed) else "M"


def _measure(measure: str, score: DrillScore, answered: Collection[str]) -> MeasureResult:
    kind, _, ref = measure.partition(":")
    if kind == "step":
        step = next((s for s in score.steps if s.step_id == ref), None)
        if step is None or step.result in ("not_reached", "moot"):
            return MeasureResult(measure, "not_observed")
        if step.result in ("on_time", "late"):
            return MeasureResult(measure, step.result)
        return MeasureResult(measure, "missed")
    if kind == "obligation":
        duties = [o for o in score.obligations if o.key == ref or o.key.startswith(f"{ref}/")]
        if not duties:
            return MeasureResult(measure, "not_observed")
        statuses = [_duty(o) for o in duties if o.status != "open"]
        if not statuses:
            return MeasureResult(measure, "not_observed")
        worst = max(statuses, key=("on_time", "late", "missed").index)
        return MeasureResult(measure, worst)
    if kind == "question":
        return MeasureResult(measure, "on_time" if ref in answered else "missed")
    return MeasureResult(measure, "not_observed")


def _duty(outcome: ObligationOutcome) -> MeasureStatus:
    """Scoring calls a duty met after its due time ``missed``; here it is met, late."""
    if outcome.status == "waived":
        return "on_time"
    if outcome.met_at is None:
        return "missed"
    return "on_time" if outcome.status == "met" else "late"

"""What happened in a drill, as the scorer reads it: the injects delivered, the steps as the drill left
them, the duties its facts would have created, and the participants' answers.

Every instant is scenario time and must be timezone-aware; a record is checked when it is built, so the
scorer never compares a naive instant with an aware one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

__all__ = ["AnswerRecord", "DrillRecord", "InjectRecord", "ObligationRecord", "StepRecord"]


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

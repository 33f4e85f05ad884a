"""Playbooks: the steps both parties take after a leak, in four phases, with owners, due times and gates.

A playbook is definition only. It does not know the clock, the store or Prefect: the flows walk it,
the deadlines layer supplies the obligations a step's due time may be tied to, and a person's answer at
a gate becomes facts through :meth:`Gate.fact_changes` (``gates``). Phases group steps for reading and
reporting; ``depends_on`` is what sequences them (``graph``), so two steps without a dependency
between them may run in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import Field, field_validator, model_validator

from breachops.config.agreements import Role
from breachops.config.rule_models import AUDIENCES, CLOCK_EVENTS, Audience
from breachops.config.values import MAX_SPAN_DAYS, Whole
from breachops.playbooks.base import KEY, Strict, check_party_key, check_slug
from breachops.playbooks.gates import Gate
from breachops.playbooks.graph import PHASES, Phase, graph_problems, phase_order_problem

__all__ = [
    "DUE_EVENTS",
    "Due",
    "ObligationLike",
    "ObligationRef",
    "Owner",
    "Playbook",
    "Step",
]

DueEvent = Literal["opened", "aware", "discovered", "assessed", "material", "classified"]
DUE_EVENTS: tuple[str, ...] = DueEvent.__args__  # type: ignore[attr-defined]

assert set(DUE_EVENTS) == {"opened", *CLOCK_EVENTS}, "a step may be due from any clock event, or opening"

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class Owner(Strict):
    """Who does a step: a role at a party. ``both`` means the disclosing and the receiving party."""

    role: Role
    party: str

    _party = field_validator("party")(check_party_key)

    @property
    def parties(self) -> tuple[str, ...]:
        return ("disclosing", "receiving") if self.party == "both" else (self.party,)


class ObligationRef(Strict):
    """Which obligations a due time follows: one rule by id, or every obligation to an audience."""

    rule: str | None = None
    audience: Audience | None = None

    @model_validator(mode="after")
    def _one(self) -> ObligationRef:
        if (self.rule is None) == (self.audience is None):
            raise ValueError(f"name exactly one of rule (a rule id) or audience ({', '.join(AUDIENCES)})")
        if self.rule is not None:
            check_slug(self.rule, "rule id")
        return self

    def matches(self, obligation: ObligationLike) -> bool:
        if self.rule is not None:
            return obligation.rule_id == self.rule
        return obligation.audience == self.audience


class ObligationLike(Protocol):
    """What :meth:`Due.resolve` needs of an obligation (``deadlines.models.Obligation`` has it)."""

    rule_id: str
    audience: str
    due: datetime | None
    status: str


class Due(Strict):
    """When a step is due: an offset from an incident event, or some hours before an obligation.

    ``{from: aware, hours: 2}`` (``minutes`` too) or ``{obligation: {audience: regulator},
    before_hours: 4}``. A step tied to an obligation is due before the earliest matching obligation
    that has a due time, so the team finishes the step in time for the strictest duty.
    """

    from_: DueEvent | None = Field(default=None, alias="from")
    # The upper bounds (ten years) only catch typos that would overflow a due time.
    hours: Whole | None = Field(default=None, ge=0, le=24 * MAX_SPAN_DAYS)
    minutes: Whole | None = Field(default=None, ge=0, le=24 * 60 * MAX_SPAN_DAYS)
    obligation: ObligationRef | None = None
    before_hours: Whole | None = Field(default=None, ge=0, le=24 * MAX_SPAN_DAYS)

    @model_validator(mode="after")
    def _one_kind(self) -> Due:
        if (self.from_ is None) == (self.obligation is None):
            raise ValueError(
                "a due time needs exactly one of from (an incident event) or obligation "
                "(e.g. {from: opened, hours: 2} or {obligation: {audience: counterparty}, before_hours: 4})"
            )
        if self.from_ is not None:
            if self.hours is None and self.minutes is None:
                raise ValueError(f"a due time from {self.from_!r} needs hours or minutes")
            if self.before_hours is not None:
                raise ValueError("before_hours belongs to a due time tied to an obligation, not to from")
        elif self.hours is not None or self.minutes is not None:
            raise ValueError("a due time tied to an obligation takes before_hours, not hours or minutes")
        return self

    @property
    def kind(self) -> Literal["event", "obligation"]:
        return "event" if self.from_ is not None else "obligation"

    @property
    def offset(self) -> timedelta:
        """After the event for ``from``; before the obligation (a positive span) for ``obligation``."""
        if self.from_ is not None:
            return timedelta(hours=self.hours or 0, minutes=self.minutes or 0)
        return timedelta(hours=self.before_hours or 0)

    def resolve(
        self, events: Mapping[str, datetime | None], obligations: Iterable[ObligationLike] = ()
    ) -> datetime | None:
        """The due instant, or None while its event has not happened or no matching obligation has a date.

        ``events`` maps event names (``opened``, ``aware``, ...) to instants. Waived obligations do not
        count: nothing is owed to them.
        """
        if self.from_ is not None:
            start = events.get(self.from_)
            if start is None and self.from_ == "discovered":
                start = events.get("aware")
            return None if start is None else start + self.offset
        assert self.obligation is not None
        dues = [
            o.due
            for o in obligations
            if o.due is not None
            and getattr(o, "status", "pending") != "waived"
            and self.obligation.matches(o)
        ]
        return min(dues) - self.offset if dues else None

    def describe(self) -> str:
        if self.from_ is not None:
            parts = [f"{self.hours} h" if self.hours else "", f"{self.minutes} min" if self.minutes else ""]
            span = " ".join(p for p in parts if p) or "0 h"
            return f"{span} after {self.from_}"
        assert self.obligation is not None
        target = (
            f"rule {self.obligation.rule}"
            if self.obligation.rule
            else f"the first {self.obligation.audience} obligation"
        )
        return f"{self.before_hours or 0} h before {target}"


class Step(Strict):
    """One action of a playbook: who does it, by when, after which other steps, and what must happen
    (the gate) before it counts as done. ``id`` is unique across the playbook's phases."""

    id: str
    title: str
    description: str
    owner: Owner
    due: Due | None = None
    depends_on: tuple[str, ...] = ()
    gate: Gate = Gate()

    _id = field_validator("id")(lambda v: check_slug(v, "step id"))

    @field_validator("depends_on", mode="before")
    @classmethod
    def _one_dependency(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("depends_on")
    @classmethod
    def _repeat(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if value.count(item) > 1:
                raise ValueError(f"{item!r} is listed twice")
        return value

    def validate_answer(self, answer: Mapping[str, Any] | None, source: str | Path | None) -> dict[str, Any]:
        return self.gate.validate_answer(answer, step_id=self.id, source=source)


class Playbook(Strict):
    """A versioned playbook: the four phases in order, each a tuple of steps, checked as a whole on
    loading (unique ids, known dependencies, no cycle). ``origin`` is the file it came from."""

    name: str
    version: str
    title: str
    description: str
    kind: str
    phases: dict[Phase, tuple[Step, ...]]
    origin: str = Field(default="", exclude=True)

    _name = field_validator("name")(lambda v: check_slug(v, "playbook name"))

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _SEMVER.match(value):
            raise ValueError(f"{value!r} is not a semantic version such as 1.0.0")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not KEY.match(value):
            raise ValueError(f"{value!r} is not a kind: lower_snake, e.g. leak or compelled_disclosure")
        return value

    @field_validator("phases", mode="before")
    @classmethod
    def _phase_order(cls, value: Any) -> Any:
        problem = phase_order_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _graph(self) -> Playbook:
        problems = graph_problems(self.phases)
        if problems:
            first = problems[0]
            raise ValueError(f"{first.path}: {first.problem} ({first.value!r})")
        return self

    def steps(self) -> list[Step]:
        """Every step, phase by phase, in the order written."""
        return [step for phase in PHASES for step in self.phases[phase]]  # type: ignore[index]

    def step(self, step_id: str) -> Step:
        for step in self.steps():
            if step.id == step_id:
                return step
        raise KeyError(f"playbook {self.name!r} has no step {step_id!r}")

    def phase_of(self, step_id: str) -> str:
        for phase in PHASES:
            if any(s.id == step_id for s in self.phases[phase]):  # type: ignore[index]
                return phase
        raise KeyError(f"playbook {self.name!r} has no step {step_id!r}")

    def ready_steps(self, done: Iterable[str]) -> list[Step]:
        """Steps not yet done whose dependencies all are: what may run now, in parallel, in written order."""
        done = set(done)
        steps = self.steps()
        unknown = done - {s.id for s in steps}
        if unknown:
            raise ValueError(f"playbook {self.name!r} has no step {sorted(unknown)[0]!r}")
        return [s for s in steps if s.id not in done and all(d in done for d in s.depends_on)]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

"""Drill scenarios: a story in timed injects, played through a playbook by both parties' people.

A scenario is written in scenario time (``scenario_time``): resolving it against a start instant
``t0`` gives the facts known at the start, what each inject reveals, and when it is due. Building one
runs the cross-field checks (``scenario_checks``); the loader (``loader``) runs them itself, with the
playbook and the rule catalogue, to name the file and field of a problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from breachops.config.agreements import Role
from breachops.deadlines.models import Facts, parse_facts
from breachops.playbooks.base import Strict, check_party_key, check_slug
from breachops.playbooks.scenario_checks import scenario_problems
from breachops.playbooks.scenario_time import (
    INSTANT_FACTS,
    as_utc,
    format_offset,
    instant_offset,
    parse_offset,
    parse_span,
    resolve_instants,
)

__all__ = [
    "DEFER_CHECKS",
    "MEASURE_KINDS",
    "Inject",
    "Objective",
    "ParticipantRole",
    "Question",
    "Scenario",
    "SimulatedStep",
    "Simulation",
]

_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+-]*$")
# A deferred validation lets the loader run the cross-field checks itself and name file and field.
DEFER_CHECKS = "defer_checks"


def _expand_both(value: Any) -> Any:
    """``{party: both, role: legal}`` stands for the role at the disclosing and at the receiving party."""
    if not isinstance(value, list | tuple):
        return value
    out: list[Any] = []
    for item in value:
        if isinstance(item, Mapping) and item.get("party") == "both":
            out += [{**item, "party": party} for party in ("disclosing", "receiving")]
        else:
            out.append(item)
    return out


class ParticipantRole(Strict):
    """A role at a party; the agreement's contacts say who that is and in which time zone."""

    party: str
    role: Role

    _party = field_validator("party")(check_party_key)

    @property
    def label(self) -> str:
        return f"{self.party}/{self.role}"


class Question(Strict):
    """A discussion question sent with an inject; participants answer it with `drill answer`."""

    id: str
    text: str

    _id = field_validator("id")(lambda v: check_slug(v, "question id"))

    def __str__(self) -> str:
        return self.text


def _questions(value: Any) -> Any:
    """A bare question is ``q<n>``: ``questions: ["Who decides?"]`` reads as ``[{id: q1, text: ...}]``."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return value
    return [
        {"id": f"q{index + 1}", "text": item} if isinstance(item, str) else item
        for index, item in enumerate(value)
    ]


class Contingency(Strict):
    """When a contingency inject is delivered: only if, at its time, ``step_not_done`` is not done yet,
    or the gate answer ``answer`` (``<step>.<field>``) equals ``equals``. Otherwise it is skipped."""

    step_not_done: str | None = None
    answer: str | None = None
    equals: Any = None

    @model_validator(mode="after")
    def _one_test(self) -> Contingency:
        if (self.step_not_done is None) == (self.answer is None):
            raise ValueError("give one test: step_not_done: STEP, or answer: STEP.FIELD with equals: VALUE")
        if self.answer is not None and (self.answer.count(".") != 1 or self.equals is None):
            raise ValueError("answer names STEP.FIELD and needs equals: VALUE")
        return self

    @property
    def step(self) -> str:
        return self.step_not_done or str(self.answer).split(".", 1)[0]


class Inject(Strict):
    """One event of the story, emailed to participants at its offset; it may reveal new facts and ask
    discussion questions. A contingency inject (``if:``) goes out only when its test holds."""

    id: str
    at: timedelta
    title: str
    message: str
    to: Literal["all"] | tuple[ParticipantRole, ...] = "all"
    reveals: dict[str, Any] = Field(default_factory=dict)
    expects: tuple[str, ...] = ()
    questions: tuple[Question, ...] = ()
    when: Contingency | None = Field(default=None, alias="if")

    _id = field_validator("id")(lambda v: check_slug(v, "inject id"))
    _questions = field_validator("questions", mode="before")(_questions)
    _at = field_validator("at", mode="before")(parse_offset)
    _to = field_validator("to", mode="before")(_expand_both)

    @field_validator("at")
    @classmethod
    def _not_before_start(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError(f"{format_offset(value)} is before the drill starts; injects happen from T+0")
        return value

    @field_validator("reveals")
    @classmethod
    def _fact_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, item in value.items():
            if name not in Facts.model_fields:
                raise ValueError(f"{name!r} is not a fact; facts are {', '.join(Facts.model_fields)}")
            if name in INSTANT_FACTS and item is not None:
                instant_offset(item)
        return value

    @field_validator("expects", mode="before")
    @classmethod
    def _one_expected(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def due_at(self, t0: datetime) -> datetime:
        """When the inject is delivered: ``t0`` plus its offset, in UTC."""
        return as_utc(t0) + self.at

    def reveals_at(self, t0: datetime) -> dict[str, Any]:
        """The fact changes this inject reveals, offsets resolved against ``t0`` into UTC instants."""
        return resolve_instants(self.reveals, t0)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions) or "none"
        raise KeyError(f"inject {self.id!r} has no question {question_id!r}; its questions: {known}")

    def recipients(self, participants: Sequence[ParticipantRole]) -> tuple[ParticipantRole, ...]:
        return tuple(participants) if self.to == "all" else self.to


MEASURE_KINDS: tuple[str, ...] = ("step", "obligation", "question")


def _measure(value: Any) -> str:
    """``step:<step id>``, ``obligation:<rule id>`` or ``question:<inject id>/<question id>``."""
    if not isinstance(value, str) or ":" not in value:
        raise ValueError(f"{value!r} is not a measure such as step:<id>, obligation:<rule id>")
    kind, _, ref = value.partition(":")
    if kind not in MEASURE_KINDS:
        raise ValueError(f"{kind!r} is not a kind of measure; kinds are {', '.join(MEASURE_KINDS)}")
    if not ref.strip() or ref != ref.strip() or len(ref) > 120:
        raise ValueError(f"{value!r} names nothing after {kind}:")
    return value


class Objective(Strict):
    """What the exercise sets out to test (HSEEP): a capability, and the observable measures that say
    whether it was performed. A free-text objective has no measures and is never rated by itself."""

    id: str
    text: str
    capability: str = ""
    measured_by: tuple[str, ...] = ()
    target: str = ""

    _id = field_validator("id")(lambda v: check_slug(v, "objective id"))

    @field_validator("measured_by", mode="before")
    @classmethod
    def _measures(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list | tuple):
            return [_measure(item) for item in items]
        return items

    def measures(self, kind: str) -> tuple[str, ...]:
        """The references of one kind of measure, e.g. the step ids of ``step:`` measures."""
        return tuple(m.partition(":")[2] for m in self.measured_by if m.partition(":")[0] == kind)

    def __str__(self) -> str:
        return self.text


def _objectives(value: Any) -> Any:
    """Free text (today's shape) becomes an objective ``objective-<n>`` with no measures."""
    if not isinstance(value, list | tuple):
        return value
    return [
        {"id": f"objective-{index + 1}", "text": item} if isinstance(item, str) else item
        for index, item in enumerate(value)
    ]


class SimulatedStep(Strict):
    """How a scripted participant answers a step in ``--simulate``: after ``delay`` of scenario time
    from the step becoming ready, with ``answer`` (gate fields; the rest are filled by default)."""

    delay: timedelta | None = None
    answer: dict[str, Any] = Field(default_factory=dict)

    _delay = field_validator("delay", mode="before")(lambda v: None if v is None else parse_span(v))


class Simulation(Strict):
    """The script of ``--simulate``: how long the scripted participants take at each step (scenario
    time) and what they answer; a step not listed is answered after ``default_delay`` with defaults."""

    default_delay: timedelta = timedelta(minutes=30)
    steps: dict[str, SimulatedStep] = Field(default_factory=dict)

    _delay = field_validator("default_delay", mode="before")(parse_span)

    @field_validator("steps", mode="before")
    @classmethod
    def _none_is_default(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    def delay_for(self, step_id: str) -> timedelta:
        """Scenario time from a step becoming ready to its simulated answer."""
        scripted = self.steps.get(step_id)
        return scripted.delay if scripted is not None and scripted.delay is not None else self.default_delay


class Scenario(Strict):
    """A drill's story: who takes part, the facts known at T+0, the injects that reveal more at their
    offsets, what the exercise sets out to test, and the playbook the participants follow. Every
    instant is scenario time; ``origin`` is the file it came from."""

    id: str
    version: str
    title: str
    narrative: str
    objectives: tuple[Objective, ...] = ()
    playbook: str
    duration: timedelta
    participants: tuple[ParticipantRole, ...]
    facts: dict[str, Any]
    injects: tuple[Inject, ...]
    simulation: Simulation = Simulation()
    origin: str = Field(default="", exclude=True)

    _id = field_validator("id")(lambda v: check_slug(v, "scenario id"))
    _playbook = field_validator("playbook")(lambda v: check_slug(v, "playbook name"))
    _duration = field_validator("duration", mode="before")(parse_span)
    _participants = field_validator("participants", mode="before")(_expand_both)
    _objectives = field_validator("objectives", mode="before")(_objectives)

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(f'{value!r} is not a version string; quote it in YAML, e.g. version: "1"')
        if not _VERSION.match(value):
            raise ValueError(f'{value!r} is not a version such as "1" or "2.1"')
        return value

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("a scenario lasts longer than zero")
        return value

    @field_validator("participants")
    @classmethod
    def _distinct(cls, value: tuple[ParticipantRole, ...]) -> tuple[ParticipantRole, ...]:
        if not value:
            raise ValueError("a drill needs participants: a list of {party, role}")
        labels = [p.label for p in value]
        twice = sorted({label for label in labels if labels.count(label) > 1})
        if twice:
            raise ValueError(f"{twice[0]} is listed twice")
        return value

    @field_validator("facts")
    @classmethod
    def _facts(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, item in value.items():
            if name in INSTANT_FACTS and item is not None:
                instant_offset(item)
        return value

    @field_validator("injects")
    @classmethod
    def _in_time_order(cls, value: tuple[Inject, ...]) -> tuple[Inject, ...]:
        # Written order is kept for injects at the same instant; the story reads in time order.
        return tuple(sorted(value, key=lambda inject: inject.at))

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Scenario:
        if info.context and info.context.get(DEFER_CHECKS):
            return self
        problems = scenario_problems(self)
        if problems:
            path, value, problem = problems[0]
            raise ValueError(f"{path}: {problem} ({value!r})")
        return self

    # -- resolving scenario time -------------------------------------------------------------------

    def end(self, t0: datetime) -> datetime:
        return as_utc(t0) + self.duration

    def facts_at(self, t0: datetime) -> dict[str, Any]:
        """The facts known at the start, instants resolved against ``t0`` (what ``parse_facts`` takes)."""
        return resolve_instants(self.facts, t0)

    def final_facts(self, t0: datetime) -> Facts:
        """Every fact the story reveals by its end."""
        known = self.facts_at(t0)
        for inject in self.injects:
            known.update(inject.reveals_at(t0))
        return parse_facts(known, self.origin or self.id)

    def inject(self, inject_id: str) -> Inject:
        for inject in self.injects:
            if inject.id == inject_id:
                return inject
        raise KeyError(f"scenario {self.id!r} has no inject {inject_id!r}")

    def objective(self, objective_id: str) -> Objective:
        for objective in self.objectives:
            if objective.id == objective_id:
                return objective
        known = ", ".join(o.id for o in self.objectives) or "none"
        raise KeyError(f"scenario {self.id!r} has no objective {objective_id!r}; objectives: {known}")

    def expected_by(self) -> dict[str, str]:
        """Step id → the first inject (in time order) expecting it, for scoring what each inject asked."""
        out: dict[str, str] = {}
        for inject in self.injects:
            for step_id in inject.expects:
                out.setdefault(step_id, inject.id)
        return out

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

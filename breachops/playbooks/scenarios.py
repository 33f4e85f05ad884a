"""Drill scenarios: a story in timed injects, played through a playbook by both parties' people.

A scenario is written in scenario time: every instant is an offset from the drill's start (``T+0``,
``T-6h``, ``T+1d2h``), so the same file can be run on any day and at any speed. Resolving it against a
start instant ``t0`` gives the facts known at the start, what each inject reveals, and when it is due.

Loading checks everything a drill would otherwise trip over hours in: that the playbook exists and has
the steps the injects expect, that the facts (at the start and after each inject) are facts the
deadline engine accepts, and that a scripted participant in ``--simulate`` can answer every gate.
Facts are checked with the deadline domain's own ``parse_facts`` (pure, no I/O), so a scenario cannot
reveal a fact an incident could not hold.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from breachops.config.agreements import Role
from breachops.config.values import MAX_SPAN_DAYS
from breachops.config.yaml import read_yaml
from breachops.deadlines.models import Facts, parse_facts
from breachops.errors import InputError, from_validation_error
from breachops.playbooks.files import find_named, looks_like_path, shipped_files, yaml_files_in
from breachops.playbooks.loader import load_playbook
from breachops.playbooks.models import FieldSpec, Playbook, Step, check_party_key

__all__ = [
    "INSTANT_FACTS",
    "Inject",
    "Objective",
    "Participant",
    "Question",
    "Scenario",
    "SimulatedStep",
    "Simulation",
    "find_scenario",
    "format_offset",
    "list_scenarios",
    "load_scenario",
    "parse_offset",
    "parse_scenario",
    "parse_span",
    "rule_ids_for",
    "shipped_scenario_files",
    "simulated_answer",
]

INSTANT_FACTS: tuple[str, ...] = tuple(
    name for name in Facts.model_fields if name.endswith("_at")
)  # aware_at, discovered_at, ...
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+-]*$")
_SPAN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_OFFSET = re.compile(r"^T\s*([+-])\s*(\S+)$")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}")  # a calendar date: YAML 1.2 reads it as text
_MAX_SPAN = timedelta(days=MAX_SPAN_DAYS)  # ten years: longer is a typo, and would overflow instants
# Any fixed instant resolves offsets when checking a scenario at load; facts only compare instants.
_SAMPLE_T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# A deferred validation lets the loader run the cross-field checks itself and name file and field.
_DEFER = "defer_checks"


# ---- scenario time -------------------------------------------------------------------------------


def parse_span(text: Any) -> timedelta:
    """``72h``, ``3d``, ``30m``, ``1d2h30m``, ``20s`` (and ``0``) as a timedelta; ValueError otherwise."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int) and not isinstance(text, bool) and text == 0:
        return timedelta(0)
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a span of time such as 30m, 2h, 3d or 1d2h")
    compact = text.replace(" ", "")
    match = _SPAN.match(compact)
    if compact == "0":
        return timedelta(0)
    if not compact or not match:
        raise ValueError(f"{text!r} is not a span of time such as 30m, 2h, 3d or 1d2h")
    if len(compact) > 40 or not compact.isascii():  # \d also matches other scripts' digits
        raise ValueError(f"{text!r} is not a span of time such as 30m, 2h, 3d or 1d2h")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    try:
        span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        span = _MAX_SPAN * 2
    if span > _MAX_SPAN:
        raise ValueError(f"{text!r} is longer than ten years, the longest span a scenario takes")
    return span


def parse_offset(text: Any) -> timedelta:
    """``T+0``, ``T+2h``, ``T-6h``, ``T+1d2h`` as the signed timedelta from the drill's start."""
    if isinstance(text, timedelta):
        return text
    match = _OFFSET.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not an offset from the drill's start such as T+0, T+2h or T-6h")
    try:
        span = parse_span(match.group(2))
    except ValueError:
        raise ValueError(
            f"{text!r} is not an offset from the drill's start such as T+0, T+2h or T-6h"
        ) from None
    return -span if match.group(1) == "-" else span


def format_offset(offset: timedelta) -> str:
    """``T+02:30`` (hours may exceed 24: ``T+50:00``), the scenario clock a report shows."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"T{sign}{hours:02d}:{mins:02d}"


def _aware(t0: datetime) -> datetime:
    if t0.tzinfo is None or t0.utcoffset() is None:
        raise ValueError(f"t0 must be timezone-aware, got {t0.isoformat()}")
    return t0.astimezone(UTC)


def _resolve_instants(facts: Mapping[str, Any], t0: datetime) -> dict[str, Any]:
    start = _aware(t0)
    # A copy, so a caller adding to a list of categories cannot change the scenario.
    return {
        name: (
            start + parse_offset(value)
            if name in INSTANT_FACTS and value is not None
            else copy.deepcopy(value)
        )
        for name, value in facts.items()
    }


# ---- models --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _slug(value: str, what: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a {what}: lower-case letters, digits and dashes")
    return value


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


class Participant(_Strict):
    """A role at a party; the agreement's contacts say who that is and in which time zone."""

    party: str
    role: Role

    _party = field_validator("party")(check_party_key)

    @property
    def label(self) -> str:
        return f"{self.party}/{self.role}"


class Question(_Strict):
    """A discussion question sent with an inject; participants answer it with `drill answer`."""

    id: str
    text: str

    _id = field_validator("id")(lambda v: _slug(v, "question id"))

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


class Inject(_Strict):
    """One event of the story, emailed to participants at its offset; it may reveal new facts and ask
    discussion questions."""

    id: str
    at: timedelta
    title: str
    message: str
    to: Literal["all"] | tuple[Participant, ...] = "all"
    reveals: dict[str, Any] = Field(default_factory=dict)
    expects: tuple[str, ...] = ()
    questions: tuple[Question, ...] = ()

    _id = field_validator("id")(lambda v: _slug(v, "inject id"))
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
                _instant_offset(item)
        return value

    @field_validator("expects", mode="before")
    @classmethod
    def _one_expected(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def due_at(self, t0: datetime) -> datetime:
        """When the inject is delivered: ``t0`` plus its offset, in UTC."""
        return _aware(t0) + self.at

    def reveals_at(self, t0: datetime) -> dict[str, Any]:
        """The fact changes this inject reveals, offsets resolved against ``t0`` into UTC instants."""
        return _resolve_instants(self.reveals, t0)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        known = ", ".join(q.id for q in self.questions) or "none"
        raise KeyError(f"inject {self.id!r} has no question {question_id!r}; its questions: {known}")

    def recipients(self, participants: Sequence[Participant]) -> tuple[Participant, ...]:
        return tuple(participants) if self.to == "all" else self.to


def _instant_offset(value: Any) -> timedelta:
    if isinstance(value, datetime) or (isinstance(value, str) and _DATE_PREFIX.match(value.strip())):
        shown = value.isoformat() if isinstance(value, datetime) else value.strip()
        raise ValueError(
            f"{shown} is a fixed instant; write instants as offsets from the drill's start "
            "(T+0, T-6h, T+1d2h) so the scenario can run on any day"
        )
    return parse_offset(value)


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


class Objective(_Strict):
    """What the exercise sets out to test (HSEEP): a capability, and the observable measures that say
    whether it was performed. A free-text objective has no measures and is never rated by itself."""

    id: str
    text: str
    capability: str = ""
    measured_by: tuple[str, ...] = ()
    target: str = ""

    _id = field_validator("id")(lambda v: _slug(v, "objective id"))

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


class SimulatedStep(_Strict):
    """How a scripted participant answers a step in ``--simulate``: after ``delay`` of scenario time
    from the step becoming ready, with ``answer`` (gate fields; the rest are filled by default)."""

    delay: timedelta | None = None
    answer: dict[str, Any] = Field(default_factory=dict)

    _delay = field_validator("delay", mode="before")(lambda v: None if v is None else parse_span(v))


class Simulation(_Strict):
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


class Scenario(_Strict):
    id: str
    version: str
    title: str
    narrative: str
    objectives: tuple[Objective, ...] = ()
    playbook: str
    duration: timedelta
    participants: tuple[Participant, ...]
    facts: dict[str, Any]
    injects: tuple[Inject, ...]
    simulation: Simulation = Simulation()
    origin: str = Field(default="", exclude=True)

    _id = field_validator("id")(lambda v: _slug(v, "scenario id"))
    _playbook = field_validator("playbook")(lambda v: _slug(v, "playbook name"))
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
    def _distinct(cls, value: tuple[Participant, ...]) -> tuple[Participant, ...]:
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
                _instant_offset(item)
        return value

    @field_validator("injects")
    @classmethod
    def _in_time_order(cls, value: tuple[Inject, ...]) -> tuple[Inject, ...]:
        # Written order is kept for injects at the same instant; the story reads in time order.
        return tuple(sorted(value, key=lambda inject: inject.at))

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Scenario:
        if info.context and info.context.get(_DEFER):
            return self
        problems = scenario_problems(self)
        if problems:
            path, value, problem = problems[0]
            raise ValueError(f"{path}: {problem} ({value!r})")
        return self

    # -- resolving scenario time -------------------------------------------------------------------

    def end(self, t0: datetime) -> datetime:
        return _aware(t0) + self.duration

    def facts_at(self, t0: datetime) -> dict[str, Any]:
        """The facts known at the start, instants resolved against ``t0`` (what ``parse_facts`` takes)."""
        return _resolve_instants(self.facts, t0)

    def facts_after(self, inject_id: str, t0: datetime) -> Facts:
        """Every fact known once ``inject_id`` (and every inject before it) is revealed."""
        known = self.facts_at(t0)
        for inject in self.injects:
            known.update(inject.reveals_at(t0))
            if inject.id == inject_id:
                return parse_facts(known, self.origin or self.id)
        raise KeyError(f"scenario {self.id!r} has no inject {inject_id!r}")

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


Problem = tuple[str, Any, str]
"""(field path, value, what is wrong), so both the model and the loader can say where."""


def scenario_problems(
    scenario: Scenario, playbook: Playbook | None = None, rule_ids: Collection[str] | None = None
) -> list[Problem]:
    """What is wrong across fields: inject ids, offsets past the end, recipients who do not take part,
    facts the engine refuses and, given the playbook, unknown steps and gates a simulation cannot answer."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    members = {p.label for p in scenario.participants}
    for index, inject in enumerate(scenario.injects):
        where = f"injects[{index}] ({inject.id})"
        if inject.id in seen:
            problems.append((f"{where}.id", inject.id, "duplicate inject id"))
        seen.setdefault(inject.id, index)
        if inject.at > scenario.duration:
            problems.append(
                (f"{where}.at", format_offset(inject.at), f"after the scenario ends at {_span(scenario)}")
            )
        asked = [q.id for q in inject.questions]
        for question_id in sorted({q for q in asked if asked.count(q) > 1}):
            problems.append((f"{where}.questions", question_id, "duplicate question id"))
        if inject.to != "all":
            for person in inject.to:
                if person.label not in members:
                    problems.append((f"{where}.to", person.label, "not one of the scenario's participants"))
    for name, value in {**scenario.facts, **_all_reveals(scenario)}.items():
        if name in INSTANT_FACTS and value is not None and parse_offset(value) > scenario.duration:
            problems.append((f"facts.{name}", value, f"after the scenario ends at {_span(scenario)}"))
    problems += _fact_problems(scenario)
    problems += _objective_problems(scenario, playbook, rule_ids)
    if playbook is not None:
        problems += _playbook_problems(scenario, playbook)
    return problems


def _objective_problems(
    scenario: Scenario, playbook: Playbook | None, rule_ids: Collection[str] | None
) -> list[Problem]:
    """Each measure must name something the drill records: a playbook step, a rule of the catalogue,
    a discussion question of an inject (``question:<inject id>/<question id>``)."""
    problems: list[Problem] = []
    questions = {f"{i.id}/{q.id}" for i in scenario.injects for q in i.questions}
    seen: set[str] = set()
    step_ids = {s.id for s in playbook.steps()} if playbook is not None else None
    for index, objective in enumerate(scenario.objectives):
        where = f"objectives[{index}] ({objective.id})"
        if objective.id in seen:
            problems.append((f"{where}.id", objective.id, "duplicate objective id"))
        seen.add(objective.id)
        for measure in objective.measured_by:
            kind, _, ref = measure.partition(":")
            if kind == "step" and step_ids is not None and ref not in step_ids:
                known = f"steps of {scenario.playbook}: {', '.join(sorted(step_ids))}"
                problems.append((f"{where}.measured_by", measure, f"no such step; {known}"))
            elif kind == "obligation" and rule_ids is not None and ref not in rule_ids:
                problems.append((f"{where}.measured_by", measure, "no rule of the catalogue has this id"))
            elif kind == "question" and ref not in questions:
                known = ", ".join(sorted(questions)) or "none"
                problems.append(
                    (f"{where}.measured_by", measure, f"no inject asks this question; questions: {known}")
                )
    return problems


def _span(scenario: Scenario) -> str:
    return format_offset(scenario.duration)


def _all_reveals(scenario: Scenario) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for inject in scenario.injects:
        out.update(inject.reveals)
    return out


def _fact_problems(scenario: Scenario) -> list[Problem]:
    known = scenario.facts_at(_SAMPLE_T0)
    try:
        parse_facts(known, "facts")
    except InputError as exc:
        return [(_join("facts", exc.field), exc.value, exc.problem)]
    for index, inject in enumerate(scenario.injects):
        known.update(inject.reveals_at(_SAMPLE_T0))
        try:
            parse_facts(known, "facts")
        except InputError as exc:
            return [(_join(f"injects[{index}] ({inject.id}).reveals", exc.field), exc.value, exc.problem)]
    return []


def _join(prefix: str, field: str | None) -> str:
    return f"{prefix}.{field}" if field else prefix


def _playbook_problems(scenario: Scenario, playbook: Playbook) -> list[Problem]:
    problems: list[Problem] = []
    step_ids = {s.id for s in playbook.steps()}
    known = f"steps of {playbook.name}: {', '.join(sorted(step_ids))}"
    for index, inject in enumerate(scenario.injects):
        for step_id in inject.expects:
            if step_id not in step_ids:
                problems.append(
                    (f"injects[{index}] ({inject.id}).expects", step_id, f"no such step; {known}")
                )
    for step_id in scenario.simulation.steps:
        if step_id not in step_ids:
            problems.append((f"simulation.steps.{step_id}", step_id, f"no such step; {known}"))
    if problems:
        return problems
    at = _SAMPLE_T0 + scenario.simulation.default_delay
    for step in playbook.steps():
        try:
            simulated_answer(step, scenario, t0=_SAMPLE_T0, at=at)
        except InputError as exc:
            problem = f"{exc.problem}. {exc.hint}" if exc.hint else exc.problem
            problems.append((f"simulation.steps.{exc.field}", exc.value, problem))
    return problems


# ---- simulated answers ---------------------------------------------------------------------------


def simulated_answer(
    step: Step, scenario: Scenario, *, t0: datetime | None = None, at: datetime | None = None
) -> dict[str, Any]:
    """The answer a scripted participant gives at ``step``'s gate in ``--simulate``.

    Scripted fields come from ``simulation.steps.<id>.answer`` (datetimes may be offsets, resolved
    against ``t0``); every other required field gets a plain default of its type, preferring the
    scenario's own facts for fields that set a fact. ``at`` is the scenario-time instant of the answer,
    used for datetime fields. The result is JSON-friendly and passes ``step.validate_answer``;
    InputError names the step and field when no valid answer can be built.
    """
    scripted = scenario.simulation.steps.get(step.id)
    given = dict(scripted.answer) if scripted is not None else {}
    answer: dict[str, Any] = {}
    if step.gate.type == "confirm":
        answer["confirmed"] = True
    elif step.gate.type == "input":
        facts = scenario.final_facts(t0 or _SAMPLE_T0)
        for name, spec in step.gate.fields.items():
            if name in given or not spec.required:
                continue
            value = _default(spec, name, step, scenario, facts, at)
            if value is None:
                raise InputError(
                    scenario.origin or scenario.id,
                    f"{step.id}.answer.{name}",
                    None,
                    f"no default for a required {spec.type} field ({spec.label})",
                    f"Script it under simulation.steps.{step.id}.answer.",
                )
            answer[name] = value
    for name, value in given.items():
        scripted_spec = step.gate.answer_fields.get(name)
        answer[name] = _resolve_scripted(scripted_spec, value, t0, scenario, f"{step.id}.answer.{name}")
    try:
        step.validate_answer(answer, scenario.origin or scenario.id)
    except InputError as exc:
        field = exc.field or step.id
        if field.startswith(f"{step.id}."):
            field = f"{step.id}.answer.{field[len(step.id) + 1 :]}"
        raise InputError(exc.source, field, exc.value, exc.problem, exc.hint) from None
    return answer


def _resolve_scripted(
    spec: FieldSpec | None, value: Any, t0: datetime | None, scenario: Scenario, field: str
) -> Any:
    if spec is None or spec.type != "datetime" or not isinstance(value, str) or not value.startswith("T"):
        return value.isoformat() if isinstance(value, datetime) else value
    if t0 is None:
        raise InputError(
            scenario.origin or scenario.id, field, value, "an offset needs the drill's start (t0)"
        )
    try:
        return (_aware(t0) + parse_offset(value)).isoformat()
    except ValueError as exc:
        raise InputError(scenario.origin or scenario.id, field, value, str(exc)) from None


def _default(
    spec: FieldSpec, name: str, step: Step, scenario: Scenario, facts: Facts, at: datetime | None
) -> Any:
    if spec.sets is not None:
        known = _fact_answer(spec, facts)
        if known is not None:
            return known
        if spec.sets == "jurisdictions":
            return None  # a made-up jurisdiction would invent obligations; the scenario must say
    if spec.type == "bool":
        return True
    if spec.type == "int":
        return max(1, spec.min or 0)
    if spec.type == "text":
        return f"(simulated) {spec.label}"
    if spec.type == "choice":
        first = (spec.choices or ("",))[0]
        return [first] if spec.multiple else first
    if spec.type in ("url", "urls"):
        url = f"https://drill.invalid/{scenario.id}/{step.id}/{name}"
        return [url] if spec.type == "urls" else url
    if spec.type == "datetime":
        return None if at is None else _aware(at).isoformat()
    return None


def _fact_answer(spec: FieldSpec, facts: Facts) -> Any:
    """The scenario's own value for the fact a field sets, so defaults do not contradict the story."""
    if spec.sets == "jurisdictions":
        parts = [f"{j.code}={j.affected}" if j.affected is not None else j.code for j in facts.jurisdictions]
        return ", ".join(parts) or None
    value = getattr(facts, spec.sets or "", None)
    choices = spec.choices or ()
    if isinstance(value, tuple):
        picked = [v for v in value if v in choices]
        return picked or None
    return value if value in choices else None


# ---- loading -------------------------------------------------------------------------------------


def shipped_scenario_files() -> list[Path]:
    return shipped_files("scenarios")


def parse_scenario(
    data: Any,
    source: str | Path,
    playbook: Playbook | None = None,
    rule_ids: Collection[str] | None = None,
) -> Scenario:
    """Validate a scenario read from ``source``; given its playbook, also the steps and simulation;
    given the catalogue's rule ids, also the objectives' ``obligation:`` measures."""
    if not isinstance(data, Mapping):
        raise InputError(
            source, None, None, "expected a mapping describing the scenario (id, playbook, injects, ...)"
        )
    try:
        scenario = Scenario.model_validate({**data, "origin": str(source)}, context={_DEFER: True})
    except ValidationError as exc:
        raise from_validation_error(exc, source) from None
    problems = scenario_problems(scenario, playbook, rule_ids)
    if problems:
        path, value, problem = problems[0]
        raise InputError(source, path, value, problem)
    return scenario


def load_scenario(
    name_or_path: str | Path,
    search: Sequence[str | Path] = (),
    playbook_search: Sequence[str | Path] = (),
) -> Scenario:
    """Load a scenario file, or find one by name in ``search`` (a workspace's ``scenarios/`` folder)
    and then the shipped scenarios; its playbook is found in ``playbook_search`` then the library."""
    path = find_scenario(name_or_path, search)
    data = read_yaml(path)
    playbook_name = data.get("playbook") if isinstance(data, Mapping) else None
    playbook = None
    if isinstance(playbook_name, str) and _SLUG.match(playbook_name):
        try:
            playbook = load_playbook(playbook_name, playbook_search)
        except InputError as exc:
            raise InputError(path, "playbook", playbook_name, exc.problem, exc.hint) from None
    scenario = parse_scenario(data, path, playbook, rule_ids_for(data))
    if not looks_like_path(name_or_path) and scenario.id != str(name_or_path):
        raise InputError(
            path, "id", scenario.id, f"does not match the file name {path.stem!r}", "Rename one of them."
        )
    return scenario


def rule_ids_for(data: Any) -> frozenset[str] | None:
    """The catalogue's rule ids when a scenario's objectives measure duties (reading the catalogue
    only then); None otherwise."""
    return _rule_ids() if _measures_rules(data) else None


def _measures_rules(data: Any) -> bool:
    objectives = data.get("objectives") if isinstance(data, Mapping) else None
    return isinstance(objectives, list) and any(
        isinstance(o, Mapping)
        and any(isinstance(m, str) and m.startswith("obligation:") for m in o.get("measured_by") or ())
        for o in objectives
    )


@functools.cache
def _rule_ids() -> frozenset[str]:
    """The shipped catalogue's rule ids (read once; a workspace's own rules are not consulted)."""
    from breachops.config.rule_files import load_catalogue

    return frozenset(rule.id for rule in load_catalogue())


def find_scenario(name_or_path: str | Path, search: Sequence[str | Path] = ()) -> Path:
    """The file a path or a scenario id refers to; InputError listing the known ids if none."""
    return find_named(name_or_path, search, shipped_scenario_files(), "scenario", "the shipped scenarios")


def list_scenarios(
    search: Sequence[str | Path] = (), playbook_search: Sequence[str | Path] = ()
) -> list[Scenario]:
    """Every scenario available, by id; a workspace file shadows a shipped one of the same name."""
    by_name: dict[str, Path] = {}
    for folder in [None, *reversed([Path(s) for s in search])]:
        for path in shipped_scenario_files() if folder is None else yaml_files_in(folder):
            by_name[path.stem] = path
    scenarios = []
    for name in sorted(by_name):
        scenario = load_scenario(by_name[name], playbook_search=playbook_search)
        if scenario.id != name:
            raise InputError(
                by_name[name],
                "id",
                scenario.id,
                f"does not match the file name {name!r}",
                "Rename one of them.",
            )
        scenarios.append(scenario)
    return scenarios

"""Playbooks: the steps both parties take after a leak, in four phases, with owners, due times and gates.

A playbook is definition only. It does not know the clock, the store or Prefect: the flows walk it,
the deadlines layer supplies the obligations a step's due time may be tied to, and a person's answer at
a gate becomes facts through :meth:`Gate.fact_changes`. Phases group steps for reading and reporting;
``depends_on`` is what sequences them, so two steps without a dependency between them may run in
parallel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from breachops.config.agreements import Role
from breachops.config.jurisdictions import normalise_code
from breachops.config.rule_models import (
    AUDIENCES,
    CLOCK_EVENTS,
    DATA_CATEGORIES,
    RISK_LEVELS,
    SECTORS,
    Audience,
)
from breachops.config.values import MAX_SPAN_DAYS, Flag, Whole, check_instant
from breachops.errors import InputError

__all__ = [
    "DUE_EVENTS",
    "FIELD_TYPES",
    "PHASES",
    "SETTABLE_FACTS",
    "STAMP_FACTS",
    "Due",
    "FieldSpec",
    "Gate",
    "GraphProblem",
    "ObligationLike",
    "ObligationRef",
    "Owner",
    "Phase",
    "Playbook",
    "Step",
    "graph_problems",
    "parse_jurisdiction_counts",
    "phase_order_problem",
]

Phase = Literal["containment", "investigation", "remediation", "notification"]
PHASES: tuple[str, ...] = Phase.__args__  # type: ignore[attr-defined]
DueEvent = Literal["opened", "aware", "discovered", "assessed", "material", "classified"]
DUE_EVENTS: tuple[str, ...] = DueEvent.__args__  # type: ignore[attr-defined]
FieldType = Literal["bool", "int", "text", "choice", "url", "urls", "datetime"]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]
SettableFact = Literal["risk", "acting_as", "data_categories", "sectors", "jurisdictions"]
SETTABLE_FACTS: tuple[str, ...] = SettableFact.__args__  # type: ignore[attr-defined]
StampFact = Literal["assessed_at", "material_at", "classified_at", "discovered_at"]
STAMP_FACTS: tuple[str, ...] = StampFact.__args__  # type: ignore[attr-defined]

assert set(DUE_EVENTS) == {"opened", *CLOCK_EVENTS}, "a step may be due from any clock event, or opening"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
# The choices a fact can take, when a choice field sets it; `jurisdictions` is typed text instead.
_FACT_CHOICES: dict[str, tuple[tuple[str, ...], bool]] = {
    "risk": (RISK_LEVELS, False),
    "acting_as": (("controller", "processor"), False),
    "data_categories": (DATA_CATEGORIES, True),
    "sectors": (SECTORS, True),
}
_PAIR = re.compile(r"^\s*([A-Za-z]{2}(?:-[A-Za-z0-9]{1,3})?|EU|EEA)\s*(?:[=:]\s*(\d+))?\s*$")
_STRICT_PAIR = re.compile(r"^\s*([A-Za-z]{2}(?:-[A-Za-z0-9]{1,3})?|EU|EEA)\s*(?:=\s*(\d+))?\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _slug(value: str, what: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a {what}: lower-case letters, digits and dashes")
    return value


def check_party_key(value: str) -> str:
    """A party as playbooks and scenarios name it: ``disclosing``, ``receiving``, ``both``, or another
    key of the agreement's parties (e.g. ``subcontractor``)."""
    if not _KEY.match(value):
        raise ValueError(
            f"{value!r} is not a party key: disclosing, receiving, both, or another lower_snake key "
            "of the agreement (e.g. subcontractor)"
        )
    return value


class Owner(_Strict):
    """Who does a step: a role at a party. ``both`` means the disclosing and the receiving party."""

    role: Role
    party: str

    _party = field_validator("party")(check_party_key)

    @property
    def parties(self) -> tuple[str, ...]:
        return ("disclosing", "receiving") if self.party == "both" else (self.party,)


class ObligationRef(_Strict):
    """Which obligations a due time follows: one rule by id, or every obligation to an audience."""

    rule: str | None = None
    audience: Audience | None = None

    @model_validator(mode="after")
    def _one(self) -> ObligationRef:
        if (self.rule is None) == (self.audience is None):
            raise ValueError(f"name exactly one of rule (a rule id) or audience ({', '.join(AUDIENCES)})")
        if self.rule is not None:
            _slug(self.rule, "rule id")
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


class Due(_Strict):
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


class FieldSpec(_Strict):
    """One typed input a person gives at a gate. ``sets`` copies the answer into a fact; ``stamps``
    (bool fields) records the instant of a true answer into a timestamp fact."""

    type: FieldType
    label: str
    required: Flag = True
    choices: tuple[str, ...] | None = None
    multiple: Flag = False
    min: Whole | None = None
    sets: SettableFact | None = None
    stamps: StampFact | None = None
    help: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type == "choice":
            if not self.choices:
                raise ValueError("a choice field needs choices")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError("choices repeat a value")
        elif self.choices is not None:
            raise ValueError(f"choices belong to a choice field, not to a {self.type} field")
        if self.multiple and self.type != "choice":
            raise ValueError("multiple belongs to a choice field")
        if self.min is not None and self.type != "int":
            raise ValueError("min belongs to an int field")
        if self.stamps is not None and self.type != "bool":
            raise ValueError(
                f"stamps needs a bool field (a true answer stamps {self.stamps}), not {self.type}"
            )
        if self.sets is not None:
            self._check_sets(self.sets)
        return self

    def _check_sets(self, fact: str) -> None:
        if fact == "jurisdictions":
            if self.type != "text":
                raise ValueError("sets: jurisdictions needs a text field (e.g. 'DE=120, BR=40, FR')")
            return
        allowed, multiple = _FACT_CHOICES[fact]
        if self.type != "choice" or self.multiple != multiple:
            shape = "a choice field with multiple: true" if multiple else "a choice field"
            raise ValueError(f"sets: {fact} needs {shape}")
        unknown = [c for c in self.choices or () if c not in allowed]
        if unknown:
            raise ValueError(f"sets: {fact} allows choices {', '.join(allowed)}; not {', '.join(unknown)}")

    def coerce(self, value: Any) -> Any:
        """The answer in its typed form, or ValueError saying what was expected."""
        return _COERCE[self.type](self, value)


def _bool(spec: FieldSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("expected yes or no (true/false)")


def _int(spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,18}\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("expected a whole number")
    if spec.min is not None and value < spec.min:
        raise ValueError(f"expected a whole number of at least {spec.min}")
    return value


def _text(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    text = value.strip()
    if spec.sets == "jurisdictions":
        parse_jurisdiction_counts(text)
    return text


def _choice(spec: FieldSpec, value: Any) -> str | list[str]:
    choices = spec.choices or ()
    if spec.multiple:
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise ValueError(f"expected a list of {', '.join(choices)}")
        items = [v for v in items if v]
    elif isinstance(value, str):
        items = [value.strip()]
    else:
        raise ValueError(f"expected one of {', '.join(choices)}")
    bad = [v for v in items if v not in choices]
    if bad:
        raise ValueError(f"{bad[0]!r} is not one of {', '.join(choices)}")
    return list(dict.fromkeys(items)) if spec.multiple else items[0]


def _url(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected an http(s) URL")
    text = value.strip()
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not an http(s) URL")
    return text


def _urls(spec: FieldSpec, value: Any) -> list[str]:
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("expected a list of http(s) URLs")
    return [_url(spec, v) for v in items if not (isinstance(v, str) and not v.strip())]


def _datetime(spec: FieldSpec, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected a date and time such as 2026-03-28T09:00:00+01:00") from None
    if not isinstance(value, datetime):
        raise ValueError("expected a date and time such as 2026-03-28T09:00:00+01:00")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a datetime needs its UTC offset (write 2026-03-28T09:00:00+01:00 or ...Z)")
    return check_instant(value).astimezone(UTC)  # a year the engine counts from, before any arithmetic


_COERCE = {
    "bool": _bool,
    "int": _int,
    "text": _text,
    "choice": _choice,
    "url": _url,
    "urls": _urls,
    "datetime": _datetime,
}


def parse_jurisdiction_counts(text: str, *, strict: bool = False) -> list[dict[str, Any]]:
    """Read ``"DE=120, BR: 40, FR"`` as affected people per jurisdiction (a code alone: count unknown).

    The result is the shape ``Facts.jurisdictions`` accepts; codes are normalised (``UK`` → ``GB``).
    ``strict`` (the command line): only ``CODE=COUNT`` or ``CODE``, so that ``US-TX:1500`` is refused
    rather than read one way here and another elsewhere.
    """
    out: dict[str, int | None] = {}
    for part in re.split(r"[,;\n]+", text):
        if not part.strip():
            continue
        match = (_STRICT_PAIR if strict else _PAIR).match(part)
        if not match:
            raise ValueError(
                f"{part.strip()!r} is not CODE=COUNT (e.g. 'DE=120,BR=40'; a code alone: count unknown)"
            )
        code = normalise_code(match.group(1))
        if code in out:
            raise ValueError(f"{code} is given twice")
        out[code] = int(match.group(2)) if match.group(2) is not None else None
    return [{"code": code, "affected": count} for code, count in out.items()]


class Gate(_Strict):
    """What must happen before a step counts as done.

    ``none``: doing it is enough. ``confirm``: a person confirms (an optional note is kept).
    ``input``: a person answers typed fields; answers may set facts and stamp their instants.
    """

    type: Literal["none", "confirm", "input"] = "none"
    prompt: str = ""
    fields: dict[str, FieldSpec] = {}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"type": "none"} if data is None or data == "none" else data

    @model_validator(mode="after")
    def _consistent(self) -> Gate:
        if self.type == "none" and (self.prompt or self.fields):
            raise ValueError("a gate of type none takes no prompt or fields")
        if self.type in ("confirm", "input") and not self.prompt.strip():
            raise ValueError(f"a {self.type} gate needs a prompt: the question put to the person")
        if self.type == "confirm" and self.fields:
            raise ValueError("a confirm gate takes no fields; use type: input to ask for typed answers")
        if self.type == "input" and not self.fields:
            raise ValueError("an input gate needs fields")
        for name in self.fields:
            if not _KEY.match(name):
                raise ValueError(f"field name {name!r} must be lower-case letters, digits and underscores")
        for attr in ("sets", "stamps"):
            targets = [getattr(f, attr) for f in self.fields.values() if getattr(f, attr)]
            twice = sorted({t for t in targets if targets.count(t) > 1})
            if twice:
                raise ValueError(f"two fields {attr} {twice[0]!r}; one answer per fact")
        return self

    @property
    def answer_fields(self) -> dict[str, FieldSpec]:
        """The fields a person answers; a confirm gate has an implied ``confirmed`` and ``note``."""
        if self.type == "confirm":
            return {
                "confirmed": FieldSpec(type="bool", label="Confirmed", required=False),
                "note": FieldSpec(type="text", label="Note", required=False),
            }
        return dict(self.fields)

    def validate_answer(
        self, answer: Mapping[str, Any] | None, *, step_id: str, source: str | Path | None
    ) -> dict[str, Any]:
        """Check and coerce a person's answer; raise InputError naming the step, field and value.

        Strings are accepted for every type (``"yes"`` → True, ``"12"`` → 12, comma-separated lists),
        so an answer typed at the CLI and one sent from the Prefect UI land the same. An optional field
        left out comes back as None.
        """
        if answer is None:
            answer = {}
        if not isinstance(answer, Mapping):
            raise InputError(source, step_id, answer, "an answer is a mapping of field names to values")
        fields = self.answer_fields
        for name, value in answer.items():
            if name not in fields:
                known = ", ".join(fields) or "none (this step takes no answer)"
                raise InputError(source, f"{step_id}.{name}", value, f"unknown field; fields: {known}")
        out: dict[str, Any] = {}
        for name, spec in fields.items():
            value = answer.get(name)
            if value is None or (isinstance(value, str) and not value.strip()) or value in ([], ()):
                if spec.required:
                    raise InputError(
                        source, f"{step_id}.{name}", None, f"required: {spec.label}", _hint(spec)
                    )
                out[name] = None
                continue
            try:
                coerced = spec.coerce(value)
            except ValueError as exc:
                raise InputError(source, f"{step_id}.{name}", value, str(exc), _hint(spec)) from None
            if spec.required and coerced in ([], ""):
                raise InputError(source, f"{step_id}.{name}", value, f"required: {spec.label}", _hint(spec))
            out[name] = coerced
        if self.type == "confirm":
            if out["confirmed"] is False:
                raise InputError(
                    source, f"{step_id}.confirmed", answer.get("confirmed"), "the step was not confirmed"
                )
            out["confirmed"] = True
        return out

    def fact_changes(self, answer: Mapping[str, Any], answered_at: datetime) -> dict[str, object]:
        """The facts a validated answer sets, and the instants its true answers stamp (in UTC)."""
        if answered_at.tzinfo is None or answered_at.utcoffset() is None:
            raise ValueError("answered_at must be timezone-aware")
        changes: dict[str, object] = {}
        for name, spec in self.fields.items():
            value = answer.get(name)
            if value is None:
                continue
            if spec.sets == "jurisdictions":
                changes["jurisdictions"] = parse_jurisdiction_counts(value)
            elif spec.sets in ("data_categories", "sectors"):
                changes[spec.sets] = list(value)
            elif spec.sets is not None:
                changes[spec.sets] = value
            if spec.stamps is not None and value is True:
                changes[spec.stamps] = answered_at.astimezone(UTC)
        return changes


def _hint(spec: FieldSpec) -> str | None:
    if spec.type == "choice":
        return f"Answer {'any of' if spec.multiple else 'one of'}: {', '.join(spec.choices or ())}."
    if spec.sets == "jurisdictions":
        return "Answer like 'DE=120, BR=40, FR' (a code alone when the count is not yet known)."
    return None


class Step(_Strict):
    id: str
    title: str
    description: str
    owner: Owner
    due: Due | None = None
    depends_on: tuple[str, ...] = ()
    gate: Gate = Gate()

    _id = field_validator("id")(lambda v: _slug(v, "step id"))

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


@dataclass(frozen=True, slots=True)
class GraphProblem:
    """Something wrong between steps, located so the loader can name the file, step and value."""

    phase: str
    index: int
    step_id: str
    field: str
    value: Any
    problem: str

    @property
    def path(self) -> str:
        return f"phases.{self.phase}[{self.index}] ({self.step_id}).{self.field}"


def graph_problems(phases: Mapping[Any, Iterable[Step]]) -> list[GraphProblem]:
    """Duplicate ids, unknown or later-phase dependencies and cycles, in the order a reader meets them."""
    problems: list[GraphProblem] = []
    where: dict[str, tuple[str, int]] = {}
    located: list[tuple[str, int, Step]] = []
    for phase in PHASES:
        for index, step in enumerate(phases.get(phase, ())):
            located.append((phase, index, step))
            if step.id in where:
                first = where[step.id]
                problems.append(
                    GraphProblem(
                        phase,
                        index,
                        step.id,
                        "id",
                        step.id,
                        f"duplicate step id; first used at phases.{first[0]}[{first[1]}]",
                    )
                )
            else:
                where[step.id] = (phase, index)
    for phase, index, step in located:
        for dep in step.depends_on:
            if dep not in where:
                problems.append(
                    GraphProblem(
                        phase, index, step.id, "depends_on", dep, f"no step {dep!r} in this playbook"
                    )
                )
            elif PHASES.index(where[dep][0]) > PHASES.index(phase):
                problems.append(
                    GraphProblem(
                        phase,
                        index,
                        step.id,
                        "depends_on",
                        dep,
                        f"{dep!r} is a step of the later phase {where[dep][0]}; a step may depend "
                        "only on steps of its own or an earlier phase",
                    )
                )
    if problems:
        return problems
    cycle = _find_cycle({step.id: step.depends_on for _, _, step in located})
    if cycle:
        phase, index = where[cycle[0]]
        shown = " → ".join([*cycle, cycle[0]])
        problems.append(
            GraphProblem(
                phase, index, cycle[0], "depends_on", cycle[1 % len(cycle)], f"dependency cycle: {shown}"
            )
        )
    return problems


def _find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One cycle as the list of its steps in dependency order, or None. Iterative, so deep graphs are fine."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for root in graph:
        if state.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(graph[root]))]
        state[root] = 1
        path.append(root)
        while stack:
            node, deps = stack[-1]
            for dep in deps:
                if state.get(dep) == 1:
                    return path[path.index(dep) :]
                if not state.get(dep):
                    state[dep] = 1
                    path.append(dep)
                    stack.append((dep, iter(graph.get(dep, ()))))
                    break
            else:
                state[node] = 2
                path.pop()
                stack.pop()
    return None


class Playbook(_Strict):
    name: str
    version: str
    title: str
    description: str
    kind: str
    phases: dict[Phase, tuple[Step, ...]]
    origin: str = Field(default="", exclude=True)

    _name = field_validator("name")(lambda v: _slug(v, "playbook name"))

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _SEMVER.match(value):
            raise ValueError(f"{value!r} is not a semantic version such as 1.0.0")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if not _KEY.match(value):
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

    def topological_order(self) -> list[Step]:
        """Every step after the steps it depends on; ties keep the written order (so phases stay in order)."""
        done: set[str] = set()
        order: list[Step] = []
        while len(order) < len(self.steps()):
            ready = self.ready_steps(done)
            if not ready:  # cannot happen for a validated playbook
                raise ValueError(f"playbook {self.name!r} has a dependency cycle")
            order.append(ready[0])
            done.add(ready[0].id)
        return order

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


def phase_order_problem(value: Any) -> str | None:
    """Why a ``phases`` mapping is not the four phases in order, or None if it is."""
    if not isinstance(value, Mapping):
        return f"phases must be a mapping of {', '.join(PHASES)} to lists of steps"
    keys = list(value)
    unknown = [k for k in keys if k not in PHASES]
    if unknown:
        return f"unknown phase {unknown[0]!r}; the phases are {' → '.join(PHASES)}"
    missing = [p for p in PHASES if p not in keys]
    if missing:
        return f"missing phase {missing[0]!r}; a playbook has all of {' → '.join(PHASES)}"
    if tuple(keys) != PHASES:
        return f"phases out of order ({', '.join(map(str, keys))}); write them as {' → '.join(PHASES)}"
    return None

"""Simulated answers: what a scripted participant answers at each gate when a drill runs with
``--simulate``, from the scenario's ``simulation`` section and plain defaults of each field's type.

A default never contradicts the story: a field that sets a fact answers with the scenario's own value
for it, and a jurisdiction is never made up (that would invent obligations).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from breachops.deadlines.models import Facts
from breachops.errors import InputError
from breachops.playbooks.gates import FieldSpec
from breachops.playbooks.models import Step
from breachops.playbooks.scenario_time import SAMPLE_T0, as_utc, parse_offset

if TYPE_CHECKING:  # the scenario model checks its simulation with these answers
    from breachops.playbooks.scenarios import Scenario

__all__ = ["simulated_answer"]


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
        facts = scenario.final_facts(t0 or SAMPLE_T0)
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
        return (as_utc(t0) + parse_offset(value)).isoformat()
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
        return None if at is None else as_utc(at).isoformat()
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

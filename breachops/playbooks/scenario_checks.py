"""What is wrong across a scenario's fields: inject ids, offsets past the end, recipients who do not
take part, facts the deadline engine refuses, objectives measuring what the drill does not record, and
(given its playbook) steps that do not exist or gates a simulation cannot answer.

Facts are checked with the deadline domain's own ``parse_facts`` (pure, no I/O), so a scenario cannot
reveal a fact an incident could not hold.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from breachops.deadlines.models import parse_facts
from breachops.errors import InputError
from breachops.playbooks.models import Playbook
from breachops.playbooks.scenario_time import INSTANT_FACTS, SAMPLE_T0, format_offset, parse_offset
from breachops.playbooks.simulation import simulated_answer

if TYPE_CHECKING:  # the scenario model runs these checks when it is built
    from breachops.playbooks.scenarios import Scenario

__all__ = ["Problem", "scenario_problems"]

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
    known = scenario.facts_at(SAMPLE_T0)
    try:
        parse_facts(known, "facts")
    except InputError as exc:
        return [(_join("facts", exc.field), exc.value, exc.problem)]
    for index, inject in enumerate(scenario.injects):
        known.update(inject.reveals_at(SAMPLE_T0))
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
        if inject.when is not None and inject.when.step not in step_ids:
            problems.append(
                (f"injects[{index}] ({inject.id}).if", inject.when.step, f"no such step; {known}")
            )
    for step_id in scenario.simulation.steps:
        if step_id not in step_ids:
            problems.append((f"simulation.steps.{step_id}", step_id, f"no such step; {known}"))
    if problems:
        return problems
    at = SAMPLE_T0 + scenario.simulation.default_delay
    for step in playbook.steps():
        try:
            simulated_answer(step, scenario, t0=SAMPLE_T0, at=at)
        except InputError as exc:
            problem = f"{exc.problem}. {exc.hint}" if exc.hint else exc.problem
            problems.append((f"simulation.steps.{exc.field}", exc.value, problem))
    return problems

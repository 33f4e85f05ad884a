"""Reading playbooks and drill scenarios: from a file, or by name from the workspace's folders and then
the ones shipped with the package (a workspace file shadows a shipped one of the same name).

Every problem is an InputError naming the file, the step (``phases.investigation[2] (assess-notifiability)``)
or inject, and the field and value, so a team can fix its definitions before an incident or a drill
rather than during one. A scenario is checked against its playbook and, when its objectives measure
duties, against the rule catalogue's ids.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from breachops.config.yaml import read_yaml
from breachops.errors import InputError, from_validation_error
from breachops.playbooks.base import SLUG
from breachops.playbooks.files import find_named, looks_like_path, shipped_files, yaml_files_in
from breachops.playbooks.graph import PHASES, graph_problems, phase_order_problem
from breachops.playbooks.models import Playbook, Step
from breachops.playbooks.scenario_checks import scenario_problems
from breachops.playbooks.scenarios import DEFER_CHECKS, Scenario

__all__ = [
    "find_playbook",
    "find_scenario",
    "list_playbooks",
    "list_scenarios",
    "load_playbook",
    "load_scenario",
    "parse_playbook",
    "parse_scenario",
    "rule_ids_for",
    "shipped_playbook_files",
    "shipped_scenario_files",
]


def shipped_playbook_files() -> list[Path]:
    return shipped_files("library")


def parse_playbook(data: Any, source: str | Path) -> Playbook:
    """Validate a playbook read from ``source``: the header, each step, then the steps' graph."""
    if not isinstance(data, Mapping):
        raise InputError(
            source, None, None, "expected a mapping describing the playbook (name, version, phases)"
        )
    phases_raw = data.get("phases")
    if phases_raw is None:
        raise InputError(source, "phases", None, f"missing; a playbook has phases {' → '.join(PHASES)}")
    problem = phase_order_problem(phases_raw)
    if problem:
        raise InputError(
            source, "phases", list(phases_raw) if isinstance(phases_raw, Mapping) else None, problem
        )
    phases: dict[str, tuple[Step, ...]] = {}
    for phase in PHASES:
        items = phases_raw[phase]
        if items is None:
            items = []
        if not isinstance(items, list):
            raise InputError(source, f"phases.{phase}", None, "expected a list of steps")
        phases[phase] = tuple(_parse_step(item, phase, index, source) for index, item in enumerate(items))
    problems = graph_problems(phases)
    if problems:
        first = problems[0]
        raise InputError(source, first.path, first.value, first.problem)
    try:
        return Playbook.model_validate({**data, "phases": phases, "origin": str(source)})
    except ValidationError as exc:
        raise from_validation_error(exc, source) from None


def _parse_step(item: Any, phase: str, index: int, source: str | Path) -> Step:
    step_id = item.get("id") if isinstance(item, Mapping) else None
    label = f"{phase}[{index}]" + (f" ({step_id})" if isinstance(step_id, str) else "")
    if not isinstance(item, Mapping):
        raise InputError(
            source, f"phases.{label}", item, "expected a step: a mapping with id, title, owner, ..."
        )
    try:
        return Step.model_validate(item)
    except ValidationError as exc:
        raise from_validation_error(exc, source, ["phases", label]) from None


def load_playbook(path_or_name: str | Path, search: Sequence[str | Path] = ()) -> Playbook:
    """Load a playbook file, or find one by name: first in ``search`` (the workspace's folders, in
    order), then in the shipped library. A playbook found by name must carry that name."""
    path = find_playbook(path_or_name, search)
    playbook = parse_playbook(read_yaml(path), path)
    if not looks_like_path(path_or_name) and playbook.name != str(path_or_name):
        raise InputError(
            path, "name", playbook.name, f"does not match the file name {path.stem!r}", "Rename one of them."
        )
    return playbook


def find_playbook(path_or_name: str | Path, search: Sequence[str | Path] = ()) -> Path:
    """The file a path or a playbook name refers to; InputError listing the known names if none."""
    return find_named(path_or_name, search, shipped_playbook_files(), "playbook", "the shipped library")


def list_playbooks(search: Sequence[str | Path] = ()) -> list[Playbook]:
    """Every playbook available, by name; a workspace file shadows a shipped one of the same name."""
    by_name: dict[str, Playbook] = {}
    for folder in [None, *reversed([Path(s) for s in search])]:
        for path in shipped_playbook_files() if folder is None else yaml_files_in(folder):
            playbook = parse_playbook(read_yaml(path), path)
            by_name[playbook.name] = playbook
    return [by_name[name] for name in sorted(by_name)]


# ---- scenarios -----------------------------------------------------------------------------------


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
        scenario = Scenario.model_validate({**data, "origin": str(source)}, context={DEFER_CHECKS: True})
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
    if isinstance(playbook_name, str) and SLUG.match(playbook_name):
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

"""Reading playbooks: from a file, or by name from the workspace's folders and then the shipped library.

Every problem is an InputError naming the file, the step (``phases.investigation[2] (assess-notifiability)``)
and the field and value, so a team can fix its playbook before an incident rather than during one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from breachops.config.yaml import read_yaml
from breachops.errors import InputError, from_validation_error
from breachops.playbooks.files import find_named, looks_like_path, shipped_files, yaml_files_in
from breachops.playbooks.graph import PHASES, graph_problems, phase_order_problem
from breachops.playbooks.models import Playbook, Step

__all__ = ["find_playbook", "list_playbooks", "load_playbook", "parse_playbook", "shipped_playbook_files"]


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

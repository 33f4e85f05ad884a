"""An exercise's documents, before it runs: the players' situation manual and the facilitators' and
evaluators' handbook (HSEEP 2020; CISA's tabletop exercise packages hold the same pair).

The situation manual is what players may read: the narrative, the participants, the objectives as
aims, and each inject as it will reach them. It holds nothing of the answer key: no expected action,
no measure or target, no fact an inject reveals, no simulation script, no contingency inject. The
handbook holds all of that, inject by inject, with the playbook's step titles and owners. Each is
rendered as one self-contained HTML page and as Markdown; text from the scenario is escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breachops.files import private_dir, write_private
from breachops.playbooks.models import Playbook
from breachops.playbooks.scenario_time import format_offset
from breachops.playbooks.scenarios import Inject, Scenario
from breachops.reports.after_action import report_environment
from breachops.sandbox import render_bounded

__all__ = ["PackPaths", "handbook_context", "manual_context", "render_pack", "write_pack"]


@dataclass(frozen=True, slots=True)
class PackPaths:
    manual_html: Path
    manual_md: Path
    handbook_html: Path
    handbook_md: Path


def _recipients(inject: Inject) -> str:
    if inject.to == "all":
        return "All participants"
    return ", ".join(f"{p.party} {p.role.replace('_', ' ')}" for p in inject.to)  # type: ignore[union-attr]


def _base(scenario: Scenario) -> dict[str, Any]:
    return {
        "scenario": f"{scenario.title} ({scenario.ref})",
        "title": scenario.title,
        "narrative": scenario.narrative,
        "duration": format_offset(scenario.duration).removeprefix("T+"),
        "participants": [{"party": p.party, "role": p.role.replace("_", " ")} for p in scenario.participants],
    }


def _inject_rows(scenario: Scenario) -> list[dict[str, Any]]:
    """Every inject as players would read it, numbered as the drill's mail numbers it."""
    return [
        {
            "number": n,
            "id": i.id,
            "time": format_offset(i.at),
            "title": i.title,
            "message": i.message,
            "to": _recipients(i),
            "questions": [(q.id, q.text) for q in i.questions],
        }
        for n, i in enumerate(scenario.injects, start=1)
    ]


def manual_context(scenario: Scenario) -> dict[str, Any]:
    """What the situation manual shows: the players' view only (see the module's docstring). A
    contingency inject is left out: it may never reach them, and its text hints at what it tests."""
    rows = zip(_inject_rows(scenario), scenario.injects, strict=True)
    return {
        **_base(scenario),
        "kind": "Situation manual",
        "objectives": [{"text": o.text, "capability": o.capability} for o in scenario.objectives],
        "injects": [row for row, inject in rows if inject.when is None],
    }


def _contingency(inject: Inject, playbook: Playbook | None) -> str:
    """When a contingency inject goes out, in words; empty for an inject that always does."""
    when = inject.when
    if when is None:
        return ""
    step = _step(playbook, when.step)
    if when.step_not_done is not None:
        return f"only if {step['title']} ({step['id']}) is not done by {format_offset(inject.at)}"
    shown = _value(when.equals)
    return f"only if the answer {when.answer} is {shown} at {format_offset(inject.at)}"


def _step(playbook: Playbook | None, step_id: str) -> dict[str, str]:
    steps = {s.id: s for s in playbook.steps()} if playbook is not None else {}
    step = steps.get(step_id)
    if step is None:
        return {"id": step_id, "title": step_id, "owner": "—"}
    owner = f"{step.owner.role.replace('_', ' ')} @ {step.owner.party}"
    return {"id": step_id, "title": step.title, "owner": owner}


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def handbook_context(scenario: Scenario, playbook: Playbook | None = None) -> dict[str, Any]:
    """What the facilitator and evaluator handbook shows: the manual and the answer key."""
    manual = manual_context(scenario)
    injects = []
    for row, inject in zip(_inject_rows(scenario), scenario.injects, strict=True):
        injects.append(
            {
                **row,
                "contingency": _contingency(inject, playbook),
                "expects": [_step(playbook, s) for s in inject.expects],
                "reveals": [(name, _value(v)) for name, v in inject.reveals.items()],
                "objectives": [
                    o.id for o in scenario.objectives if set(inject.expects) & set(o.measures("step"))
                ],
            }
        )
    simulation = scenario.simulation
    return {
        **manual,
        "kind": "Facilitator and evaluator handbook",
        "playbook": scenario.playbook,
        "facts": [(name, _value(v)) for name, v in scenario.facts.items()],
        "injects": injects,
        "objectives": [
            {
                "id": o.id,
                "text": o.text,
                "capability": o.capability or "—",
                "target": o.target or "—",
                "measures": [
                    f"{m} ({_step(playbook, m.partition(':')[2])['title']})" if m.startswith("step:") else m
                    for m in o.measured_by
                ]
                or ["none: rated only by an evaluator"],
            }
            for o in scenario.objectives
        ],
        "simulation": {
            "default_delay": format_offset(simulation.default_delay).removeprefix("T+"),
            "steps": [
                {
                    "id": step_id,
                    "title": _step(playbook, step_id)["title"],
                    "delay": format_offset(simulation.delay_for(step_id)).removeprefix("T+"),
                    "answer": [(name, _value(v)) for name, v in scripted.answer.items()],
                }
                for step_id, scripted in simulation.steps.items()
            ],
        },
    }


def render_pack(scenario: Scenario, playbook: Playbook | None = None) -> dict[str, str]:
    """The four documents: ``manual.html``, ``manual.md``, ``handbook.html``, ``handbook.md``."""
    manual, handbook = manual_context(scenario), handbook_context(scenario, playbook)
    return {
        "manual.html": _render("drill_manual.html.j2", manual),
        "manual.md": _render("drill_manual.md.j2", manual),
        "handbook.html": _render("drill_handbook.html.j2", handbook),
        "handbook.md": _render("drill_handbook.md.j2", handbook),
    }


def write_pack(scenario: Scenario, directory: Path, playbook: Playbook | None = None) -> PackPaths:
    """Write ``<scenario>-situation-manual.{html,md}`` and ``<scenario>-handbook.{html,md}``."""
    private_dir(directory)
    stem = re.sub(r"[^a-z0-9-]+", "-", scenario.id)
    docs = render_pack(scenario, playbook)
    names = {
        "manual.html": f"{stem}-situation-manual.html",
        "manual.md": f"{stem}-situation-manual.md",
        "handbook.html": f"{stem}-handbook.html",
        "handbook.md": f"{stem}-handbook.md",
    }
    paths = {key: write_private(directory / name, docs[key]) for key, name in names.items()}
    return PackPaths(paths["manual.html"], paths["manual.md"], paths["handbook.html"], paths["handbook.md"])


def _render(name: str, context: dict[str, Any]) -> str:
    return render_bounded(
        report_environment().get_template(name), context, budget=10.0, max_output=10_000_000
    )

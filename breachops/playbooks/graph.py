"""The order of a playbook: its four phases, and the dependencies between its steps.

``depends_on`` is what sequences steps; a step may depend only on steps of its own or an earlier
phase, and never, through any chain, on itself. Each problem is located (phase, index, step, field) so
the loader can name the file, the step and the value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = ["PHASES", "GraphProblem", "Phase", "StepNode", "graph_problems", "phase_order_problem"]

Phase = Literal["containment", "investigation", "remediation", "notification"]
PHASES: tuple[str, ...] = Phase.__args__  # type: ignore[attr-defined]


class StepNode(Protocol):
    """What the checks read of a step (``models.Step`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def depends_on(self) -> tuple[str, ...]: ...


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


def graph_problems(phases: Mapping[Any, Iterable[StepNode]]) -> list[GraphProblem]:
    """Duplicate ids, unknown or later-phase dependencies and cycles, in the order a reader meets them."""
    problems: list[GraphProblem] = []
    where: dict[str, tuple[str, int]] = {}
    located: list[tuple[str, int, StepNode]] = []
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

"""Human gates as Prefect run inputs: the form a person fills in to let the playbook go on.

A flow run can wait at only one suspension at a time, but several steps may be waiting for people at
once (steps run in parallel where their dependencies allow). So each suspension asks for *one* answer
to *any* of the waiting steps: a ``step`` field picks which, and each waiting step's gate fields are
offered (prefixed with the step id when more than one step waits). The Prefect UI renders this model
as the resume form; ``breachops step done`` sends the same shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from prefect.input import RunInput
from pydantic import Field, create_model

from breachops.playbooks.models import Step

__all__ = ["field_key", "gate_input_model", "split_answer"]

_TYPES: dict[str, Any] = {
    "bool": bool,
    "int": int,
    "text": str,
    "url": str,
    "urls": list[str],
    "datetime": datetime,
}


def field_key(step_id: str, name: str, several: bool) -> str:
    return f"{step_id}__{name}" if several else name


def _python_type(spec: Any) -> Any:
    if spec.type == "choice":
        choice: Any = Literal[tuple(spec.choices)]  # type: ignore[valid-type]
        return list[choice] if spec.multiple else choice
    return _TYPES[spec.type]


def gate_input_model(waiting: Sequence[Step]) -> type[RunInput]:
    """A RunInput subclass asking for one answer to one of ``waiting``."""
    ids = tuple(step.id for step in waiting)
    several = len(ids) > 1
    fields: dict[str, Any] = {
        "step": (
            Literal[ids],  # type: ignore[valid-type]
            Field(
                default=ids[0] if not several else ...,
                title="Step",
                description="The step you are confirming: "
                + "; ".join(f"{s.id}: {s.title}" for s in waiting),
            ),
        ),
        "by": (str, Field(title="Your email", description="Who confirms, as named in the agreement.")),
        "note": (str, Field(default="", title="Note", description="Evidence, decision record or remarks.")),
        "on_behalf_of": (
            str,
            Field(
                default="",
                title="On behalf of (role)",
                description="Only if you do not hold the step's role: the role you confirm for (recorded).",
            ),
        ),
    }
    for step in waiting:
        gate = step.gate
        for name, spec in (getattr(gate, "fields", None) or {}).items():
            label = spec.label or name.replace("_", " ")
            fields[field_key(step.id, name, several)] = (
                _python_type(spec) | None,
                Field(
                    default=None,
                    title=f"{label}" + (f" ({step.id})" if several else ""),
                    description=(spec.help or spec.label or name) + (" (required)" if spec.required else ""),
                ),
            )
    name = "Answer_" + "_".join(i.replace("-", "_") for i in ids)
    return create_model(name[:120], __base__=RunInput, **fields)


def split_answer(raw: dict[str, Any], step_id: str) -> dict[str, Any]:
    """The values of one step's gate from a flat answer, whatever prefixing the form used."""
    prefix = f"{step_id}__"
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("step", "by", "note", "on_behalf_of") or value is None:
            continue
        if key.startswith(prefix):
            values[key[len(prefix) :]] = value
        elif "__" not in key:
            values[key] = value
    return values

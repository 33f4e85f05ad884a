"""Values as people write them: ``FR 320, DE 120`` rather than a Python list of dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["human_due", "human_value"]


def human_value(value: Any) -> str:
    """A fact's value for a line of output: lists joined, a jurisdiction with its count, times in UTC."""
    if value is None:
        return "not given"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return human_due(value)
    if isinstance(value, dict):
        if "code" in value:  # a jurisdiction of the facts: its code and how many people it holds
            count = value.get("affected")
            return f"{value['code']} {count}" if count is not None else str(value["code"])
        return ", ".join(f"{k}={human_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return ", ".join(human_value(v) for v in value) or "none"
    return str(value)


def human_due(value: datetime | None) -> str:
    """An obligation's due instant, or why there is none yet."""
    if value is None:
        return "not yet started"
    return value.strftime("%Y-%m-%d %H:%M %Z") if value.tzinfo else value.isoformat()

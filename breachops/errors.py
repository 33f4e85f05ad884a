"""Errors that reach a person: each names where the bad value came from and what to do next."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = ["InputError", "ServiceUnavailable", "field_path", "from_validation_error"]


class ServiceUnavailable(RuntimeError):
    """Prefect or `breachops serve` could not be reached or started (after retrying).

    The CLI prints ``str(error)`` as one line and exits with status 4; what was stored stays stored.
    """


class InputError(ValueError):
    """Bad input: a file, a field and a value that cannot be used.

    The CLI prints ``str(error)`` as one line and exits with status 2; nothing is stored.
    """

    def __init__(
        self,
        source: str | Path | None,
        field: str | None,
        value: Any,
        problem: str,
        hint: str | None = None,
    ) -> None:
        self.source = str(source) if source is not None else None
        self.field = field
        self.value = value
        self.problem = problem
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ": ".join(part for part in (self.source, self.field) if part)
        quoted = self.value is _MISSING or self.value is None or repr(self.value) in self.problem
        shown = "" if quoted else f" (got {_short(self.value)})"
        text = f"{where}: {self.problem}{shown}" if where else f"{self.problem}{shown}"
        return f"{text}. {self.hint}" if self.hint else text


_MISSING = object()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def field_path(loc: Sequence[int | str]) -> str:
    """Render a pydantic location such as ('jurisdictions', 1, 'code') as ``jurisdictions[1].code``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def from_validation_error(
    error: ValidationError, source: str | Path | None, prefix: Sequence[int | str] = ()
) -> InputError:
    """Turn pydantic's report into one InputError naming the first bad field."""
    first = error.errors(include_url=False)[0]
    loc = [*prefix, *(p for p in first["loc"] if not _is_union_tag(p))]
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    value = first.get("input", _MISSING) if first["type"] != "missing" else _MISSING
    if isinstance(value, dict) and first["type"] != "extra_forbidden":
        value = _MISSING  # a whole mapping is noise; the field path says where
    return InputError(source, field_path(loc) or None, value, message)


def _is_union_tag(part: int | str) -> bool:
    # pydantic adds function names such as 'function-after[...]' to locations; they mean nothing to a user.
    return isinstance(part, str) and ("[" in part and "]" in part)

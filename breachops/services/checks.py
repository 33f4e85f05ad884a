"""Checks of what a person gives for the record, shared by the incident and drill operations: text
that will reach mail subjects, tables and terminals; instants the deadline arithmetic can count from;
values the store can keep. Each refusal is one :class:`InputError` naming the option or field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from breachops.config.values import MAX_YEAR, MIN_YEAR
from breachops.errors import InputError
from breachops.textsafe import inert, unsafe_char

if TYPE_CHECKING:
    from breachops.deadlines.models import Facts

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_NOTE",
    "MAX_TITLE",
    "check_fact_instants",
    "check_instant",
    "check_text",
    "storable",
]

MAX_TITLE = 200
MAX_NOTE = 4000


def check_text(label: str, value: object, *, max_length: int, newlines: bool = False) -> str:
    """Text a person gives for the record (a title, a reason, a note, an address): not blank, at most
    ``max_length`` characters, and no control character (no line break either, unless ``newlines``):
    it ends up in mail subjects, tables and terminals."""
    if not isinstance(value, str):
        raise InputError(label, None, value, "must be text")
    bad = unsafe_char(value, newlines=newlines)
    if bad is not None:
        raise InputError(
            label, None, value, f"holds the control character {inert(bad)}",
            "Use plain text." if newlines else "Use plain text on one line.",
        )  # fmt: skip
    if not value.strip():
        raise InputError(label, None, value, "is empty")
    if len(value) > max_length:
        raise InputError(label, None, value[:40] + "…", f"is longer than {max_length} characters")
    return value


EARLIEST = datetime(MIN_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(MAX_YEAR, 12, 31, 23, 59, 59, tzinfo=UTC)
"""Instants outside these are typing mistakes, and a deadline counted from one would overflow the
calendar (Python's dates end in the year 9999): the bounds the facts reader applies too."""


def check_instant(label: str, field_name: str | None, value: datetime) -> datetime:
    if not EARLIEST <= value <= LATEST:
        raise InputError(
            label, field_name, value.isoformat(), f"is outside {EARLIEST.year}–{LATEST.year}",
            "Check the year.",
        )  # fmt: skip
    return value


def check_fact_instants(facts: Facts, source: str | Path) -> Facts:
    """Refuse a fact whose instant is outside :data:`EARLIEST`–:data:`LATEST`, naming it."""
    for name in type(facts).model_fields:
        value = getattr(facts, name)
        if isinstance(value, datetime):
            check_instant(str(source), name, value)
    return facts


def storable(value: Any, label: str) -> Any:
    """What the store will keep, or one InputError (NaN, infinity, a value JSON cannot hold)."""
    # The store's encoder, imported on first use: `deadlines` checks instants and never stores.
    from breachops.store import audit

    try:
        return audit.to_jsonable(value)
    except (TypeError, ValueError) as exc:
        raise InputError(label, None, None, f"cannot be stored: {exc}") from None

"""Instants as text and back: what the record keeps (ISO 8601 with its offset) read as aware datetimes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["stored_instant"]


def stored_instant(value: Any) -> datetime | None:
    """An instant kept in facts or answers (a datetime, or ISO 8601 text with its offset), else None.

    Text without an offset is not an instant of the record: it reads as None rather than as local time.
    """
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else None
    return None

"""Instants and spans as text: what the record keeps (ISO 8601 with its offset) read as aware datetimes,
and the size of a span as every report writes it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

__all__ = ["format_margin", "format_span", "stored_instant", "utc_minute"]

# Days written so far, and every minute of a day: an instant's text is two look-ups. Past so many days
# (some 180 years' worth), a day is written anew.
_DAYS: dict[date, str] = {}
_DAYS_KEPT = 65536
_MINUTES = tuple(f" {h:02d}:{m:02d} UTC" for h in range(24) for m in range(60))


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


def utc_minute(instant: datetime) -> str:
    """``2026-03-28 09:00 UTC``: an instant given in UTC, to the minute (seconds dropped), as
    obligations and warnings state when a clock started. The engine writes several per incident."""
    day = instant.date()
    text = _DAYS.get(day)
    if text is None:
        text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
        if len(_DAYS) < _DAYS_KEPT:
            _DAYS[day] = text
    return text + _MINUTES[instant.hour * 60 + instant.minute]


def format_span(value: timedelta | None) -> str:
    """``2 d 3 h``, ``5 h 20 min``, ``45 min``, ``40 s``: the size of a span, as every report writes it.

    Rounded to the nearest unit shown, never cut: 1.01 h (60.6 min) is ``1 h 1 min``, not ``1 h``.
    Spans of days show hours only, the minutes being noise at that scale.
    """
    if value is None:
        return "an unknown time"
    seconds = abs(value.total_seconds())
    if seconds < 59.5:
        return f"{round(seconds)} s" if seconds >= 0.5 else "0 min"
    minutes = round(seconds / 60)
    if minutes >= 24 * 60:
        days, hours = divmod(round(seconds / 3600), 24)
        return f"{days} d {hours} h" if hours else f"{days} d"
    hours, mins = divmod(minutes, 60)
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


def format_margin(value: timedelta | None) -> str:
    """``+18 h`` to spare or ``−3 h`` late: the sign is the news."""
    if value is None:
        return "—"
    if value == timedelta(0):
        return "0 min"
    return f"{'+' if value > timedelta(0) else '−'}{format_span(value)}"

"""Scenario time: every instant of a scenario is an offset from the drill's start (``T+0``, ``T-6h``,
``T+1d2h``), so the same file runs on any day and at any speed. Spans (``72h``, ``1d2h30m``) are read
here too, and an offset is shown as the scenario clock a report prints (``T+02:30``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from breachops.config.values import MAX_SPAN_DAYS
from breachops.deadlines.models import Facts

__all__ = [
    "INSTANT_FACTS",
    "SAMPLE_T0",
    "as_utc",
    "format_offset",
    "instant_offset",
    "parse_offset",
    "parse_span",
    "resolve_instants",
]

INSTANT_FACTS: tuple[str, ...] = tuple(
    name for name in Facts.model_fields if name.endswith("_at")
)  # aware_at, discovered_at, ...
_SPAN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_OFFSET = re.compile(r"^T\s*([+-])\s*(\S+)$")
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}")  # a calendar date: YAML 1.2 reads it as text
_MAX_SPAN = timedelta(days=MAX_SPAN_DAYS)  # ten years: longer is a typo, and would overflow instants
# Any fixed instant resolves offsets when checking a scenario at load; facts only compare instants.
SAMPLE_T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def parse_span(text: Any) -> timedelta:
    """``72h``, ``3d``, ``30m``, ``1d2h30m``, ``20s`` (and ``0``) as a timedelta; ValueError otherwise."""
    if isinstance(text, timedelta):
        return text
    if isinstance(text, int) and not isinstance(text, bool) and text == 0:
        return timedelta(0)
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a span of time such as 30m, 2h, 3d or 1d2h")
    compact = text.replace(" ", "")
    match = _SPAN.match(compact)
    if compact == "0":
        return timedelta(0)
    if not compact or not match:
        raise ValueError(f"{text!r} is not a span of time such as 30m, 2h, 3d or 1d2h")
    if len(compact) > 40 or not compact.isascii():  # \d also matches other scripts' digits
        raise ValueError(f"{text!r} is not a span of time such as 30m, 2h, 3d or 1d2h")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    try:
        span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        span = _MAX_SPAN * 2
    if span > _MAX_SPAN:
        raise ValueError(f"{text!r} is longer than ten years, the longest span a scenario takes")
    return span


def parse_offset(text: Any) -> timedelta:
    """``T+0``, ``T+2h``, ``T-6h``, ``T+1d2h`` as the signed timedelta from the drill's start."""
    if isinstance(text, timedelta):
        return text
    match = _OFFSET.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not an offset from the drill's start such as T+0, T+2h or T-6h")
    try:
        span = parse_span(match.group(2))
    except ValueError:
        raise ValueError(
            f"{text!r} is not an offset from the drill's start such as T+0, T+2h or T-6h"
        ) from None
    return -span if match.group(1) == "-" else span


def format_offset(offset: timedelta) -> str:
    """``T+02:30`` (hours may exceed 24: ``T+50:00``), the scenario clock a report shows."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"T{sign}{hours:02d}:{mins:02d}"


def as_utc(t0: datetime) -> datetime:
    if t0.tzinfo is None or t0.utcoffset() is None:
        raise ValueError(f"t0 must be timezone-aware, got {t0.isoformat()}")
    return t0.astimezone(UTC)


def resolve_instants(facts: Mapping[str, Any], t0: datetime) -> dict[str, Any]:
    start = as_utc(t0)
    # A copy, so a caller adding to a list of categories cannot change the scenario.
    return {
        name: (
            start + parse_offset(value)
            if name in INSTANT_FACTS and value is not None
            else copy.deepcopy(value)
        )
        for name, value in facts.items()
    }


def instant_offset(value: Any) -> timedelta:
    if isinstance(value, datetime) or (isinstance(value, str) and _DATE_PREFIX.match(value.strip())):
        shown = value.isoformat() if isinstance(value, datetime) else value.strip()
        raise ValueError(
            f"{shown} is a fixed instant; write instants as offsets from the drill's start "
            "(T+0, T-6h, T+1d2h) so the scenario can run on any day"
        )
    return parse_offset(value)

"""Counting days: calendar and business days in a named holiday calendar, months with clamping.

Everything here is a pure function of dates; results are cached because a catalogue asks the same
questions for many incidents (the same trigger day, the same window, the same calendar).
"""

from __future__ import annotations

import calendar as _calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as _holidays

from breachops.config.rules import Window

__all__ = [
    "add_business_days",
    "add_months",
    "holiday_calendar",
    "is_business_day",
    "local_deadline",
    "tz",
    "window_end",
]


@lru_cache(maxsize=256)
def holiday_calendar(code: str) -> _holidays.HolidayBase:
    """Public holidays for ``code`` (``US``, ``BR``, ``US-NY``), with the observed days the law uses.

    Only the public category is counted: Brazil's Carnival, an optional federal day off (ponto
    facultativo), counts as a working day, which gives the earlier, safer deadline.
    """
    country, _, subdiv = code.partition("-")
    return _holidays.country_holidays(country, subdiv=subdiv or None)


def is_business_day(day: date, code: str) -> bool:
    cal = holiday_calendar(code)
    return day.weekday() not in cal.weekend and day not in cal


@lru_cache(maxsize=65536)
def add_business_days(start: date, count: int, code: str) -> date:
    """The ``count``-th business day after ``start`` (``start`` itself never counts)."""
    day = start
    remaining = count
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day, code):
            remaining -= 1
    return day


def add_months(day: date, months: int) -> date:
    """Same day of the month ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def local_deadline(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant of local clock time ``at`` on ``day`` in ``zone``.

    A clock time skipped by a DST change (02:30 on a spring-forward night) resolves to the instant
    after the gap, as the wall clock would show it.
    """
    return datetime.combine(day, at, tzinfo=zone)


@lru_cache(maxsize=512)
def tz(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def window_end(window: Window, start: datetime, zone: str | None = None) -> datetime:
    """When ``window`` ends for a clock started at ``start`` (aware). Returns UTC.

    Hours are elapsed time (arithmetic on the UTC instant, so DST never shifts them). Day and month
    windows are reckoned on the local calendar of the window's own ``timezone``, else of ``zone`` (the
    jurisdiction concerned); UTC's calendar only where neither is given.
    """
    start = start.astimezone(UTC)
    if window.hours:
        return start + timedelta(hours=window.hours)
    if window.term:
        return start + timedelta(hours=window.target_hours or 0)
    zone_info = tz(window.timezone or zone or "UTC")
    local = start.astimezone(zone_info)
    if window.calendar_days:
        offset = window.calendar_days - (1 if window.include_trigger_day else 0)
        day = local.date() + timedelta(days=offset)
    elif window.business_days:
        day = add_business_days(local.date(), window.business_days, window.holidays or "")
    else:
        day = add_months(local.date(), window.months or 0)
    cutoff = window.cutoff
    at = cutoff if cutoff is not None else local.time()
    return local_deadline(day, at, zone_info).astimezone(UTC)

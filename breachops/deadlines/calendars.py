"""Counting days: calendar and business days in a named holiday calendar, months with clamping.

Everything here is a pure function of dates; results are cached because a catalogue asks the same
questions for many incidents (the same trigger day, the same window, the same calendar).
"""

from __future__ import annotations

import calendar as _calendar
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as _holidays

__all__ = ["add_business_days", "add_months", "holiday_calendar", "is_business_day", "local_deadline"]


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

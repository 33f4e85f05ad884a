"""Counting days: calendar and business days in a named holiday calendar, months with clamping.

Everything here is a pure function of dates; results are cached because a catalogue asks the same
questions for many incidents (the same trigger day, the same window, the same calendar).
"""

from __future__ import annotations

import calendar as _calendar
import operator
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache, partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from breachops.config.rule_models import Window

if TYPE_CHECKING:
    import holidays as _holidays

__all__ = [
    "add_business_days",
    "add_months",
    "counter",
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
    import holidays  # on first need: most windows are hours or calendar days, and it loads slowly

    country, _, subdiv = code.partition("-")
    return holidays.country_holidays(country, subdiv=subdiv or None)


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
    found = _COUNTERS.get(id(window))
    if found is None or found[0] is not window:
        found = (window, counter(window))
        if len(_COUNTERS) < 4096:
            _COUNTERS[id(window)] = found
    return found[1](start, zone)


# How each window counts, worked out once per window (kept with it, so that its id stays its own).
Counter = Callable[[datetime, "str | None"], datetime]
_COUNTERS: dict[int, tuple[Window, Counter]] = {}
# Ends of a day window with a cut-off kept per counter, by zone and local day of the start; past it,
# worked out anew.
_ENDS_KEPT = 16384


def counter(window: Window) -> Counter:
    """``window_end`` for one window: (start, zone) → its end in UTC."""
    if window.hours or window.term:
        span = timedelta(hours=window.hours or window.target_hours or 0)

        def elapsed(start: datetime, zone: str | None) -> datetime:
            return start.astimezone(UTC) + span

        return elapsed
    step: Callable[[date], date]
    if window.calendar_days:
        offset = timedelta(days=window.calendar_days - (1 if window.include_trigger_day else 0))
        step = partial(operator.add, offset)
    elif window.business_days:
        step = partial(_business, window.business_days, window.holidays or "")
    else:
        step = partial(_months, window.months or 0)
    own = window.timezone
    cutoff = window.cutoff
    # With a cut-off the end depends on the start only through its local day: kept by zone and day.
    ends: dict[tuple[str, date], datetime] = {}

    def local(start: datetime, zone: str | None) -> datetime:
        name = own or zone or "UTC"
        zone_info = tz(name)
        at = start.astimezone(zone_info)
        if cutoff is None:
            return local_deadline(step(at.date()), at.time(), zone_info).astimezone(UTC)
        key = (name, at.date())
        found = ends.get(key)
        if found is None:
            found = local_deadline(step(key[1]), cutoff, zone_info).astimezone(UTC)
            if len(ends) < _ENDS_KEPT:
                ends[key] = found
        return found

    return local


def _business(count: int, code: str, day: date) -> date:
    return add_business_days(day, count, code)


def _months(months: int, day: date) -> date:
    return add_months(day, months)

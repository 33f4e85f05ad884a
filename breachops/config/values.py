"""Strict value types for what people write in YAML files and on the command line.

pydantic's lax mode would read ``aware_at: 2026`` as 33 minutes past midnight on 1 January 1970,
``affected: true`` as one person, ``affected: "12"`` as twelve and ``include_trigger_day: "yes"`` as
true. A value of the wrong kind is refused here instead, with what was expected, so a typo cannot
move a deadline.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, StrictBool

__all__ = [
    "MAX_COUNT",
    "MAX_SPAN_DAYS",
    "MAX_YEAR",
    "MIN_YEAR",
    "Count",
    "Day",
    "Flag",
    "Instant",
    "Number",
    "Whole",
    "check_instant",
]

MIN_YEAR = 1900
MAX_YEAR = 8999
"""Instants outside these years are typos; the engine adds windows of years to them without overflow."""

MAX_SPAN_DAYS = 3660
"""The longest span a file may give (ten years): no notification window, reminder or drill comes near
it, and instants up to MAX_YEAR plus this span stay within what a datetime can hold."""

MAX_COUNT = 10**12
"""More people than this is not a count of people but a typo."""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN or infinity"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"


def _instant_input(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATETIME.match(value.strip()):
        return value.strip()
    example = "a date and time with its UTC offset, such as 2026-03-28T09:00:00+01:00"
    if isinstance(value, str):
        raise ValueError(f"{value!r} is not {example}")
    raise ValueError(f"expected {example}, not {_kind(value)}")


def check_instant(value: datetime) -> datetime:
    """``value`` if its year is one deadlines can be counted from; ValueError otherwise."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"is out of range: deadlines are counted from years {MIN_YEAR} to {MAX_YEAR}")
    return value


def _day_input(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.match(value.strip()):
        return value.strip()
    if isinstance(value, str):
        raise ValueError(f"{value!r} is not a date such as 2026-12-01")
    raise ValueError(f"expected a date such as 2026-12-01, not {_kind(value)}")


def _check_day(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"is out of range: a date in the years {MIN_YEAR} to {MAX_YEAR} is expected")
    return value


def _whole_input(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        raise ValueError(f"{value!r} is text, not a whole number; write the number without quotes")
    raise ValueError(f"expected a whole number, not {_kind(value)}")


def _count_input(value: Any) -> Any:
    value = _whole_input(value)
    if value > MAX_COUNT:
        raise ValueError(f"{value} is more than {MAX_COUNT:,}, which cannot be a count of people")
    return value


def _number_input(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError("expected a finite number, not NaN or infinity")
        return value
    if isinstance(value, str):
        raise ValueError(f"{value!r} is text, not a number; write the number without quotes")
    raise ValueError(f"expected a number, not {_kind(value)}")


Instant = Annotated[AwareDatetime, BeforeValidator(_instant_input), AfterValidator(check_instant)]
"""An aware date and time (a datetime, or ISO 8601 text with its offset) in a countable year."""

Day = Annotated[date, BeforeValidator(_day_input), AfterValidator(_check_day)]
"""A calendar date (a date, or ISO 8601 text such as 2026-12-01)."""

Whole = Annotated[int, BeforeValidator(_whole_input)]
"""A whole number; never a boolean, text or a fraction. Bounds are given with ``Field``."""

Count = Annotated[int, BeforeValidator(_count_input)]
"""A number of people: a whole number up to MAX_COUNT. The lower bound is given with ``Field``."""

Number = Annotated[float, BeforeValidator(_number_input)]
"""A finite number, whole or not; never a boolean or text."""

Flag = StrictBool
"""true or false, nothing else ("yes" is text in YAML 1.2 and refused here)."""

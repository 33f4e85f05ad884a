"""Durations in reports are rounded honestly, and the speed line says what a minute of real time holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from breachops.reports.after_action_view import _speed
from breachops.timefmt import format_span


@pytest.mark.parametrize(
    ("span", "words"),
    [
        (timedelta(hours=1.01), "1 h 1 min"),  # 60.6 min: rounded up, not cut to "1 h"
        (timedelta(minutes=59, seconds=40), "1 h"),
        (timedelta(minutes=45, seconds=20), "45 min"),
        (timedelta(seconds=40), "40 s"),
        (timedelta(0), "0 min"),
        (timedelta(days=2, hours=3, minutes=40), "2 d 4 h"),
        (timedelta(hours=72), "3 d"),
        (-timedelta(hours=3, minutes=1), "3 h 1 min"),  # the sign is the caller's to show
    ],
)
def test_spans_are_rounded_to_the_unit_shown(span: timedelta, words: str) -> None:
    assert format_span(span) == words


def test_a_fast_drill_says_how_much_scenario_time_passes_in_a_minute() -> None:
    assert _speed(4320) == "4320× (3 d of scenario time in 1 min)"
    assert _speed(120) == "120× (2 h of scenario time in 1 min)"


def test_a_slow_drill_says_how_long_an_hour_of_scenario_time_takes() -> None:
    assert _speed(2) == "2× (1 h of scenario time in 30 min)"
    assert _speed(0).startswith("facilitated")

"""An obligation states when its clock started as strftime would write it, to the minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breachops.timefmt import utc_minute


def test_every_minute_of_a_day_is_written_as_strftime_writes_it():
    start = datetime(2024, 2, 29, tzinfo=UTC)
    for minute in range(24 * 60):
        instant = start + timedelta(minutes=minute, seconds=59, microseconds=999_999)
        assert utc_minute(instant) == instant.strftime("%Y-%m-%d %H:%M UTC")


def test_days_across_years_and_small_years_keep_four_digits():
    for instant in (
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2018, 1, 1, 0, 0, 30, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ):
        year, rest = utc_minute(instant).split("-", 1)
        assert (year, rest) == (f"{instant.year:04d}", instant.strftime("%m-%d %H:%M UTC"))

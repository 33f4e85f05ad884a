"""How windows are counted: elapsed hours, local days, business days, months, cut-offs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from breachops.config.rule_models import Window
from breachops.deadlines.calendars import add_business_days, add_months, is_business_day
from breachops.deadlines.engine import window_end

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def w(**kw) -> Window:
    return Window.model_validate(kw)


def test_gdpr_72_hours_are_elapsed_hours_across_the_spring_dst_change():
    aware = datetime(2026, 3, 27, 10, 0, tzinfo=BERLIN)  # CET; clocks go forward on 29 March
    due = window_end(w(hours=72), aware)
    assert due - aware == timedelta(hours=72)
    assert due == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 11  # the wall clock shows 11:00 CEST, not 10:00


def test_hour_window_across_the_autumn_dst_change_is_still_exact():
    aware = datetime(2026, 10, 24, 12, 0, tzinfo=NEW_YORK)  # EDT; clocks go back on 1 November
    due = window_end(w(hours=240), aware)
    assert due - aware == timedelta(hours=240)
    assert due.astimezone(NEW_YORK).hour == 11


def test_same_clock_time_day_window_keeps_wall_time_across_dst():
    start = datetime(2026, 3, 28, 10, 0, tzinfo=BERLIN)
    due = window_end(w(calendar_days=1, day_end="same_time", timezone="Europe/Berlin"), start)
    assert due.astimezone(BERLIN) == datetime(2026, 3, 29, 10, 0, tzinfo=BERLIN)
    assert due - start == timedelta(hours=23)  # the night lost an hour


def test_calendar_days_exclude_the_trigger_day_and_end_at_local_midnight():
    discovered = datetime(2026, 10, 20, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles"))  # PDT
    due = window_end(w(calendar_days=30, timezone="America/Los_Angeles"), discovered)
    local = due.astimezone(ZoneInfo("America/Los_Angeles"))
    assert (local.date(), local.hour, local.minute) == (date(2026, 11, 19), 23, 59)
    assert local.utcoffset() == timedelta(hours=-8)  # PST by then


def test_calendar_days_do_not_roll_over_a_weekend():
    start = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)  # Wednesday
    due = window_end(w(calendar_days=3, timezone="Asia/Singapore"), start)
    assert due.astimezone(ZoneInfo("Asia/Singapore")).date() == date(2026, 6, 13)  # a Saturday


def test_day_counting_uses_the_rules_zone_not_utc():
    # 23:30 in Singapore is still the 10th there but already... 15:30 UTC on the 10th; and 01:00 on the
    # 11th in Singapore is 17:00 UTC on the 10th: the local day decides.
    late = datetime(2026, 6, 11, 1, 0, tzinfo=ZoneInfo("Asia/Singapore"))
    due = window_end(w(calendar_days=3, timezone="Asia/Singapore"), late)
    assert due.astimezone(ZoneInfo("Asia/Singapore")).date() == date(2026, 6, 14)


def test_including_the_trigger_day_shortens_a_day_window_by_one():
    start = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    excl = window_end(w(calendar_days=30), start)
    incl = window_end(w(calendar_days=30, include_trigger_day=True), start)
    assert excl - incl == timedelta(days=1)


def test_sec_four_business_days_skip_thanksgiving_and_end_at_the_edgar_cutoff():
    material = datetime(2026, 11, 24, 15, 0, tzinfo=NEW_YORK)  # Tuesday before Thanksgiving
    window = w(business_days=4, holidays="US", timezone="America/New_York", day_end="17:30")
    due = window_end(window, material).astimezone(NEW_YORK)
    # Wed 25 (1), Thu 26 Thanksgiving (skipped), Fri 27 (2), Mon 30 (3), Tue 1 Dec (4)
    assert due == datetime(2026, 12, 1, 17, 30, tzinfo=NEW_YORK)


def test_sec_business_days_skip_the_observed_independence_day():
    material = datetime(2026, 7, 2, 10, 0, tzinfo=NEW_YORK)  # 4 July is a Saturday, observed Friday 3 July
    window = w(business_days=4, holidays="US", timezone="America/New_York", day_end="17:30")
    assert window_end(window, material).astimezone(NEW_YORK).date() == date(2026, 7, 9)


def test_brazil_three_working_days_count_carnival_as_a_working_day():
    # Carnival 2027 is Monday 8 and Tuesday 9 February: an optional day off, not a national holiday.
    # Counting it as a working day gives the earlier deadline; the README documents the choice.
    aware = datetime(2027, 2, 5, 18, 0, tzinfo=SAO_PAULO)  # Friday
    window = w(business_days=3, holidays="BR", timezone="America/Sao_Paulo")
    due = window_end(window, aware).astimezone(SAO_PAULO)
    assert due.date() == date(2027, 2, 10)
    assert (due.hour, due.minute) == (23, 59)


def test_brazil_working_days_skip_tiradentes():
    aware = datetime(2027, 4, 19, 9, 0, tzinfo=SAO_PAULO)  # Monday; Wednesday 21 April is Tiradentes
    window = w(business_days=3, holidays="BR", timezone="America/Sao_Paulo")
    assert window_end(window, aware).astimezone(SAO_PAULO).date() == date(2027, 4, 23)


def test_business_days_across_the_year_end_skip_christmas_and_new_year():
    start = date(2026, 12, 23)  # Wednesday
    # Thu 24 (1), Fri 25 Christmas, Mon 28 (2), Tue 29 (3), Wed 30 (4), Thu 31 (5),
    # Fri 1 Jan holiday, Mon 4 (6)
    assert add_business_days(start, 6, "US") == date(2027, 1, 4)


def test_business_days_use_the_countrys_own_weekend():
    # Saudi Arabia rests on Friday and Saturday.
    assert not is_business_day(date(2026, 6, 12), "SA")  # Friday
    assert is_business_day(date(2026, 6, 14), "SA")  # Sunday


def test_calendar_days_cross_a_leap_day():
    start = datetime(2028, 2, 27, 12, 0, tzinfo=UTC)
    assert window_end(w(calendar_days=3), start).date() == date(2028, 3, 1)
    start = datetime(2027, 2, 27, 12, 0, tzinfo=UTC)
    assert window_end(w(calendar_days=3), start).date() == date(2027, 3, 2)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # year end
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
    ],
)
def test_month_windows_clamp_to_the_months_end(start, months, expected):
    assert add_months(start, months) == expected


def test_open_term_is_due_at_its_practical_target():
    start = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    assert window_end(w(term="without undue delay", target_hours=48), start) == start + timedelta(hours=48)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of"),
        ({"hours": 72, "calendar_days": 3}, "found hours, calendar_days"),
        ({"term": "promptly"}, "needs target_hours"),
        ({"business_days": 3}, "needs holidays"),
        ({"hours": 0}, "greater than 0"),
        ({"hours": 2, "timezone": "Mars/Olympus"}, "IANA time zone"),
        ({"calendar_days": 2, "day_end": "25:00"}, "cut-off time"),
        ({"calendar_days": 2, "include_trigger_day": True, "day_end": "same_time"}, "end before it starts"),
    ],
)
def test_malformed_windows_are_refused_with_the_reason(fields, message):
    with pytest.raises(ValueError, match=message):
        w(**fields)

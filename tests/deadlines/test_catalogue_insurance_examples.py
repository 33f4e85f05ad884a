"""Worked examples for the state insurance data security laws (NAIC model #668, section 6): the notice
to the insurance commissioner, counted from the licensee's determination that a cybersecurity event
occurred.

Each due instant below is derived by hand from the section cited beside it. The common case: the
determination is made on Thursday 2026-03-05 at 10:00 local time (standard time). US clocks spring
forward on Sunday 2026-03-08, so a window ending on or after that day ends at 23:59:59 daylight time:
  three business days -> Fri 6, Mon 9, Tue 10 March -> Tue 2026-03-10 23:59:59
    Eastern (EDT, -4) = 2026-03-11 03:59:59Z;  Central (CDT, -5) = 2026-03-11 04:59:59Z
  five business days  -> ... Wed 11, Thu 12 March -> Central 2026-03-13 04:59:59Z
  an open term with the model's 72 hours as target -> 72 elapsed hours, whatever the clocks do.
No state holiday of these states falls on 6-12 March 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from breachops.config.rule_files import load_catalogue
from breachops.deadlines.engine import assess
from tests.deadlines.helpers import facts as base_facts
from tests.deadlines.helpers import obligation_of, refusal_of

CATALOGUE = load_catalogue()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
EASTERN_3BD = datetime(2026, 3, 11, 3, 59, 59, tzinfo=UTC)
CENTRAL_3BD = datetime(2026, 3, 11, 4, 59, 59, tzinfo=UTC)


def insurer(code: str, determined: str, sectors: tuple[str, ...] = ("insurance",)):
    """A licensee in the insurance sector that determined on ``determined`` that an event occurred,
    the day after it became aware of it; 40 residents of ``code`` involved."""
    aware = datetime.fromisoformat(determined) - timedelta(hours=18)
    return base_facts(
        aware_at=aware.isoformat(),
        assessed_at=determined,
        jurisdictions=[{"code": code, "affected": 40}],
        data_categories=["personal"],
        sectors=list(sectors),
    )


# (rule id, state, determination in local standard time, due, whether the reading is confirmed)
CASES = [
    # Ala. Code § 27-62-6(a): "in no event later than three business days from a determination".
    ("us-al-27-62-6-commissioner", "US-AL", "2026-03-05T10:00:00-06:00", CENTRAL_3BD, True),
    # Conn. Gen. Stat. § 38a-38: three business days (unconfirmed: the window is from law-firm summaries,
    # the statute's text was not read).
    ("us-ct-38a-38-commissioner", "US-CT", "2026-03-05T10:00:00-05:00", EASTERN_3BD, False),
    # 18 Del. C. § 8606: within three business days of determining (unconfirmed: the Department's
    # bulletins, not the section's words).
    ("us-de-18-86-commissioner", "US-DE", "2026-03-05T10:00:00-05:00", EASTERN_3BD, False),
    # HRS § 431:3B-304 (model numbering): the licensee's own limit was not found in any stored copy
    # (unconfirmed; § 431:3B-305 gives assuming insurers three business days), so an open term with
    # the model's 72 h as target: 10:00 HST = 20:00Z on the 5th, + 72 h = 2026-03-08 20:00Z (no DST in
    # Hawaii).
    (
        "us-hi-431-3b-commissioner",
        "US-HI",
        "2026-03-05T10:00:00-10:00",
        datetime(2026, 3, 8, 20, tzinfo=UTC),
        False,
    ),
    # 215 ILCS 215/20(a): "as promptly as possible but no later than 3 business days after a determination
    # that a cybersecurity event has occurred".
    ("us-il-215-215-20-director", "US-IL", "2026-03-05T10:00:00-06:00", CENTRAL_3BD, True),
    # IC 27-2-27-21(c): "as promptly as p[ossible] ..." - the limit was cut off in the text read
    # (unconfirmed); target 72 h: 15:00Z on the 5th -> 2026-03-08 15:00Z (11:00 EDT, after the change).
    (
        "us-in-27-2-27-21-commissioner",
        "US-IN",
        "2026-03-05T10:00:00-05:00",
        datetime(2026, 3, 8, 15, tzinfo=UTC),
        False,
    ),
    # KRS 304.3-760: no stored copy found; a summary says "within three days" (unconfirmed); target 72 h.
    (
        "us-ky-304-3-760-commissioner",
        "US-KY",
        "2026-03-05T10:00:00-05:00",
        datetime(2026, 3, 8, 15, tzinfo=UTC),
        False,
    ),
    # La. R.S. 22:2506: "in no event later than three business days after the determination".
    ("us-la-22-2506-commissioner", "US-LA", "2026-03-05T10:00:00-06:00", CENTRAL_3BD, True),
    # 24-A M.R.S. § 2266(1): "not later than three business days, after determining" (unconfirmed: the
    # Bureau's form and page, not the statute).
    ("us-me-24-a-2266-superintendent", "US-ME", "2026-03-05T10:00:00-05:00", EASTERN_3BD, False),
    # Md. Code, Ins. § 33-105(a): "in no event later than 3 business days from a determination".
    ("us-md-ins-33-105-commissioner", "US-MD", "2026-03-05T10:00:00-05:00", EASTERN_3BD, True),
    # Minn. Stat. § 60A.9853: "no later than five business days from a determination": Fri 6, Mon 9, Tue 10,
    # Wed 11, Thu 12 March -> 2026-03-12 23:59:59 CDT = 2026-03-13 04:59:59Z.
    (
        "us-mn-60a-9853-commissioner",
        "US-MN",
        "2026-03-05T10:00:00-06:00",
        datetime(2026, 3, 13, 4, 59, 59, tzinfo=UTC),
        True,
    ),
    # Miss. Code Ann. § 83-5-811: "no later than three business days after determining" (unconfirmed: the
    # section number within 83-5-801 to 825 was not read).
    ("us-ms-83-5-8-commissioner", "US-MS", "2026-03-05T10:00:00-06:00", CENTRAL_3BD, False),
    # RSA 420-P:6, I: "within 3 business days of a determination".
    ("us-nh-420-p-6-commissioner", "US-NH", "2026-03-05T10:00:00-05:00", EASTERN_3BD, True),
    # N.D.C.C. § 26.1-02.2-05(1): "no later than three business days from a determination"; Bismarck is on
    # Central time.
    ("us-nd-26-1-02-2-05-commissioner", "US-ND", "2026-03-05T10:00:00-06:00", CENTRAL_3BD, True),
    # R.C. 3965.04(A): "in no event later than three business days after" the determination.
    ("us-oh-3965-04-superintendent", "US-OH", "2026-03-05T10:00:00-05:00", EASTERN_3BD, True),
    # R.I. Gen. Laws § 27-1-47(a): domestic insurers, "no later than three business days from a determination".
    ("us-ri-27-1-47-commissioner", "US-RI", "2026-03-05T10:00:00-05:00", EASTERN_3BD, True),
    # Tenn. Code Ann. § 56-2-1006(a): "in no event more than three business days, following a
    # determination"; Nashville is on Central time.
    ("us-tn-56-2-1006-commissioner", "US-TN", "2026-03-05T10:00:00-06:00", CENTRAL_3BD, True),
    # Va. Code § 38.2-625(A): "in no event later than three business days from the determination".
    ("us-va-38-2-625-commission", "US-VA", "2026-03-05T10:00:00-05:00", EASTERN_3BD, True),
    # Wis. Stat. § 601.954(1)(b): "no later than 3 business days from the determination".
    ("us-wi-601-954-commissioner", "US-WI", "2026-03-05T10:00:00-06:00", CENTRAL_3BD, True),
]


@pytest.mark.parametrize(
    ("rule_id", "code", "determined", "due", "confirmed"), CASES, ids=[c[0] for c in CASES]
)
def test_commissioner_notice_is_due_by_hand_from_the_determination(rule_id, code, determined, due, confirmed):
    o = obligation_of(assess(insurer(code, determined), CATALOGUE, now=NOW), rule_id)
    assert o.audience == "regulator"
    assert o.jurisdiction == code
    assert o.clock_event == "assessed"
    assert o.clock_start == datetime.fromisoformat(determined)
    assert o.due == due
    assert o.confirmed is confirmed


@pytest.mark.parametrize(("rule_id", "code", "determined"), [c[:3] for c in CASES], ids=[c[0] for c in CASES])
def test_commissioner_notice_binds_licensees_only(rule_id, code, determined):
    # Each law binds a "licensee" under the state's insurance laws: the same event at a bank is no
    # cybersecurity event for the commissioner.
    a = assess(insurer(code, determined, sectors=("financial",)), CATALOGUE, now=NOW)
    assert rule_id not in {o.rule_id for o in a.obligations}
    assert "insurance" in (refusal_of(a, rule_id) or "")


def test_illinois_skips_casimir_pulaski_day():
    # 215 ILCS 215/20(a), 3 business days. Determined Friday 2026-02-27 10:00 CST; Monday 2 March is
    # Casimir Pulaski Day, a state holiday: Tue 3, Wed 4, Thu 5 March -> 2026-03-05 23:59:59 CST (before the
    # change to daylight time) = 2026-03-06 05:59:59Z.
    f = insurer("US-IL", "2026-02-27T10:00:00-06:00")
    o = obligation_of(assess(f, CATALOGUE, now=NOW), "us-il-215-215-20-director")
    assert o.due == datetime(2026, 3, 6, 5, 59, 59, tzinfo=UTC)


def test_louisiana_skips_presidents_day_and_mardi_gras():
    # La. R.S. 22:2506, 3 business days. Determined Friday 2026-02-13 10:00 CST; Monday 16 February is
    # Washington's Birthday and Tuesday 17 February Mardi Gras, both Louisiana holidays: Wed 18, Thu 19,
    # Fri 20 February -> 2026-02-20 23:59:59 CST = 2026-02-21 05:59:59Z.
    f = insurer("US-LA", "2026-02-13T10:00:00-06:00")
    o = obligation_of(assess(f, CATALOGUE, now=NOW), "us-la-22-2506-commissioner")
    assert o.due == datetime(2026, 2, 21, 5, 59, 59, tzinfo=UTC)


# (rule id, state, zone of its capital, first day in force) for the laws whose effective date was read
IN_FORCE = [
    # P.A. 19-196 moved the law from 2019-10-01 to 2020-10-01.
    ("us-ct-38a-38-commissioner", "US-CT", "America/New_York", date(2020, 10, 1)),
    ("us-in-27-2-27-21-commissioner", "US-IN", "America/Indiana/Indianapolis", date(2021, 7, 1)),
    ("us-ky-304-3-760-commissioner", "US-KY", "America/New_York", date(2023, 1, 1)),
    ("us-la-22-2506-commissioner", "US-LA", "America/Chicago", date(2020, 8, 1)),
    ("us-me-24-a-2266-superintendent", "US-ME", "America/New_York", date(2022, 1, 1)),
    ("us-md-ins-33-105-commissioner", "US-MD", "America/New_York", date(2022, 10, 1)),
    ("us-ms-83-5-8-commissioner", "US-MS", "America/Chicago", date(2019, 7, 1)),
    ("us-nh-420-p-6-commissioner", "US-NH", "America/New_York", date(2020, 1, 1)),
    ("us-oh-3965-04-superintendent", "US-OH", "America/New_York", date(2019, 3, 20)),
    ("us-ri-27-1-47-commissioner", "US-RI", "America/New_York", date(2025, 1, 1)),
    ("us-tn-56-2-1006-commissioner", "US-TN", "America/Chicago", date(2021, 7, 1)),
    ("us-va-38-2-625-commission", "US-VA", "America/New_York", date(2020, 7, 1)),
]


@pytest.mark.parametrize(("rule_id", "code", "zone", "first_day"), IN_FORCE, ids=[c[0] for c in IN_FORCE])
def test_commissioner_notice_binds_from_its_first_local_day(rule_id, code, zone, first_day):
    # Half an hour before midnight on the eve, local time (already the first day in UTC), the section is
    # not yet in force; half an hour after midnight it is.
    eve = datetime.combine(first_day - timedelta(days=1), time(23, 30), tzinfo=ZoneInfo(zone))
    before = assess(insurer(code, eve.isoformat()), CATALOGUE, now=NOW)
    assert eve.astimezone(UTC).date() == first_day
    assert rule_id not in {o.rule_id for o in before.obligations}
    assert refusal_of(before, rule_id) is not None
    after = assess(insurer(code, (eve + timedelta(hours=1)).isoformat()), CATALOGUE, now=NOW)
    assert obligation_of(after, rule_id).audience == "regulator"

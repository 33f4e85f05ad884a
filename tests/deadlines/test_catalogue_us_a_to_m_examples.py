"""Worked examples for the breach-notice rules of Alaska to Mississippi, DC and California: residents,
credit bureaus and the Attorney General, and the data owner told by whoever holds the data for it.

Most of these statutes set an open term ("without unreasonable delay", "immediately following
discovery"): the law gives no date, so the due time is the team's target counted in elapsed hours
from discovery, 720 h (30 days) for people and regulators, 24 h for the data owner. Each example
states the words of the section it cites, and its due time is derived by hand. The common case: the
breach is discovered on Monday 2026-03-02 at 09:00 local standard time; 24 h later is 09:00 the next
day (no clock change); 720 h later is 2026-04-01 at the same UTC instant, 10:00 local daylight time
where the state moved its clocks forward on 8 March (Hawaii does not).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from breachops.config.rule_files import load_catalogue
from breachops.deadlines.engine import assess
from tests.deadlines.helpers import facts as base_facts
from tests.deadlines.helpers import obligation_of, refusal_of

CATALOGUE = load_catalogue()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
# 09:00 local standard time on 2026-03-02, per zone, as an offset.
OFFSET = {
    "US-AK": "-09:00",  # America/Juneau, AKST
    "US-AR": "-06:00",
    "US-GA": "-05:00",
    "US-HI": "-10:00",
    "US-IA": "-06:00",
    "US-ID": "-07:00",  # America/Boise, MST
    "US-IL": "-06:00",
    "US-KS": "-06:00",
    "US-KY": "-05:00",
    "US-MA": "-05:00",
    "US-MI": "-05:00",
    "US-MN": "-06:00",
    "US-MO": "-06:00",
    "US-MS": "-06:00",
    "US-DC": "-05:00",
}


def discovered(code: str, affected: int = 40, **kw):
    """Personal data of ``affected`` residents of ``code``, discovered 2026-03-02 09:00 local."""
    return base_facts(
        aware_at=f"2026-03-02T09:00:00{OFFSET[code]}",
        jurisdictions=[{"code": code, "affected": affected}],
        data_categories=["personal"],
        **kw,
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def due_by(code: str, hours: int) -> datetime:
    """09:00 local standard time on 2026-03-02 in UTC, plus ``hours`` elapsed."""
    sign, hh = OFFSET[code][0], int(OFFSET[code][1:3])
    start_hour = 9 + hh if sign == "-" else 9 - hh
    return utc(2026, 3, 2, start_hour) + timedelta(hours=hours)


# (rule id, state, audience, facts beyond the common case, target hours, confirmed)
CASES = [
    # AS 45.48.040: an information collector required to notify "more than 1,000 state residents" also
    # notifies all nationwide consumer credit reporting agencies "without unreasonable delay".
    ("us-ak-45-48-040-cra", "US-AK", "regulator", {"affected": 1001}, 720, True),
    # AS 45.48.010(a)-(b): "after discovering or being notified of the breach", "in the most expeditious time
    # possible and without unreasonable delay".
    ("us-ak-45-48-010-residents", "US-AK", "individuals", {}, 720, True),
    # AS 45.48.070: an information recipient tells the information distributor "immediately" after
    # discovering the breach (unconfirmed: "immediately" from secondary summaries).
    ("us-ak-45-48-070-owner", "US-AK", "controller", {"acting_as": "processor"}, 24, False),
    # Ark. Code § 4-110-105(a): "in the most expedient time and manner possible and without unreasonable delay".
    ("us-ar-4-110-105-residents", "US-AR", "individuals", {}, 720, True),
    # § 4-110-105(b)(1): the holder tells the owner "immediately following discovery".
    ("us-ar-4-110-105-owner", "US-AR", "controller", {"acting_as": "processor"}, 24, True),
    # O.C.G.A. § 10-1-912(a): "in the most expedient time possible and without unreasonable delay".
    ("us-ga-10-1-912-residents", "US-GA", "individuals", {}, 720, True),
    # § 10-1-912(d): "more than 10,000 residents of this state at one time" -> the consumer reporting
    # agencies, "without unreasonable delay".
    ("us-ga-10-1-912-d-cra", "US-GA", "regulator", {"affected": 10001}, 720, True),
    # HRS § 487N-2(a): "without unreasonable delay"; Honolulu keeps HST (-10) all year.
    ("us-hi-487n-2-persons", "US-HI", "individuals", {}, 720, True),
    # § 487N-2(f): "more than one thousand persons" at one time -> the Office of Consumer Protection and
    # the credit bureaus, without unreasonable delay (unconfirmed: letter and term from summaries).
    ("us-hi-487n-2-f-ocp-cra", "US-HI", "regulator", {"affected": 1001}, 720, False),
    # § 487N-2(b): the owner "immediately following discovery of the breach".
    ("us-hi-487n-2-b-owner", "US-HI", "controller", {"acting_as": "processor"}, 24, True),
    # Iowa Code § 715C.2(1): "in the most expeditious manner possible and without unreasonable delay".
    ("us-ia-715c-2-consumers", "US-IA", "individuals", {}, 720, True),
    # § 715C.2(2): "shall notify the owner or licensor ... immediately following discovery".
    ("us-ia-715c-2-2-owner", "US-IA", "controller", {"acting_as": "processor"}, 24, True),
    # Idaho Code § 28-51-105(1): "in the most expedient time possible and without unreasonable delay"
    # (unconfirmed: whether SB 1066 of 2025 was enacted was not verified).
    ("us-id-28-51-105-residents", "US-ID", "individuals", {}, 720, False),
    # § 28-51-105(2): the owner "immediately following discovery" (unconfirmed: wording from summaries).
    ("us-id-28-51-105-2-owner", "US-ID", "controller", {"acting_as": "processor"}, 24, False),
    # 815 ILCS 530/10(a): "in the most expedient time possible and without unreasonable delay".
    ("us-il-530-10-a-residents", "US-IL", "individuals", {}, 720, True),
    # 530/10(e): "more than 500 Illinois residents as a result of a single breach" -> the AG, "in no event
    # later than when" the residents are notified: the residents' own target, 720 h.
    ("us-il-530-10-e-ag", "US-IL", "regulator", {"affected": 501}, 720, True),
    # 530/10(b): the owner "immediately following discovery".
    ("us-il-530-10-b-owner", "US-IL", "controller", {"acting_as": "processor"}, 24, True),
    # K.S.A. 50-7a02(a): "in the most expedient time possible and without unreasonable delay".
    ("us-ks-50-7a02-residents", "US-KS", "individuals", {}, 720, True),
    # 50-7a02(f): "more than 1,000 consumers at one time" -> the credit bureaus (unconfirmed letter).
    ("us-ks-50-7a02-f-cra", "US-KS", "regulator", {"affected": 1001}, 720, False),
    # 50-7a02(b): the owner "following discovery of a breach" (no further term; 24 h target).
    ("us-ks-50-7a02-b-owner", "US-KS", "controller", {"acting_as": "processor"}, 24, True),
    # KRS 365.732(2): "in the most expedient time possible and without unreasonable delay".
    ("us-ky-365-732-residents", "US-KY", "individuals", {}, 720, True),
    # 365.732(7): "more than 1,000 persons at one time" -> the credit bureaus (unconfirmed number).
    ("us-ky-365-732-7-cra", "US-KY", "regulator", {"affected": 1001}, 720, False),
    # 365.732(3): the owner "as soon as reasonably practicable following discovery" (unconfirmed term).
    ("us-ky-365-732-3-owner", "US-KY", "controller", {"acting_as": "processor"}, 24, False),
    # M.G.L. c. 93H, § 3(a): the owner "as soon as practicable and without unreasonable delay".
    ("us-ma-93h-3-a-owner", "US-MA", "controller", {"acting_as": "processor"}, 24, True),
    # MCL 445.72(1), (4): "without unreasonable delay"; Detroit is on Eastern time.
    ("us-mi-445-72-1-residents", "US-MI", "individuals", {}, 720, True),
    # 445.72(8): "more than 1,000 residents" -> the credit bureaus (unconfirmed: from a summary).
    ("us-mi-445-72-8-cra", "US-MI", "regulator", {"affected": 1001}, 720, False),
    # 445.72(2), (4): the owner, "without unreasonable delay" (24 h target).
    ("us-mi-445-72-2-owner", "US-MI", "controller", {"acting_as": "processor"}, 24, True),
    # Minn. Stat. § 325E.61, subd. 1(a): "in the most expedient time possible and without unreasonable delay".
    ("us-mn-325e-61-1-residents", "US-MN", "individuals", {}, 720, True),
    # subd. 1(b): the owner "immediately following discovery".
    ("us-mn-325e-61-1b-owner", "US-MN", "controller", {"acting_as": "processor"}, 24, True),
    # RSMo § 407.1500.2(1): "without unreasonable delay".
    ("us-mo-407-1500-consumers", "US-MO", "individuals", {}, 720, True),
    # 407.1500.2(8): "more than one thousand consumers at one time" -> the AG's office and the credit
    # bureaus, without unreasonable delay (unconfirmed subdivision).
    ("us-mo-407-1500-8-ag-cra", "US-MO", "regulator", {"affected": 1001}, 720, False),
    # 407.1500.2(2): the owner "immediately following discovery of the breach" (unconfirmed subdivision).
    ("us-mo-407-1500-owner", "US-MO", "controller", {"acting_as": "processor"}, 24, False),
    # Miss. Code § 75-24-29(3): "without unreasonable delay".
    ("us-ms-75-24-29-3-individuals", "US-MS", "individuals", {}, 720, True),
    # § 75-24-29(4): the owner "as soon as practicable following discovery".
    ("us-ms-75-24-29-4-owner", "US-MS", "controller", {"acting_as": "processor"}, 24, True),
    # D.C. Code § 28-3852(a): "in the most expedient time possible and without unreasonable delay".
    ("us-dc-28-3852-a-residents", "US-DC", "individuals", {}, 720, True),
    # § 28-3852(c): required "to notify more than 1,000 persons" -> all nationwide consumer reporting
    # agencies, "without unreasonable delay" ((d) is the law-enforcement delay, not this notice).
    ("us-dc-28-3852-c-cra", "US-DC", "regulator", {"affected": 1001}, 720, True),
    # § 28-3852(b): the owner "in the most expedient time possible following discovery".
    ("us-dc-28-3852-b-owner", "US-DC", "controller", {"acting_as": "processor"}, 24, True),
]


@pytest.mark.parametrize(
    ("rule_id", "code", "audience", "extra", "hours", "confirmed"), CASES, ids=[c[0] for c in CASES]
)
def test_open_term_is_due_at_its_target_in_elapsed_hours_from_discovery(
    rule_id, code, audience, extra, hours, confirmed
):
    o = obligation_of(assess(discovered(code, **extra), CATALOGUE, now=NOW), rule_id)
    assert o.audience == audience
    assert o.clock_event == "discovered"
    assert o.term is not None
    assert o.due == due_by(code, hours)
    assert o.confirmed is confirmed


def test_the_common_case_by_hand():
    # The arithmetic of due_by, spelled out once: Juneau 09:00 AKST = 18:00Z; + 24 h = 2026-03-03 18:00Z;
    # Boise 09:00 MST = 16:00Z, + 720 h = 2026-04-01 16:00Z (10:00 MDT); Honolulu 09:00 HST = 19:00Z,
    # + 720 h = 2026-04-01 19:00Z (still 09:00 HST).
    assert due_by("US-AK", 24) == utc(2026, 3, 3, 18)
    assert due_by("US-ID", 720) == utc(2026, 4, 1, 16)
    assert due_by("US-HI", 720) == utc(2026, 4, 1, 19)


# (rule id, state, count below the threshold, count at it): "more than N" is met by N + 1, not by N.
THRESHOLDS = [
    ("us-ak-45-48-040-cra", "US-AK", 1000, 1001),
    ("us-ga-10-1-912-d-cra", "US-GA", 10000, 10001),
    ("us-hi-487n-2-f-ocp-cra", "US-HI", 1000, 1001),
    ("us-il-530-10-e-ag", "US-IL", 500, 501),
    ("us-ks-50-7a02-f-cra", "US-KS", 1000, 1001),
    ("us-ky-365-732-7-cra", "US-KY", 1000, 1001),
    ("us-mi-445-72-8-cra", "US-MI", 1000, 1001),
    ("us-mo-407-1500-8-ag-cra", "US-MO", 1000, 1001),
    ("us-dc-28-3852-c-cra", "US-DC", 1000, 1001),
]


@pytest.mark.parametrize(("rule_id", "code", "below", "at"), THRESHOLDS, ids=[t[0] for t in THRESHOLDS])
def test_more_than_the_threshold_is_needed(rule_id, code, below, at):
    a = assess(discovered(code, affected=below), CATALOGUE, now=NOW)
    assert rule_id not in {o.rule_id for o in a.obligations}
    assert refusal_of(a, rule_id) is not None
    assert (
        obligation_of(assess(discovered(code, affected=at), CATALOGUE, now=NOW), rule_id).audience
        == "regulator"
    )


# Rules whose statute spares the notice when the holder determines that no harm (misuse, identity theft,
# substantial loss) is reasonably likely: a recorded risk "none" drops them, "low" keeps them.
NO_HARM_EXCEPTION = [
    # AS 45.48.010(c) as applied to the bureau notice, which follows the resident notice.
    ("us-ak-45-48-040-cra", "US-AK", {"affected": 1001}),
    ("us-ar-4-110-105-residents", "US-AR", {}),  # § 4-110-105(d): no reasonable likelihood of harm
    ("us-ia-715c-2-consumers", "US-IA", {}),  # § 715C.2(6): no reasonable likelihood of financial harm
    ("us-id-28-51-105-residents", "US-ID", {}),  # § 28-51-105(1): misuse not reasonably likely
    ("us-ks-50-7a02-residents", "US-KS", {}),  # 50-7a02(a): misuse not reasonably likely
    ("us-ks-50-7a02-f-cra", "US-KS", {"affected": 1001}),
    ("us-mi-445-72-1-residents", "US-MI", {}),  # 445.72(1): no substantial loss or injury likely
    ("us-mi-445-72-8-cra", "US-MI", {"affected": 1001}),
    ("us-mi-445-72-2-owner", "US-MI", {"acting_as": "processor"}),  # 445.72(2): the same exception
    ("us-mo-407-1500-consumers", "US-MO", {}),  # 407.1500.2(5): identity theft or fraud not reasonably likely
    ("us-mo-407-1500-8-ag-cra", "US-MO", {"affected": 1001}),
    ("us-ms-75-24-29-3-individuals", "US-MS", {}),  # § 75-24-29(3): will not likely result in harm
    # § 28-3851(1)(B)(iii): no breach where, after consulting the AG, harm is not likely.
    ("us-dc-28-3852-a-residents", "US-DC", {}),
    ("us-dc-28-3852-c-cra", "US-DC", {"affected": 1001}),
]


@pytest.mark.parametrize(
    ("rule_id", "code", "extra"), NO_HARM_EXCEPTION, ids=[n[0] for n in NO_HARM_EXCEPTION]
)
def test_a_determination_of_no_harm_drops_the_notice(rule_id, code, extra):
    a = assess(discovered(code, risk="none", **extra), CATALOGUE, now=NOW)
    assert rule_id not in {o.rule_id for o in a.obligations}
    assert "risk" in (refusal_of(a, rule_id) or "")
    assert obligation_of(assess(discovered(code, risk="low", **extra), CATALOGUE, now=NOW), rule_id)


# No stated exception: a recorded risk of none leaves the duty in place.
@pytest.mark.parametrize(
    ("rule_id", "code"),
    [
        ("us-ga-10-1-912-residents", "US-GA"),  # § 10-1-912(a): no risk-of-harm exception
        ("us-il-530-10-a-residents", "US-IL"),  # 530/10(a): none either
        ("us-mn-325e-61-1-residents", "US-MN"),  # § 325E.61, subd. 1(a): none either
    ],
)
def test_without_a_stated_exception_a_risk_of_none_keeps_the_notice(rule_id, code):
    assert obligation_of(assess(discovered(code, risk="none"), CATALOGUE, now=NOW), rule_id)


@pytest.mark.parametrize(
    ("rule_id", "code", "audience", "extra", "hours", "confirmed"), CASES, ids=[c[0] for c in CASES]
)
def test_owner_notices_bind_the_holder_and_the_rest_the_owner(
    rule_id, code, audience, extra, hours, confirmed
):
    # The owner notices bind whoever holds data it "does not own or license"; the others bind the owner.
    role = "controller" if audience == "controller" else "processor"
    facts = discovered(code, **{**extra, "acting_as": role})
    a = assess(facts, CATALOGUE, now=NOW)
    assert rule_id not in {o.rule_id for o in a.obligations}
    assert refusal_of(a, rule_id) is not None


def test_illinois_attorney_general_notice_starts_on_1_january_2020_in_chicago():
    # 815 ILCS 530/10(e) was added by SB 1624, in force 2020-01-01. Discovered 2019-12-31 23:30 CST
    # (05:30Z on the 1st): not yet; 2020-01-01 00:30 CST: in force.
    eve = base_facts(
        aware_at="2019-12-31T23:30:00-06:00",
        jurisdictions=[{"code": "US-IL", "affected": 501}],
        data_categories=["personal"],
    )
    assert refusal_of(assess(eve, CATALOGUE, now=NOW), "us-il-530-10-e-ag") is not None
    day = eve.model_copy(update={"aware_at": utc(2020, 1, 1, 6, 30)})
    assert obligation_of(assess(day, CATALOGUE, now=NOW), "us-il-530-10-e-ag").due == utc(2020, 1, 31, 6, 30)


# ---------------------------------------------------------------- California, § 1798.82(f) and SB 446


def california(aware: str, affected: int):
    return base_facts(
        aware_at=aware,
        jurisdictions=[{"code": "US-CA", "affected": affected}],
        data_categories=["personal"],
    )


def test_california_sample_to_the_attorney_general_is_15_days_after_the_30_day_resident_notice():
    # Civ. Code § 1798.82(a) as amended by SB 446 (from 2026-01-01): residents within 30 calendar days of
    # discovery; (f): more than 500 residents -> one sample copy to the AG within 15 calendar days of
    # notifying them. Discovered Monday 2026-03-02 09:00 PST: 30 days after 2 March is 1 April (29 days to
    # 31 March, then 1); end of that day in Los Angeles, PDT since 8 March: 2026-04-01 23:59:59 -07:00 =
    # 2026-04-02 06:59:59Z. Fifteen days after 1 April is 16 April: 2026-04-17 06:59:59Z.
    a = assess(california("2026-03-02T09:00:00-08:00", 501), CATALOGUE, now=NOW)
    anchor = obligation_of(a, "us-ca-civ-1798-82-f-ag", "residents_notice")
    sample = obligation_of(a, "us-ca-civ-1798-82-f-ag", "ag_sample")
    assert (anchor.audience, sample.audience) == ("regulator", "regulator")
    assert anchor.due == utc(2026, 4, 2, 6, 59, 59)
    assert sample.due == utc(2026, 4, 17, 6, 59, 59)
    # Exactly 500 residents notified: more than 500 is not met.
    assert refusal_of(
        assess(california("2026-03-02T09:00:00-08:00", 500), CATALOGUE, now=NOW), "us-ca-civ-1798-82-f-ag"
    )


def test_california_before_sb_446_the_sample_follows_the_resident_notice_with_no_fixed_time():
    # § 1798.82(f) until 2025-12-31: the sample is sent with no deadline in the statute; the target is 72 h.
    # Discovered 2025-12-31 23:30 PST (= 2026-01-01 07:30Z): the Los Angeles day is still 31 December, so
    # the earlier version applies and SB 446's does not; due 72 h later, 2026-01-04 07:30Z.
    a = assess(california("2025-12-31T23:30:00-08:00", 501), CATALOGUE, now=NOW)
    o = obligation_of(a, "us-ca-civ-1798-82-f-ag-pre-sb446")
    assert o.audience == "regulator"
    assert o.term is not None
    assert o.due == utc(2026, 1, 4, 7, 30)
    assert "us-ca-civ-1798-82-f-ag" not in {x.rule_id for x in a.obligations}
    assert refusal_of(
        assess(california("2025-12-31T23:30:00-08:00", 500), CATALOGUE, now=NOW),
        "us-ca-civ-1798-82-f-ag-pre-sb446",
    )

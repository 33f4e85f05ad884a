"""Worked examples against the shipped catalogue, each derived by hand from the text it cites.

Every expected instant below is counted by hand from the provision named in the test, with the zone
the law's days are counted in; the engine must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from breachops.config.rule_files import load_catalogue
from breachops.deadlines.engine import assess
from tests.deadlines.helpers import facts

CATALOGUE = load_catalogue()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def due(assessment, key: str) -> datetime | None:
    found = {o.key: o for o in assessment.obligations}
    assert key in found, f"{key} not among {sorted(found)}"
    return found[key].due


def why_not(assessment, rule_id: str) -> str:
    found = {n.rule_id: n.reason for n in assessment.not_applicable}
    assert rule_id in found, f"{rule_id} not among {sorted(found)}"
    return found[rule_id]


# GDPR Art. 33(1), EEA-wide since EEA Joint Committee Decision 154/2018 (in force 2018-07-20):
# aware 2026-03-02 09:00 Oslo time (CET, UTC+1) = 08:00 UTC; 72 elapsed hours later is 2026-03-05 08:00 UTC.
@pytest.mark.parametrize("country", ["NO", "IS", "LI"])
def test_gdpr_art33_reaches_norway_iceland_and_liechtenstein_through_the_eea(country):
    f = facts(
        aware_at="2026-03-02T09:00:00+01:00",
        jurisdictions=[{"code": country, "affected": 40}],
        data_categories=["personal"],
        risk="likely",
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert due(a, "eu-gdpr-art33-authority/notification") == datetime(2026, 3, 5, 8, tzinfo=UTC)
    assert country not in a.gaps
    # NIS2 is not (yet) EEA law: a Norwegian essential entity gets no NIS2 obligation from this catalogue.
    assert "eu-nis2-art23" not in {o.rule_id for o in a.obligations}


# GDPR Art. 33 and the UK: EU law applied in the UK until the transition ended on 2020-12-31
# (Withdrawal Agreement Art. 126-127); from 2021-01-01 only UK GDPR does.
def test_gdpr_reaches_great_britain_until_the_transition_period_ended():
    late_2020 = facts(aware_at="2020-12-31T12:00:00Z", jurisdictions=["GB"], data_categories=["personal"])
    assert "eu-gdpr-art33-authority" in {o.rule_id for o in assess(late_2020, CATALOGUE, now=NOW).obligations}
    in_2021 = facts(aware_at="2021-01-01T00:30:00Z", jurisdictions=["GB"], data_categories=["personal"])
    a = assess(in_2021, CATALOGUE, now=NOW)
    rules = {o.rule_id for o in a.obligations}
    assert "eu-gdpr-art33-authority" not in rules
    assert "GB not a member of the EEA on 2021-01-01" in why_not(a, "eu-gdpr-art33-authority")
    assert "gb-ukgdpr-art33-ico" in rules


# 45 CFR 164.406(a): media notice where a breach involves "more than 500 residents of a State or
# jurisdiction"; 45 CFR 164.408(b): HHS is told at once where it involves "500 or more individuals" in all.
# 300 in California + 300 in New York: no State has more than 500 (no media notice), 600 >= 500 (HHS).
def test_hipaa_media_notice_counts_residents_of_one_state_and_hhs_counts_the_total():
    health = {"data_categories": ["health"], "sectors": ["health"], "risk": "high"}
    spread = assess(
        facts(
            jurisdictions=[{"code": "US-CA", "affected": 300}, {"code": "US-NY", "affected": 300}], **health
        ),
        CATALOGUE,
        now=NOW,
    )
    assert "us-hipaa-164-408-hhs" in {o.rule_id for o in spread.obligations}
    assert "us-hipaa-164-406-media" not in {o.rule_id for o in spread.obligations}
    assert "more than 500 affected in one jurisdiction" in why_not(spread, "us-hipaa-164-406-media")

    one_state = assess(
        facts(jurisdictions=[{"code": "US-CA", "affected": 600}], **health), CATALOGUE, now=NOW
    )
    media = [o for o in one_state.obligations if o.rule_id == "us-hipaa-164-406-media"]
    assert media and "600 affected in US-CA" in media[0].reason


# NIS2 Art. 23(4)(d): final report "not later than one month after the submission of the incident
# notification" (72 h after awareness, Art. 23(4)(b)). Aware 2026-11-02 10:00 UTC: notification due
# 2026-11-05 10:00 UTC = 11:00 in Rome (CET); one month on is 2026-12-05, ending at 23:59:59 Rome time,
# which is 22:59:59 UTC - not 23:59:59Z, an hour too late in Rome.
def test_nis2_final_report_of_an_italian_entity_ends_at_midnight_in_rome():
    f = facts(
        aware_at="2026-11-02T10:00:00Z",
        jurisdictions=[{"code": "IT", "affected": 5}],
        sectors=["essential_entity"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    final = due(a, "eu-nis2-art23/final_report")
    assert final == datetime(2026, 12, 5, 22, 59, 59, tzinfo=UTC)
    assert "Europe/Rome" in {o for ob in a.obligations if ob.rule_id == "eu-nis2-art23" for o in ob.zones}


# DORA Art. 19(4) with Delegated Regulation (EU) 2025/301 Art. 5(1): the initial notification is due
# within 4 hours of classification and no later than 24 hours after becoming aware. Aware 2026-05-04
# 08:00 UTC, not yet classified: the 24 h bound, 2026-05-05 08:00 UTC, is already the latest due time.
def test_dora_initial_notification_shows_its_24_hour_cap_before_classification():
    f = facts(aware_at="2026-05-04T08:00:00Z", jurisdictions=["IT"], sectors=["financial"])
    initial = next(o for o in assess(f, CATALOGUE, now=NOW).obligations if o.key == "eu-dora-art19/initial")
    assert initial.due == datetime(2026, 5, 5, 8, tzinfo=UTC)
    assert initial.basis == "deadline"
    assert "outer bound" in initial.reason


# PECR reg. 5A with Reg. 611/2013 Art. 2(2): until 2025-08-19, 24 hours after detection; from
# 2025-08-20 (Data (Use and Access) Act 2025), 72 hours after becoming aware, with reasons for a delay.
def test_pecr_is_24_hours_from_detection_before_20_august_2025():
    f = facts(
        aware_at="2025-08-19T10:00:00+01:00",
        jurisdictions=["GB"],
        data_categories=["personal"],
        sectors=["telecom"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert due(a, "gb-pecr-reg5a-ico-2013/notification") == datetime(2025, 8, 20, 9, tzinfo=UTC)
    assert "in force from 2025-08-20" in why_not(a, "gb-pecr-reg5a-ico")


def test_pecr_is_72_hours_from_awareness_from_20_august_2025_by_the_london_date():
    # 2025-08-19 23:30 UTC is already 00:30 on 20 August in London (BST): the amended rule applies.
    f = facts(
        aware_at="2025-08-19T23:30:00Z",
        jurisdictions=["GB"],
        data_categories=["personal"],
        sectors=["telecom"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert due(a, "gb-pecr-reg5a-ico/notification") == datetime(2025, 8, 22, 23, 30, tzinfo=UTC)
    assert "gb-pecr-reg5a-ico-2013" in {n.rule_id for n in a.not_applicable}


# Cal. Civ. Code 1798.82(a): before SB 446 (in force 2026-01-01) "in the most expedient time possible
# and without unreasonable delay" (no day limit); after it, 30 calendar days after discovery. Discovered
# 2026-01-05 10:00 Los Angeles time: 30 days later is 2026-02-04, ending 23:59:59 PST = 2026-02-05 07:59:59Z.
def test_california_residents_notice_before_and_after_sb_446():
    before = assess(
        facts(aware_at="2025-12-15T10:00:00-08:00", jurisdictions=["US-CA"], data_categories=["personal"]),
        CATALOGUE,
        now=NOW,
    )
    old = next(o for o in before.obligations if o.rule_id == "us-ca-civ-1798-82-residents-pre-sb446")
    assert old.basis == "target" and "most expedient" in (old.term or "")
    assert "in force from 2026-01-01" in why_not(before, "us-ca-civ-1798-82-residents")

    after = assess(
        facts(aware_at="2026-01-05T10:00:00-08:00", jurisdictions=["US-CA"], data_categories=["personal"]),
        CATALOGUE,
        now=NOW,
    )
    assert due(after, "us-ca-civ-1798-82-residents/notification") == datetime(
        2026, 2, 5, 7, 59, 59, tzinfo=UTC
    )
    assert "us-ca-civ-1798-82-residents-pre-sb446" in {n.rule_id for n in after.not_applicable}


# N.Y. Gen. Bus. Law 899-aa(2): before S2659B (effective 2024-12-21) no fixed limit; after it, within
# 30 days after discovery. Discovered 2024-12-21 12:00 New York time: 2025-01-20, ending 23:59:59 EST
# = 2025-01-21 04:59:59Z.
def test_new_york_residents_notice_before_and_after_the_december_2024_amendment():
    before = assess(
        facts(aware_at="2024-12-10T12:00:00-05:00", jurisdictions=["US-NY"], data_categories=["personal"]),
        CATALOGUE,
        now=NOW,
    )
    old = next(o for o in before.obligations if o.rule_id == "us-ny-gbl-899-aa-residents-pre-2024")
    assert old.basis == "target"
    after = assess(
        facts(aware_at="2024-12-21T12:00:00-05:00", jurisdictions=["US-NY"], data_categories=["personal"]),
        CATALOGUE,
        now=NOW,
    )
    assert due(after, "us-ny-gbl-899-aa-residents/notification") == datetime(
        2025, 1, 21, 4, 59, 59, tzinfo=UTC
    )


# DPDP Rules 2025, rule 7, in force 2027-05-13 (asia_pacific.yaml in_force_from). Judged by the Indian
# date: 2027-05-12 19:00 UTC is 2027-05-13 00:30 IST (in force); 18:00 UTC is 23:30 IST on the 12th
# (not yet). The detailed report (rule 7(2)(b)) is due 72 hours after awareness.
def test_india_dpdp_rule_7_is_in_force_by_the_indian_date():
    in_force = assess(
        facts(aware_at="2027-05-12T19:00:00Z", jurisdictions=["IN"], data_categories=["personal"]),
        CATALOGUE,
        now=NOW,
    )
    assert due(in_force, "in-dpdp-rule7-board/detailed_report") == datetime(2027, 5, 15, 19, tzinfo=UTC)
    not_yet = assess(
        facts(aware_at="2027-05-12T18:00:00Z", jurisdictions=["IN"], data_categories=["personal"]),
        CATALOGUE,
        now=NOW,
    )
    assert "not in force on 2027-05-12" in why_not(not_yet, "in-dpdp-rule7-board")


def test_a_us_jurisdiction_without_rules_is_a_gap_even_though_federal_rules_reach_it():
    """HIPAA (45 CFR 164.404) reaches American Samoa's residents, but says nothing of the territory's
    own law, for which the catalogue holds no rule."""
    f = facts(
        jurisdictions=[{"code": "US-AS", "affected": 40}],
        data_categories=["health"],
        sectors=["health"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert "us-hipaa-164-404-individuals" in {o.rule_id for o in a.obligations}
    assert "US-AS" in a.gaps

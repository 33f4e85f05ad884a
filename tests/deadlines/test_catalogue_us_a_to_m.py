"""The US state rules for Alaska to Missouri and DC, and the state insurance data security laws: each
worked example is derived by hand from the statute's text (cited beside it), then checked against the
shipped catalogue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from breachops.config.rule_files import load_catalogue, load_rule_file
from breachops.deadlines.engine import assess
from breachops.deadlines.models import parse_facts

CATALOGUE = load_catalogue()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
RULES = Path(__file__).resolve().parents[2] / "breachops" / "config" / "rules"

A_TO_M = ["US-AK", "US-AR", "US-GA", "US-HI", "US-IA", "US-ID", "US-IL", "US-KS", "US-KY", "US-MA", "US-MI"]
A_TO_M += ["US-MN", "US-MO", "US-MS", "US-DC"]


def facts(**kw):
    return parse_facts(kw)


def obligation(assessment, rule_id, stage=None):
    found = [
        o for o in assessment.obligations if o.rule_id == rule_id and (stage is None or o.stage == stage)
    ]
    assert found, f"{rule_id} did not apply: {[n for n in assessment.not_applicable if n.rule_id == rule_id]}"
    return found[0]


def not_applicable(assessment, rule_id):
    return rule_id in {n.rule_id for n in assessment.not_applicable}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------- coverage


def test_the_file_covers_exactly_the_fifteen_jurisdictions():
    rules = load_rule_file(RULES / "us_states_a_to_m.yaml")
    assert {r.jurisdiction for r in rules} == set(A_TO_M)


@pytest.mark.parametrize("code", A_TO_M)
def test_a_thousand_residents_with_personal_data_yield_at_least_one_obligation(code):
    f = facts(
        aware_at="2026-06-01T12:00:00Z",
        jurisdictions=[{"code": code, "affected": 1000}],
        data_categories=["personal"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert [o for o in a.obligations if o.jurisdiction == code and o.audience == "individuals"], code


def test_every_resident_rule_reaches_its_state_while_risk_is_unassessed():
    # A risk-of-harm exception must not drop a duty before anyone has assessed the risk.
    f = facts(
        aware_at="2026-06-01T12:00:00Z",
        jurisdictions=[{"code": c, "affected": None} for c in A_TO_M],
        data_categories=["personal"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    reached = {o.jurisdiction for o in a.obligations if o.audience == "individuals"}
    assert reached >= set(A_TO_M)


# ---------------------------------------------------------------- fixed windows, by hand


def test_georgia_service_provider_tells_the_data_owner_24_elapsed_hours_after_discovery_across_dst():
    # O.C.G.A. § 10-1-912(b): "within 24 hours following discovery". Discovered 2026-03-07 22:30 EST
    # (03:30Z on the 8th); US clocks spring forward on 8 March, so 24 hours later is 2026-03-08 23:30
    # EDT = 2026-03-09 03:30Z, 25 hours by the wall clock.
    f = facts(
        aware_at="2026-03-07T22:30:00-05:00",
        jurisdictions=[{"code": "US-GA", "affected": 40}],
        data_categories=["personal"],
        acting_as="processor",
    )
    o = obligation(assess(f, CATALOGUE, now=NOW), "us-ga-10-1-912-owner")
    assert o.audience == "controller"
    assert o.due == utc(2026, 3, 9, 3, 30)


def test_georgia_owner_notice_is_a_processor_duty_only():
    f = facts(
        aware_at="2026-03-07T22:30:00-05:00",
        jurisdictions=[{"code": "US-GA", "affected": 40}],
        data_categories=["personal"],
    )
    assert not_applicable(assess(f, CATALOGUE, now=NOW), "us-ga-10-1-912-owner")


def test_idaho_agency_tells_the_attorney_general_within_24_hours_of_discovery():
    # Idaho Code § 28-51-105(1): a public agency notifies the AG within 24 hours of discovery.
    # Discovered 2026-07-02 16:00 MDT (22:00Z) -> 2026-07-03 16:00 MDT = 22:00Z.
    f = facts(
        aware_at="2026-07-02T16:00:00-06:00",
        jurisdictions=[{"code": "US-ID", "affected": 3}],
        data_categories=["personal"],
        sectors=["government"],
    )
    assert obligation(assess(f, CATALOGUE, now=NOW), "us-id-28-51-105-agency-ag").due == utc(2026, 7, 3, 22)


def test_arkansas_attorney_general_is_due_45_days_after_the_harm_determination():
    # Ark. Code § 4-110-105(b)(2): more than 1,000 individuals -> the AG within 45 days after determining
    # a reasonable likelihood of harm. Determined 2026-02-20 10:00 CST; 20 Feb + 45 days = 6 April (8 days
    # to 28 Feb, 31 in March, 6 in April); end of that day in Little Rock, now CDT: 2026-04-06 23:59:59
    # -05:00 = 2026-04-07 04:59:59Z.
    f = facts(
        aware_at="2026-02-18T09:00:00-06:00",
        assessed_at="2026-02-20T10:00:00-06:00",
        jurisdictions=[{"code": "US-AR", "affected": 1200}],
        data_categories=["personal"],
    )
    o = obligation(assess(f, CATALOGUE, now=NOW), "us-ar-4-110-105-ag")
    assert (o.basis, o.due) == ("deadline", utc(2026, 4, 7, 4, 59, 59))


@pytest.mark.parametrize(("affected", "applies"), [(1000, False), (1001, True)])
def test_arkansas_attorney_general_needs_more_than_1000(affected, applies):
    # "more than one thousand (1,000) individuals": 1,000 is not enough.
    f = facts(
        aware_at="2026-02-18T09:00:00-06:00",
        jurisdictions=[{"code": "US-AR", "affected": affected}],
        data_categories=["personal"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert (not not_applicable(a, "us-ar-4-110-105-ag")) is applies


def test_minnesota_credit_bureaus_are_due_48_elapsed_hours_after_discovery_across_the_fall_change():
    # Minn. Stat. § 325E.61 subd. 2: more than 500 persons -> the consumer reporting agencies "within 48
    # hours". Discovered 2026-10-31 20:00 CDT (2026-11-01 01:00Z); clocks fall back on 1 November, so 48
    # hours later is 2026-11-03 01:00Z = 2026-11-02 19:00 CST.
    f = facts(
        aware_at="2026-10-31T20:00:00-05:00",
        jurisdictions=[{"code": "US-MN", "affected": 600}],
        data_categories=["personal"],
    )
    assert obligation(assess(f, CATALOGUE, now=NOW), "us-mn-325e-61-2-cra").due == utc(2026, 11, 3, 1)


def test_minnesota_credit_bureaus_need_more_than_500():
    f = facts(
        aware_at="2026-10-31T20:00:00-05:00",
        jurisdictions=[{"code": "US-MN", "affected": 500}],
        data_categories=["personal"],
    )
    assert not_applicable(assess(f, CATALOGUE, now=NOW), "us-mn-325e-61-2-cra")


def test_iowa_attorney_general_follows_the_consumer_notice_by_five_business_days():
    # Iowa Code § 715C.2(8): more than 500 residents -> the Director within 5 business days after notice
    # to any consumer. Discovered 2026-11-02 09:00 CST; the consumer notice's target is 720 hours later,
    # 2026-12-02 09:00 CST (a Wednesday). Five Iowa business days after it: Thu 3, Fri 4, Mon 7, Tue 8,
    # Wed 9 December -> 2026-12-09 23:59:59 CST = 2026-12-10 05:59:59Z.
    f = facts(
        aware_at="2026-11-02T09:00:00-06:00",
        jurisdictions=[{"code": "US-IA", "affected": 501}],
        data_categories=["personal"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert obligation(a, "us-ia-715c-2-8-ag", "consumers_notice").due == utc(2026, 12, 2, 15)
    assert obligation(a, "us-ia-715c-2-8-ag", "ag_notice").due == utc(2026, 12, 10, 5, 59, 59)


def test_district_attorney_general_is_told_from_50_residents_by_the_resident_notice_target():
    # D.C. Code § 28-3852(b-1) (D.C. Law 23-98): written notice to the OAG "if the breach affects 50 or more
    # District residents", "in the most expedient manner possible, without unreasonable delay, and in no
    # event later than when notice is provided under subsection (a)" (an open term: target 720 hours).
    # Discovered 2026-05-04 10:00 EDT (14:00Z) -> 2026-06-03 14:00Z.
    at_50 = facts(
        aware_at="2026-05-04T10:00:00-04:00",
        jurisdictions=[{"code": "US-DC", "affected": 50}],
        data_categories=["personal"],
    )
    o = obligation(assess(at_50, CATALOGUE, now=NOW), "us-dc-28-3852-b1-ag")
    assert (o.basis, o.due, o.confirmed) == ("target", utc(2026, 6, 3, 14), True)
    at_49 = facts(
        aware_at="2026-05-04T10:00:00-04:00",
        jurisdictions=[{"code": "US-DC", "affected": 49}],
        data_categories=["personal"],
    )
    assert not_applicable(assess(at_49, CATALOGUE, now=NOW), "us-dc-28-3852-b1-ag")


def test_alaska_no_harm_determination_drops_the_resident_notice_but_not_the_attorney_general():
    # AS 45.48.010(c): no disclosure where there is no reasonable likelihood of harm, but only after
    # written notification to the Attorney General.
    f = facts(
        aware_at="2026-04-10T09:00:00-08:00",
        jurisdictions=[{"code": "US-AK", "affected": 20}],
        data_categories=["personal"],
        risk="none",
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert not_applicable(a, "us-ak-45-48-010-residents")
    assert obligation(a, "us-ak-45-48-010c-ag-no-harm").audience == "regulator"


def test_massachusetts_tells_residents_and_both_agencies_whatever_the_count():
    # M.G.L. c. 93H § 3(b): the AG and the Director of OCABR are told whenever residents are.
    f = facts(
        aware_at="2026-09-01T12:00:00-04:00",
        jurisdictions=[{"code": "US-MA", "affected": 1}],
        data_categories=["credentials"],
        risk="none",
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert obligation(a, "us-ma-93h-3-b-residents").due == utc(2026, 10, 1, 16)  # 720 h target
    assert obligation(a, "us-ma-93h-3-b-ag-ocabr")


# ---------------------------------------------------------------- insurance data security laws


def test_michigan_insurance_director_is_due_ten_business_days_after_the_determination():
    # MCL 500.559 (DIFS): "not later than 10 business days" after the determination. Determined Friday
    # 2026-06-26 15:00 EDT; business days: 29, 30 June, 1, 2 July, (3 July: Independence Day observed),
    # 6, 7, 8, 9, 10, 13 July -> 2026-07-13 23:59:59 EDT = 2026-07-14 03:59:59Z.
    f = facts(
        aware_at="2026-06-25T09:00:00-04:00",
        assessed_at="2026-06-26T15:00:00-04:00",
        jurisdictions=[{"code": "US-MI", "affected": 300}],
        sectors=["insurance"],
    )
    assert obligation(assess(f, CATALOGUE, now=NOW), "us-mi-500-559-director").due == utc(
        2026, 7, 14, 3, 59, 59
    )


def test_south_carolina_insurance_director_is_72_elapsed_hours_across_dst():
    # S.C. Code § 38-99-40: within 72 hours of determining that a cybersecurity event occurred.
    # Determined 2026-03-06 12:00 EST (17:00Z) -> 2026-03-09 17:00Z (13:00 EDT after the 8 March change).
    f = facts(
        aware_at="2026-03-06T08:00:00-05:00",
        assessed_at="2026-03-06T12:00:00-05:00",
        jurisdictions=[{"code": "US-SC", "affected": 10}],
        sectors=["insurance"],
    )
    assert obligation(assess(f, CATALOGUE, now=NOW), "us-sc-38-99-40-director").due == utc(2026, 3, 9, 17)


def test_pennsylvania_insurance_commissioner_is_due_five_business_days_after_labor_day_week():
    # Act 2 of 2023 (PA Insurance Department): no later than five business days after the determination.
    # Determined Thursday 2026-09-03 11:00 EDT; business days: Fri 4, (Mon 7 Labor Day), Tue 8, Wed 9,
    # Thu 10, Fri 11 September -> 2026-09-11 23:59:59 EDT = 2026-09-12 03:59:59Z.
    f = facts(
        aware_at="2026-09-02T11:00:00-04:00",
        assessed_at="2026-09-03T11:00:00-04:00",
        jurisdictions=[{"code": "US-PA", "affected": 5}],
        sectors=["insurance"],
    )
    assert obligation(assess(f, CATALOGUE, now=NOW), "us-pa-40-4501-commissioner").due == utc(
        2026, 9, 12, 3, 59, 59
    )


def test_alaska_insurance_director_skips_sewards_day():
    # AS 21.23.280(a): not later than three business days after the determination. Determined Thursday
    # 2026-03-26 14:00 AKDT; business days: Fri 27, (Mon 30 Seward's Day, an Alaska holiday), Tue 31
    # March, Wed 1 April -> 2026-04-01 23:59:59 AKDT (-08:00) = 2026-04-02 07:59:59Z.
    f = facts(
        aware_at="2026-03-26T10:00:00-08:00",
        assessed_at="2026-03-26T14:00:00-08:00",
        jurisdictions=[{"code": "US-AK", "affected": 2}],
        sectors=["insurance"],
    )
    o = obligation(assess(f, CATALOGUE, now=NOW), "us-ak-21-23-280-director")
    assert o.due == utc(2026, 4, 2, 7, 59, 59)


def test_alaska_insurance_notice_is_not_in_force_before_2025():
    f = facts(
        aware_at="2024-12-09T10:00:00-09:00",
        assessed_at="2024-12-10T10:00:00-09:00",
        jurisdictions=[{"code": "US-AK", "affected": 2}],
        sectors=["insurance"],
    )
    assert not_applicable(assess(f, CATALOGUE, now=NOW), "us-ak-21-23-280-director")


def test_iowa_insurance_commissioner_counts_from_confirmation_and_waits_for_it():
    # Iowa Code § 507F.7(1): three business days from the licensee's confirmation of the event.
    # Confirmed Monday 2026-12-07 10:00 CST -> Tue 8, Wed 9, Thu 10 -> 2026-12-10 23:59:59 CST
    # = 2026-12-11 05:59:59Z. Before confirmation the clock has not started.
    confirmed = facts(
        aware_at="2026-12-04T10:00:00-06:00",
        assessed_at="2026-12-07T10:00:00-06:00",
        jurisdictions=[{"code": "US-IA", "affected": 260}],
        sectors=["insurance"],
    )
    o = obligation(assess(confirmed, CATALOGUE, now=NOW), "us-ia-507f-7-commissioner")
    assert o.due == utc(2026, 12, 11, 5, 59, 59)
    pending = facts(
        aware_at="2026-12-04T10:00:00-06:00",
        jurisdictions=[{"code": "US-IA", "affected": 260}],
        sectors=["insurance"],
    )
    o = obligation(assess(pending, CATALOGUE, now=NOW), "us-ia-507f-7-commissioner")
    assert (o.due, o.basis) == (None, "awaiting_clock")


INSURANCE = {r.jurisdiction: r.id for r in load_rule_file(RULES / "us_insurance.yaml")}


@pytest.mark.parametrize(("code", "rule_id"), sorted(INSURANCE.items()))
def test_each_insurance_rule_applies_to_an_insurance_incident_in_its_state_and_only_then(code, rule_id):
    base = {
        "aware_at": "2026-05-11T12:00:00Z",
        "assessed_at": "2026-05-12T12:00:00Z",
        "jurisdictions": [{"code": code, "affected": 1}],
        "data_categories": ["confidential"],
    }
    insured = assess(facts(**base, sectors=["insurance"]), CATALOGUE, now=NOW)
    assert obligation(insured, rule_id).audience == "regulator"
    assert not_applicable(assess(facts(**base, sectors=["financial"]), CATALOGUE, now=NOW), rule_id)

"""US states Montana to Wyoming, Puerto Rico, Guam and the US Virgin Islands: worked examples.

Each expected instant is worked out by hand beside the text it comes from. Most of these statutes set an
open term ("without unreasonable delay"); its due instant is the clock's event plus the file's practical
target (720 h for residents and agencies, 24 h for a service provider's notice to the data owner), so
those examples check the clock the statute names (discovery or the investigation's determination), the
thresholds and the dates of amendments. Fixed windows (Puerto Rico's 10 days, Oklahoma's 60 days) are
counted on the local calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from breachops.config.jurisdictions import normalise_code
from breachops.config.rule_files import load_catalogue, load_rule_file
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Assessment, Obligation, parse_facts

CATALOGUE = load_catalogue()
NOW = datetime(2026, 12, 1, tzinfo=UTC)
FILE = Path(__file__).resolve().parents[2] / "breachops" / "config" / "rules" / "us_states_n_to_w.yaml"
JURISDICTIONS = [
    "US-MT",
    "US-NC",
    "US-ND",
    "US-NE",
    "US-NH",
    "US-NJ",
    "US-NV",
    "US-OK",
    "US-PA",
    "US-SC",
    "US-UT",
    "US-VA",
    "US-WV",
    "US-WY",
    "US-PR",
    "US-GU",
    "US-VI",
]


def facts(**kw):
    return parse_facts(kw)


def run(**kw) -> Assessment:
    return assess(facts(**kw), CATALOGUE, now=NOW)


def obligation(a: Assessment, rule_id: str, stage: str | None = None) -> Obligation:
    found = [o for o in a.obligations if o.rule_id == rule_id and (stage is None or o.stage == stage)]
    assert found, f"{rule_id} did not apply: {[n for n in a.not_applicable if n.rule_id == rule_id]}"
    return found[0]


def why_not(a: Assessment, rule_id: str) -> str:
    found = [n.reason for n in a.not_applicable if n.rule_id == rule_id]
    assert found, f"{rule_id} applied: {[o for o in a.obligations if o.rule_id == rule_id]}"
    return found[0]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# ---------------------------------------------------------------- coverage


@pytest.mark.parametrize("code", JURISDICTIONS)
def test_a_thousand_residents_with_personal_data_give_each_jurisdiction_an_obligation(code):
    a = run(
        aware_at="2026-06-01T12:00:00Z",
        jurisdictions=[{"code": code, "affected": 1000}],
        data_categories=["personal"],
    )
    own = [o for o in a.obligations if o.jurisdiction == code]
    assert own, f"no {code} obligation: {[n for n in a.not_applicable if n.jurisdiction == code]}"
    assert any(o.audience == "individuals" for o in own)


@pytest.mark.parametrize(("spelling", "code"), [("PR", "US-PR"), ("GU", "US-GU"), ("VI", "US-VI")])
def test_a_territory_written_as_a_country_code_meets_its_own_and_the_federal_rules(spelling, code):
    assert normalise_code(spelling) == normalise_code(code) == code
    a = run(
        aware_at="2026-06-01T12:00:00Z",
        jurisdictions=[{"code": spelling, "affected": 1000}],
        data_categories=["personal", "health"],
        sectors=["health"],
    )
    jurisdictions = {o.jurisdiction for o in a.obligations}
    assert code in jurisdictions
    assert "US" in jurisdictions  # HIPAA reaches the territories


def test_every_rule_of_the_file_is_reviewed_sourced_and_says_why_when_unconfirmed():
    rules = load_rule_file(FILE)
    assert {r.jurisdiction for r in rules} == set(JURISDICTIONS)
    for rule in rules:
        assert rule.reviewed >= date(2026, 12, 1), rule.id  # read for this file, or since
        assert rule.source.startswith("https://"), rule.id
        assert rule.confirmed or "Unconfirmed" in rule.notes, rule.id
        assert CATALOGUE.get(rule.id) is not None, rule.id
    # Every place has a resident notice and a service provider's notice to the data owner.
    for code in JURISDICTIONS:
        audiences = {r.audience for r in rules if r.jurisdiction == code}
        assert {"individuals", "controller"} <= audiences, code


# ---------------------------------------------------------------- fixed windows


def test_puerto_rico_daco_is_due_ten_calendar_days_after_detection_in_atlantic_time():
    # 10 L.P.R.A. § 4052: "Within a non-extendable term of ten (10) days after the violation of the
    # system's security has been detected, the parties responsible shall inform the Department".
    # Detected 5 March 2026 at 23:30 AST (already 6 March in UTC): day 10 is 15 March, ending 23:59:59 AST
    # (UTC-4, no daylight saving) = 16 March 03:59:59 UTC.
    for spelling in ("US-PR", "PR"):
        a = run(
            aware_at="2026-03-05T23:30:00-04:00",
            jurisdictions=[{"code": spelling, "affected": 40}],
            data_categories=["personal"],
        )
        assert obligation(a, "us-pr-ley-111-2005-daco").due == at("2026-03-16T03:59:59+00:00")


def test_oklahomas_attorney_general_notice_is_sixty_days_after_the_resident_notice():
    # 24 O.S. § 163 as amended by SB 626 (from 1 January 2026): the Attorney General is told "no more than
    # 60 days after" notifying residents, for 500 or more residents. Discovered 2 February 2026 09:00 CST;
    # the resident notice's target is 720 h later, 4 March 15:00 UTC (09:00 CST); 60 calendar days after
    # 4 March is 3 May (27 days to 31 March, 30 in April, 3 in May), ending 23:59:59 CDT = 4 May 04:59:59 UTC.
    a = run(
        aware_at="2026-02-02T09:00:00-06:00",
        jurisdictions=[{"code": "US-OK", "affected": 500}],
        data_categories=["personal"],
    )
    assert obligation(a, "us-ok-24-163-ag", "residents_notice").due == at("2026-03-04T15:00:00+00:00")
    assert obligation(a, "us-ok-24-163-ag", "ag_notice").due == at("2026-05-04T04:59:59+00:00")


def test_oklahomas_attorney_general_notice_needs_500_residents_and_a_breach_from_2026():
    # SB 626: breaches affecting fewer than 500 Oklahoma residents are exempt; the amendment applies to
    # breaches discovered on or after 1 January 2026.
    few = run(
        aware_at="2026-02-02T09:00:00-06:00",
        jurisdictions=[{"code": "US-OK", "affected": 499}],
        data_categories=["personal"],
    )
    assert "at least 500" in why_not(few, "us-ok-24-163-ag")
    before = run(
        aware_at="2025-12-20T09:00:00-06:00",
        jurisdictions=[{"code": "US-OK", "affected": 5000}],
        data_categories=["personal"],
    )
    assert "in force from 2026-01-01" in why_not(before, "us-ok-24-163-ag")
    obligation(before, "us-ok-24-163-residents")  # the resident duty predates the amendment


# ---------------------------------------------------------------- open terms: clock and thresholds


def test_pennsylvanias_attorney_general_notice_needs_more_than_500_and_a_clock_from_26_september_2024():
    # 73 P.S. § 2303(c.1) (Act 33 of 2024, effective 26 September 2024): "more than 500 affected
    # individuals in this Commonwealth", concurrently with the resident notice. Discovered 1 June 2026
    # 10:00 EDT = 14:00 UTC; the shared target is 720 h later, 1 July 14:00 UTC.
    a = run(
        aware_at="2026-06-01T10:00:00-04:00",
        jurisdictions=[{"code": "US-PA", "affected": 501}],
        data_categories=["personal"],
    )
    ag = obligation(a, "us-pa-73-2303-c1-ag")
    assert ag.due == at("2026-07-01T14:00:00+00:00")
    assert ag.basis == "target" and ag.term == "concurrently with the resident notice"
    assert ag.due == obligation(a, "us-pa-73-2303-residents").due
    exactly_500 = run(
        aware_at="2026-06-01T10:00:00-04:00",
        jurisdictions=[{"code": "US-PA", "affected": 500}],
        data_categories=["personal"],
    )
    assert "more than 500" in why_not(exactly_500, "us-pa-73-2303-c1-ag")
    before = run(
        aware_at="2024-09-25T10:00:00-04:00",
        jurisdictions=[{"code": "US-PA", "affected": 5000}],
        data_categories=["personal"],
    )
    assert "in force from 2024-09-26" in why_not(before, "us-pa-73-2303-c1-ag")


def test_utahs_resident_notice_runs_from_the_investigations_determination():
    # Utah Code § 13-44-202(1)-(2): notice follows an investigation that reveals misuse "has occurred, or
    # is reasonably likely to occur". Until the determination is recorded the clock waits; determined
    # 10 June 2026 16:00 MDT = 22:00 UTC, the target is 720 h later, 10 July 22:00 UTC.
    waiting = run(
        aware_at="2026-06-01T08:00:00-06:00",
        jurisdictions=[{"code": "US-UT", "affected": 20}],
        data_categories=["personal"],
    )
    pending = obligation(waiting, "us-ut-13-44-202-residents")
    assert pending.due is None and pending.basis == "awaiting_clock"
    assert "assumes risk at least low" in pending.reason
    determined = run(
        aware_at="2026-06-01T08:00:00-06:00",
        assessed_at="2026-06-10T16:00:00-06:00",
        jurisdictions=[{"code": "US-UT", "affected": 20}],
        data_categories=["personal"],
        risk="low",
    )
    assert obligation(determined, "us-ut-13-44-202-residents").due == at("2026-07-10T22:00:00+00:00")
    # § 13-44-202 as amended by SB 127 (2023): the Attorney General and the Cyber Center from 500 residents.
    assert "at least 500" in why_not(determined, "us-ut-13-44-202-ag")


def test_utahs_attorney_general_and_cyber_center_notice_starts_at_500_residents():
    a = run(
        aware_at="2026-06-01T08:00:00-06:00",
        assessed_at="2026-06-10T16:00:00-06:00",
        jurisdictions=[{"code": "US-UT", "affected": 500}],
        data_categories=["personal"],
    )
    assert obligation(a, "us-ut-13-44-202-ag").due == at("2026-07-10T22:00:00+00:00")


def test_utahs_consumer_reporting_agency_notice_starts_at_1000_residents():
    # Utah Code § 13-44-202 as amended by SB 127 (2023), per Perkins Coie's chart (the rule is unconfirmed):
    # 1,000 or more residents notified → each nationwide consumer reporting agency, in the residents'
    # open term. Determined 10 June 2026 16:00 MDT = 22:00 UTC; target 720 h later, 10 July 22:00 UTC.
    facts = {
        "aware_at": "2026-06-01T08:00:00-06:00",
        "assessed_at": "2026-06-10T16:00:00-06:00",
        "data_categories": ["personal"],
    }
    at_threshold = run(**facts, jurisdictions=[{"code": "US-UT", "affected": 1000}])
    below = run(**facts, jurisdictions=[{"code": "US-UT", "affected": 999}])
    assert obligation(at_threshold, "us-ut-13-44-202-cra").due == at("2026-07-10T22:00:00+00:00")
    assert "1,000" in why_not(below, "us-ut-13-44-202-cra")


def test_new_hampshire_needs_no_notice_when_misuse_is_found_not_reasonably_likely():
    # RSA 359-C:20, I(a): notice "if the determination is that misuse of the information has occurred or
    # is reasonably likely to occur, or if a determination cannot be made".
    cleared = run(
        aware_at="2026-04-01T09:00:00-04:00",
        assessed_at="2026-04-03T09:00:00-04:00",
        jurisdictions=[{"code": "US-NH", "affected": 80}],
        data_categories=["personal"],
        risk="none",
    )
    assert "risk at least low" in why_not(cleared, "us-nh-359-c-20-residents")
    assert "risk at least low" in why_not(cleared, "us-nh-359-c-20-ag")
    # Undetermined: the duty stands. Determined 3 April 13:00 UTC; the Attorney General's notice (which
    # states the anticipated date of the residents' notice) shares the 720 h target: 3 May 13:00 UTC.
    open_question = run(
        aware_at="2026-04-01T09:00:00-04:00",
        assessed_at="2026-04-03T09:00:00-04:00",
        jurisdictions=[{"code": "US-NH", "affected": 80}],
        data_categories=["personal"],
    )
    assert obligation(open_question, "us-nh-359-c-20-ag").due == at("2026-05-03T13:00:00+00:00")


def test_nebraskas_attorney_general_is_told_no_later_than_the_residents_whatever_their_number():
    # Neb. Rev. Stat. § 87-803(2): "not later than the time when notice is provided to the Nebraska
    # resident". Determined 2 March 2026 10:00 CST = 16:00 UTC; both targets 720 h later, 1 April 16:00 UTC.
    a = run(
        aware_at="2026-02-27T10:00:00-06:00",
        assessed_at="2026-03-02T10:00:00-06:00",
        jurisdictions=[{"code": "US-NE", "affected": 3}],
        data_categories=["personal"],
    )
    ag = obligation(a, "us-ne-87-803-ag")
    assert ag.due == at("2026-04-01T16:00:00+00:00")
    assert ag.due == obligation(a, "us-ne-87-803-residents").due


def test_north_dakotas_attorney_general_rule_applies_below_250_north_dakotans():
    # N.D.C.C. § 51-30-02: "any breach ... which exceeds two hundred fifty individuals" - not only North
    # Dakotans, so the rule applies whenever any are affected (waive it for a small breach). Discovered
    # 5 May 2026 12:00 CDT = 17:00 UTC; target 720 h later, 4 June 17:00 UTC.
    a = run(
        aware_at="2026-05-05T12:00:00-05:00",
        jurisdictions=[{"code": "US-ND", "affected": 10}, {"code": "US-MN", "affected": 400}],
        data_categories=["personal"],
    )
    assert obligation(a, "us-nd-51-30-02-ag").due == at("2026-06-04T17:00:00+00:00")


def test_south_carolinas_consumer_affairs_notice_needs_more_than_1000_persons():
    # S.C. Code § 39-1-90(K): "If a business provides notice to more than one thousand persons at one
    # time". Discovered 1 April 2026 12:00 EDT = 16:00 UTC; target 720 h later, 1 May 16:00 UTC.
    at_1000 = run(
        aware_at="2026-04-01T12:00:00-04:00",
        jurisdictions=[{"code": "US-SC", "affected": 1000}],
        data_categories=["personal"],
    )
    assert "more than 1,000" in why_not(at_1000, "us-sc-39-1-90-k-dca")
    at_1001 = run(
        aware_at="2026-04-01T12:00:00-04:00",
        jurisdictions=[{"code": "US-SC", "affected": 1001}],
        data_categories=["personal"],
    )
    assert obligation(at_1001, "us-sc-39-1-90-k-dca").due == at("2026-05-01T16:00:00+00:00")


def test_new_jerseys_state_police_report_precedes_the_customer_notice():
    # N.J.S.A. 56:8-163(c)(1): "in advance of the disclosure to the customer, report the breach ... to the
    # Division of State Police". Discovered 15 January 2026 09:00 EST = 14:00 UTC; the customer notice's
    # target is 720 h later, 14 February 14:00 UTC, and the report is due no later.
    a = run(
        aware_at="2026-01-15T09:00:00-05:00",
        jurisdictions=[{"code": "US-NJ", "affected": 2}],
        data_categories=["credentials"],
        risk="none",  # only "misuse not reasonably possible" excuses New Jersey notice: no risk filter
    )
    police = obligation(a, "us-nj-56-8-163-c-state-police")
    assert police.audience == "law_enforcement"
    assert police.due == at("2026-02-14T14:00:00+00:00")
    assert police.due <= obligation(a, "us-nj-56-8-163-customers").due


def test_a_nevada_service_provider_tells_the_owner_24_elapsed_hours_after_discovery_across_dst():
    # NRS 603A.220(2): the data collector that maintains data it does not own notifies the owner
    # "immediately following discovery"; target 24 h. Discovered 31 October 2026 20:00 PDT = 1 November
    # 03:00 UTC; 24 elapsed hours later is 2 November 03:00 UTC (19:00 PST: daylight saving ended).
    a = run(
        aware_at="2026-10-31T20:00:00-07:00",
        jurisdictions=[{"code": "US-NV", "affected": 300}],
        data_categories=["personal"],
        acting_as="processor",
    )
    owner = obligation(a, "us-nv-603a-220-owner")
    assert owner.audience == "controller"
    assert owner.due == at("2026-11-02T03:00:00+00:00")
    assert "controller" in why_not(a, "us-nv-603a-220-residents")  # the owner tells the residents


def test_guams_resident_notice_is_shown_in_chamorro_time():
    # 9 GCA § 48.30: without unreasonable delay following discovery. Discovered 4 July 2026 08:00 ChST
    # (UTC+10) = 3 July 22:00 UTC; target 720 h later, 2 August 22:00 UTC (3 August 08:00 ChST).
    a = run(
        aware_at="2026-07-04T08:00:00+10:00",
        jurisdictions=[{"code": "GU", "affected": 12}],
        data_categories=["financial"],
    )
    residents = obligation(a, "us-gu-9-gca-48-30-residents")
    assert residents.due == at("2026-08-02T22:00:00+00:00")
    assert "Pacific/Guam" in residents.zones


def test_wyoming_notice_waits_for_the_investigation_and_is_excused_when_misuse_is_unlikely():
    # Wyo. Stat. § 40-12-502(a): notice if "the investigation determines that the misuse ... has occurred
    # or is reasonably likely to occur". Determined 20 August 2026 15:00 MDT = 21:00 UTC; target 720 h
    # later, 19 September 21:00 UTC.
    a = run(
        aware_at="2026-08-18T15:00:00-06:00",
        assessed_at="2026-08-20T15:00:00-06:00",
        jurisdictions=[{"code": "US-WY", "affected": 7}],
        data_categories=["biometric"],
        risk="likely",
    )
    assert obligation(a, "us-wy-40-12-502-residents").due == at("2026-09-19T21:00:00+00:00")
    cleared = run(
        aware_at="2026-08-18T15:00:00-06:00",
        assessed_at="2026-08-20T15:00:00-06:00",
        jurisdictions=[{"code": "US-WY", "affected": 7}],
        data_categories=["biometric"],
        risk="none",
    )
    why_not(cleared, "us-wy-40-12-502-residents")


def test_harm_in_the_definition_does_not_excuse_a_notice_on_an_assessment_of_no_risk():
    # Montana (MCA § 30-14-1704), Pennsylvania (73 P.S. § 2302), Virginia (§ 18.2-186.6(A)) and West
    # Virginia (§ 46A-2A-101) define a breach by its harm; whether an incident is one stays the team's
    # decision, so the notices are listed whatever the assessed risk. Montana's copy to the Office of
    # Consumer Protection goes with the resident notice: discovered 2 March 2026 09:00 MST = 16:00 UTC,
    # both targets 1 April 16:00 UTC.
    a = run(
        aware_at="2026-03-02T09:00:00-07:00",
        jurisdictions=["US-MT", "US-PA", "US-VA", "US-WV"],
        data_categories=["personal"],
        risk="none",
    )
    for rule_id in (
        "us-mt-30-14-1704-residents",
        "us-pa-73-2303-residents",
        "us-va-18-2-186-6-residents",
        "us-va-18-2-186-6-ag",
        "us-wv-46a-2a-102-residents",
    ):
        obligation(a, rule_id)
    assert obligation(a, "us-mt-30-14-1704-ocp").due == at("2026-04-01T16:00:00+00:00")


def test_virginias_medical_information_statute_needs_health_data():
    # Va. Code § 32.1-127.1:05: a breach of medical information, without unreasonable delay.
    personal = run(aware_at="2026-05-01T12:00:00Z", jurisdictions=["US-VA"], data_categories=["personal"])
    assert "health" in why_not(personal, "us-va-32-1-127-1-05-medical")
    health = run(aware_at="2026-05-01T12:00:00Z", jurisdictions=["US-VA"], data_categories=["health"])
    assert obligation(health, "us-va-32-1-127-1-05-medical").due == at("2026-05-31T12:00:00+00:00")

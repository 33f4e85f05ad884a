"""The world_*.yaml rules: the 45 largest economies are reached, and the new deadlines fall where the laws
put them.

Every expected instant below was worked out by hand from the law's text (source beside each test), not
by running the engine: business days are counted on the printed holiday calendar of the country.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest

from breachops.config.jurisdictions import BLOCS
from breachops.config.rule_files import load_catalogue, load_rule_file, shipped_rule_files
from breachops.config.yaml import read_yaml
from breachops.deadlines.engine import assess
from breachops.deadlines.models import parse_facts

CATALOGUE = load_catalogue()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
WORLD_FILES = [p for p in shipped_rule_files() if p.name.startswith("world_")]

# IMF World Economic Outlook database, October 2025, NGDPD (GDP, current prices, USD), 2025: the 45
# largest economies, read from the ranked list at the top of world_americas.yaml ("#   1 US  2 CN ...").
_HEADER = next(p for p in WORLD_FILES if p.name == "world_americas.yaml").read_text("utf-8")
IMF_TOP_45 = [
    code
    for line in _HEADER.splitlines()
    if re.match(r"#\s+\d+ [A-Z]{2}\b", line)
    for _, code in re.findall(r"(\d+) ([A-Z]{2})\b", line)
]
# Just past the cut-off in recent editions; checked too because the order there moves.
MARGIN = ["IR", "PT", "FI", "PE", "KZ", "NG", "NZ", "GR"]
EEA = BLOCS["EEA"]  # left to the GDPR rules
# Countries these files bring in with at least one general (not sector-only) rule.
NEWLY_COVERED = ["RU", "TW", "MY", "BD", "KZ", "CO", "CL", "PE", "EG"]


def no_duty_entries() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for path in WORLD_FILES:
        data = read_yaml(path)
        for entry in data.get("no_duty", []):
            found[entry["jurisdiction"]] = entry
    return found


def facts(**kw):
    return parse_facts(kw)


def due_of(assessment, rule_id, stage=None):
    found = [
        o for o in assessment.obligations if o.rule_id == rule_id and (stage is None or o.stage == stage)
    ]
    assert found, f"{rule_id} did not apply: {[n for n in assessment.not_applicable if n.rule_id == rule_id]}"
    return found[0].due


def local(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


# ---------------------------------------------------------------- coverage


def test_the_world_files_exist_and_load_with_the_loader_of_today():
    assert {p.name for p in WORLD_FILES} == {"world_americas.yaml", "world_asia.yaml", "world_emea.yaml"}
    for path in WORLD_FILES:
        rules = load_rule_file(path)
        assert rules, path
        assert all(r.reviewed.isoformat() == "2026-12-01" for r in rules)


def test_the_imf_list_has_45_distinct_economies_in_rank_order():
    assert len(IMF_TOP_45) == len(set(IMF_TOP_45)) == 45
    assert IMF_TOP_45[:3] == ["US", "CN", "DE"] and IMF_TOP_45[-1] == "CL"


@pytest.mark.parametrize("code", IMF_TOP_45 + MARGIN)
def test_each_large_economy_is_covered_left_to_the_gdpr_or_recorded_without_a_general_duty(code):
    covered = code in CATALOGUE.jurisdictions
    gdpr = code in EEA
    assert covered or gdpr or code in no_duty_entries(), f"{code} is a gap"


def test_no_duty_entries_follow_the_shared_schema():
    entries = no_duty_entries()
    assert {"AR", "HK", "PK", "IR"} <= set(entries)
    for code, entry in entries.items():
        assert set(entry) <= {"jurisdiction", "source", "reviewed", "notes", "instead"}, code
        assert urlparse(entry["source"]).scheme == "https", code
        assert str(entry["reviewed"]) == "2026-12-01", code
        assert entry["notes"].strip(), code


def test_hong_kong_has_no_general_duty_but_a_critical_infrastructure_rule():
    assert "PCPD" in no_duty_entries()["HK"]["instead"]
    hk = CATALOGUE.for_jurisdiction("HK")
    assert hk and all(r.applies_when.sectors_any == ("critical_infrastructure",) for r in hk)


@pytest.mark.parametrize("code", NEWLY_COVERED)
def test_a_thousand_people_in_each_newly_covered_country_yield_an_obligation(code):
    f = facts(
        aware_at="2026-12-01T12:00:00Z",
        jurisdictions=[{"code": code, "affected": 1000}],
        data_categories=["personal"],
        risk="high",
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert [o for o in a.obligations if o.jurisdiction == code], a.not_applicable


def test_a_thousand_people_in_hong_kong_yield_an_obligation_for_a_ci_operator():
    f = facts(
        aware_at="2026-12-01T12:00:00Z",
        jurisdictions=[{"code": "HK", "affected": 1000}],
        data_categories=["personal"],
        sectors=["critical_infrastructure"],
    )
    assert [o for o in assess(f, CATALOGUE, now=NOW).obligations if o.jurisdiction == "HK"]


# ---------------------------------------------------------------- worked examples


def test_colombia_sic_report_is_15_dias_habiles_skipping_san_jose_and_holy_week():
    # SIC Circular Única, Título V: within 15 business days after detection. Detected Wednesday
    # 18 March 2026. Holidays: Mon 23 March (San José, moved to Monday), Thu 2 and Fri 3 April (Holy
    # Week). Counting: 19, 20, 24, 25, 26, 27, 30, 31 March, 1 April (9), 6, 7, 8, 9, 10 (14), 13 April
    # (15). Due at the end of Monday 13 April 2026, Bogotá time.
    f = facts(
        aware_at="2026-03-18T10:00:00-05:00",
        jurisdictions=[{"code": "CO", "affected": 1000}],
        data_categories=["personal"],
    )
    due = due_of(assess(f, CATALOGUE, now=NOW), "co-sic-circular-unica-incident-report")
    assert due == local("2026-04-13T23:59:59", "America/Bogota")


def test_russia_roskomnadzor_gets_24_hours_then_72_hours_from_detection():
    # 152-FZ Art. 21(3.1): within 24 hours of detection, then the investigation's results within
    # 72 hours of detection. Detected 27 March 2026 22:30 Moscow (UTC+3, no DST): 28 March 22:30, then
    # 30 March 22:30 Moscow.
    f = facts(
        aware_at="2026-03-27T22:30:00+03:00",
        jurisdictions=[{"code": "RU", "affected": 1000}],
        data_categories=["personal"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert due_of(a, "ru-152fz-art21-3-1-roskomnadzor", "initial") == datetime(
        2026, 3, 28, 19, 30, tzinfo=UTC
    )
    assert due_of(a, "ru-152fz-art21-3-1-roskomnadzor", "investigation") == datetime(
        2026, 3, 30, 19, 30, tzinfo=UTC
    )


def test_egypt_centre_is_72_hours_and_the_data_subject_three_working_days_over_the_weekend():
    # Law 151/2020 Art. 7: the Centre within 72 hours of learning of the breach; the data subject within
    # three working days (counted here from awareness). Aware Wednesday 10 June 2026 11:00 Cairo (UTC+3
    # under the summer time Egypt observes since 2023). Centre: 13 June 11:00 Cairo. Working days after
    # Wednesday: Thursday 11 June (1); Friday and Saturday are the weekend; Sunday 14 (2), Monday 15 (3),
    # before the Islamic New Year holiday. Due at the end of Monday 15 June, Cairo time.
    f = facts(
        aware_at="2026-06-10T11:00:00+03:00",
        jurisdictions=[{"code": "EG", "affected": 1000}],
        data_categories=["personal"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert due_of(a, "eg-pdpl-art7-centre") == datetime(2026, 6, 13, 8, 0, tzinfo=UTC)
    assert due_of(a, "eg-pdpl-art7-data-subjects") == local("2026-06-15T23:59:59", "Africa/Cairo")


def test_kazakhstan_one_business_day_skips_nauryz_and_its_transferred_days():
    # Law 94-V as amended by Law 44-VIII: notify within one business day of detection. Detected Friday
    # 20 March 2026 18:00 Almaty. Nauryz 21-23 March, with the days falling on Saturday and Sunday moved
    # to Tuesday 24 and Wednesday 25 March: the first business day after the detection is Thursday
    # 26 March 2026; due at its end, Almaty time.
    f = facts(
        aware_at="2026-03-20T18:00:00+05:00",
        jurisdictions=[{"code": "KZ", "affected": 1000}],
        data_categories=["personal"],
    )
    due = due_of(assess(f, CATALOGUE, now=NOW), "kz-personal-data-law-breach-authority")
    assert due == local("2026-03-26T23:59:59", "Asia/Almaty")


def test_malaysia_commissioner_72_hours_further_information_30_days_and_data_subjects_7_days():
    # PDPA s. 12B with the Guideline on Data Breach Notification: the Commissioner within 72 hours of
    # awareness; further information no later than 30 days from the notification; data subjects within
    # 7 days (counted here from awareness). Aware 1 July 2026 09:00 Kuala Lumpur (UTC+8): Commissioner
    # 4 July 09:00; further information 30 days after 4 July = 3 August 09:00; data subjects 8 July
    # 09:00.
    f = facts(
        aware_at="2026-07-01T09:00:00+08:00",
        jurisdictions=[{"code": "MY", "affected": 1000}],
        data_categories=["personal"],
        risk="high",
    )
    a = assess(f, CATALOGUE, now=NOW)
    kl = "Asia/Kuala_Lumpur"
    assert due_of(a, "my-pdpa-s12b-commissioner", "notification") == local("2026-07-04T09:00:00", kl)
    assert due_of(a, "my-pdpa-s12b-commissioner", "further_information") == local("2026-08-03T09:00:00", kl)
    assert due_of(a, "my-pdpa-s12b-data-subjects") == local("2026-07-08T09:00:00", kl)


def test_malaysia_rules_do_not_reach_a_breach_before_1_june_2025():
    # The Amendment Act's s. 12B came into operation on 1 June 2025.
    f = facts(
        aware_at="2025-05-31T09:00:00+08:00",
        jurisdictions=[{"code": "MY", "affected": 1000}],
        data_categories=["personal"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert "my-pdpa-s12b-commissioner" in {n.rule_id for n in a.not_applicable}


def test_chile_csirt_reports_3_hours_72_hours_and_15_days_after_the_early_warning():
    # Law 21.663 Art. 9: early warning within 3 hours of awareness, second report within 72 hours, final
    # report within 15 calendar days of the early warning. Aware 1 December 2026 10:00 Santiago (UTC-3,
    # summer time): early warning 13:00 local; second report 4 December 10:00 local; final report
    # 15 days after 1 December 13:00 = 16 December 13:00 local.
    f = facts(
        aware_at="2026-12-01T10:00:00-03:00",
        jurisdictions=[{"code": "CL", "affected": 1000}],
        sectors=["essential_entity"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    scl = "America/Santiago"
    assert due_of(a, "cl-law-21663-art9-csirt", "early_warning") == local("2026-12-01T13:00:00", scl)
    assert due_of(a, "cl-law-21663-art9-csirt", "second_report") == local("2026-12-04T10:00:00", scl)
    assert due_of(a, "cl-law-21663-art9-csirt", "final_report") == local("2026-12-16T13:00:00", scl)


def test_chile_law_21719_applies_from_1_december_2026_local_date():
    # Law 21.719, final transitory article: in force on the first day of the 25th month after its
    # publication on 13 December 2024, i.e. 1 December 2026. A breach known on the evening of
    # 30 November in Santiago (already 1 December in UTC) falls under the old law, which has no duty.
    before = facts(
        aware_at="2026-11-30T22:00:00-03:00",
        jurisdictions=[{"code": "CL", "affected": 1000}],
        data_categories=["personal"],
    )
    assert "cl-law-21719-art14sexies-agency" in {
        n.rule_id for n in assess(before, CATALOGUE, now=NOW).not_applicable
    }
    after = facts(
        aware_at="2026-12-01T09:00:00-03:00",
        jurisdictions=[{"code": "CL", "affected": 1000}],
        data_categories=["financial"],
    )
    a = assess(after, CATALOGUE, now=NOW)
    assert due_of(a, "cl-law-21719-art14sexies-agency") is not None
    assert due_of(a, "cl-law-21719-art14sexies-data-subjects") is not None


def test_peru_authority_is_48_elapsed_hours_from_awareness():
    # Supreme Decree 016-2024-JUS (Reglamento of Law 29733, in force 30 March 2025): within 48 hours.
    # Aware 4 May 2026 16:00 Lima (UTC-5): 6 May 16:00 Lima = 21:00 UTC.
    f = facts(
        aware_at="2026-05-04T16:00:00-05:00",
        jurisdictions=[{"code": "PE", "affected": 1000}],
        data_categories=["personal"],
    )
    assert due_of(assess(f, CATALOGUE, now=NOW), "pe-lpdp-reglamento-2024-incident-authority") == datetime(
        2026, 5, 6, 21, 0, tzinfo=UTC
    )


def test_hong_kong_ci_operator_12_hours_serious_48_hours_other_written_report_14_days():
    # Cap. 653 (in operation 1 January 2026): a serious incident within 12 hours after becoming aware,
    # any other within 48 hours; a written report within 14 days after becoming aware. Aware 16 February
    # 2026 21:00 Hong Kong (UTC+8): 17 February 09:00; 18 February 21:00; 2 March 21:00 (February 2026
    # has 28 days).
    f = facts(
        aware_at="2026-02-16T21:00:00+08:00",
        jurisdictions=[{"code": "HK", "affected": 1000}],
        sectors=["critical_infrastructure"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    hk = "Asia/Hong_Kong"
    assert due_of(a, "hk-pcicso-serious-incident", "notification") == local("2026-02-17T09:00:00", hk)
    assert due_of(a, "hk-pcicso-other-incident", "notification") == local("2026-02-18T21:00:00", hk)
    assert due_of(a, "hk-pcicso-serious-incident", "written_report") == local("2026-03-02T21:00:00", hk)


def test_hong_kong_ci_rules_do_not_reach_an_incident_in_2025():
    f = facts(
        aware_at="2025-12-31T21:00:00+08:00",
        jurisdictions=[{"code": "HK", "affected": 1000}],
        sectors=["critical_infrastructure"],
    )
    assert "hk-pcicso-serious-incident" in {n.rule_id for n in assess(f, CATALOGUE, now=NOW).not_applicable}


def test_taiwan_critical_infrastructure_report_is_one_hour():
    # Cyber Security Management Act with the Incident Notification and Response Regulations: within one
    # hour of becoming aware. Aware 5 October 2026 23:30 Taipei (UTC+8): 6 October 00:30 Taipei.
    f = facts(
        aware_at="2026-10-05T23:30:00+08:00",
        jurisdictions=[{"code": "TW", "affected": 1000}],
        sectors=["critical_infrastructure"],
    )
    assert due_of(assess(f, CATALOGUE, now=NOW), "tw-csma-incident-1h") == local(
        "2026-10-06T00:30:00", "Asia/Taipei"
    )


def test_taiwan_data_subject_notice_waits_for_the_facts_to_be_ascertained():
    # PDPA Art. 12 (text in force): notice after the facts are ascertained, so the clock is `assessed`.
    f = facts(
        aware_at="2026-10-05T10:00:00+08:00",
        jurisdictions=[{"code": "TW", "affected": 1000}],
        data_categories=["personal"],
    )
    waiting = [
        o for o in assess(f, CATALOGUE, now=NOW).obligations if o.rule_id == "tw-pdpa-art12-data-subjects"
    ]
    assert waiting and waiting[0].due is None and waiting[0].status == "awaiting"


def test_every_unconfirmed_world_rule_says_unconfirmed_or_why_in_its_notes():
    for path in WORLD_FILES:
        for rule in load_rule_file(Path(path)):
            if not rule.confirmed:
                assert "UNCONFIRMED" in rule.notes or "unverified" in rule.article, rule.id

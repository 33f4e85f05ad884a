"""Worked examples for rules outside the United States that changed in the last review: the GDPR
processor's notice to the controller, the data-subject notices of South Africa, Kenya, Peru and
Kazakhstan, and the authority notices of Taiwan and Bangladesh.

All of them set an open term (or a period not yet read), so the due time is the team's target in
elapsed hours, which no clock change moves. Each example quotes the article the rule cites; the
Peruvian, Taiwanese, Bangladeshi and Kazakh rules are unconfirmed readings, and the examples say so.
"""

from __future__ import annotations

from datetime import UTC, datetime

from breachops.config.rule_files import load_catalogue
from breachops.deadlines.engine import assess
from tests.deadlines.helpers import facts as base_facts
from tests.deadlines.helpers import obligation_of, refusal_of

CATALOGUE = load_catalogue()
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def incident(code: str, aware: str, **kw):
    data = {"jurisdictions": [{"code": code, "affected": 40}], "data_categories": ["personal"]}
    data.update(kw)
    return base_facts(aware_at=aware, **data)


def applies(f, rule_id: str):
    return obligation_of(assess(f, CATALOGUE, now=NOW), rule_id)


def refused(f, rule_id: str) -> str:
    a = assess(f, CATALOGUE, now=NOW)
    assert rule_id not in {o.rule_id for o in a.obligations}
    reason = refusal_of(a, rule_id)
    assert reason is not None, f"{rule_id} was not a candidate"
    return reason


def test_gdpr_processor_tells_the_controller_24_hours_after_becoming_aware_across_the_spring_change():
    # GDPR Art. 33(2): "The processor shall notify the controller without undue delay after becoming
    # aware of a personal data breach" - every breach, whatever the risk. Target 24 h. Aware Saturday
    # 2026-03-28 10:00 CET (09:00Z); Germany moves to CEST on the 29th, so the target, 2026-03-29 09:00Z,
    # reads 11:00 in Berlin.
    f = incident("DE", "2026-03-28T10:00:00+01:00", acting_as="processor", risk="none")
    o = applies(f, "eu-gdpr-art33-2-processor")
    assert o.audience == "controller"
    assert o.term == "without undue delay"
    assert o.due == utc(2026, 3, 29, 9)
    # The controller itself has no duty under Art. 33(2).
    assert refused(incident("DE", "2026-03-28T10:00:00+01:00"), "eu-gdpr-art33-2-processor")


def test_gdpr_processor_notice_applies_from_25_may_2018():
    # Art. 99(2): the Regulation applies from 25 May 2018.
    before = incident("DE", "2018-05-24T12:00:00+02:00", acting_as="processor")
    assert refused(before, "eu-gdpr-art33-2-processor")
    day = incident("DE", "2018-05-25T12:00:00+02:00", acting_as="processor")
    assert applies(day, "eu-gdpr-art33-2-processor").due == utc(2018, 5, 26, 10)


def test_popia_data_subjects_are_told_as_soon_as_reasonably_possible_after_discovery():
    # POPIA s. 22(1)(b), (2): the responsible party notifies the data subject "as soon as reasonably
    # possible after the discovery of the compromise", unless the data subject's identity cannot be
    # established. Target 72 h: discovered 2026-03-02 09:00 SAST (+02) = 07:00Z -> 2026-03-05 07:00Z.
    o = applies(incident("ZA", "2026-03-02T09:00:00+02:00"), "za-popia-s22-data-subjects")
    assert (o.audience, o.clock_event) == ("individuals", "discovered")
    assert o.due == utc(2026, 3, 5, 7)
    # An operator (s. 21) tells the responsible party instead; s. 22 binds the responsible party.
    assert refused(
        incident("ZA", "2026-03-02T09:00:00+02:00", acting_as="processor"), "za-popia-s22-data-subjects"
    )


def test_popia_section_22_binds_from_1_july_2021_in_johannesburg():
    # Section 22 commenced on 2021-07-01. Discovered 2021-07-01 00:30 SAST, still 30 June in UTC: in force.
    assert applies(incident("ZA", "2021-07-01T00:30:00+02:00"), "za-popia-s22-data-subjects")
    assert refused(incident("ZA", "2021-06-30T23:30:00+02:00"), "za-popia-s22-data-subjects")


def test_kenya_data_subjects_only_where_there_is_a_real_risk_of_harm():
    # Kenya DPA s. 43(1): where there is "a real risk of harm to the data subject", (b) the data subject
    # is told in writing "within a reasonably practical period". Target 72 h from awareness: 2026-03-02
    # 09:00 EAT (+03) = 06:00Z -> 2026-03-05 06:00Z. Risk low is below a real risk of harm (likely).
    o = applies(incident("KE", "2026-03-02T09:00:00+03:00", risk="likely"), "ke-dpa-s43-data-subjects")
    assert (o.audience, o.due) == ("individuals", utc(2026, 3, 5, 6))
    assert "risk" in refused(
        incident("KE", "2026-03-02T09:00:00+03:00", risk="low"), "ke-dpa-s43-data-subjects"
    )


def test_peru_data_subjects_where_the_incident_significantly_affects_their_rights_unconfirmed():
    # Peru, Reglamento of the LPDP (2024, in force 2025-03-30): data subjects are told, without undue
    # delay, of an incident that "significantly affects" their rights - an unconfirmed reading (article,
    # period and threshold from secondary sources), mapped to risk high, target 72 h. Aware 2026-03-02
    # 09:00 PET (-05) = 14:00Z -> 2026-03-05 14:00Z.
    o = applies(
        incident("PE", "2026-03-02T09:00:00-05:00", risk="high"),
        "pe-lpdp-reglamento-2024-incident-data-subjects",
    )
    assert (o.audience, o.due, o.confirmed) == ("individuals", utc(2026, 3, 5, 14), False)
    assert "risk" in refused(
        incident("PE", "2026-03-02T09:00:00-05:00", risk="likely"),
        "pe-lpdp-reglamento-2024-incident-data-subjects",
    )
    # Before the Reglamento's first day in Lima: no duty from it.
    assert refused(
        incident("PE", "2025-03-29T12:00:00-05:00", risk="high"),
        "pe-lpdp-reglamento-2024-incident-data-subjects",
    )


def test_taiwan_pdpc_report_is_the_teams_72_hours_until_the_pdpc_sets_a_period_unconfirmed():
    # PDPA Art. 12(2) as amended (promulgated 2025-11-11): a non-government agency reports a reportable
    # breach to the PDPC within the period the PDPC's regulations set - neither the period nor the
    # commencement date was found (unconfirmed). Target 72 h: 2026-03-02 09:00 CST (+08) = 01:00Z ->
    # 2026-03-05 01:00Z.
    o = applies(incident("TW", "2026-03-02T09:00:00+08:00"), "tw-pdpa-2025-art12-2-pdpc")
    assert (o.audience, o.due, o.confirmed) == ("regulator", utc(2026, 3, 5, 1), False)
    assert refused(
        incident("TW", "2026-03-02T09:00:00+08:00", acting_as="processor"), "tw-pdpa-2025-art12-2-pdpc"
    )


def test_bangladesh_authority_notice_is_kept_flagged_with_the_teams_target_unconfirmed():
    # Personal Data Protection Ordinance 2025: whether it has a breach notice, to whom and when was not
    # found (unconfirmed in every respect); the rule keeps a flagged 72 h target so that a breach in
    # Bangladesh is not shown as free of duties. 2026-03-02 09:00 BST (+06) = 03:00Z -> 2026-03-05 03:00Z.
    o = applies(incident("BD", "2026-03-02T09:00:00+06:00"), "bd-pdpo-2025-authority")
    assert (o.audience, o.due, o.confirmed) == ("regulator", utc(2026, 3, 5, 3), False)
    assert refused(
        incident("BD", "2026-03-02T09:00:00+06:00", data_categories=["trade_secret"]),
        "bd-pdpo-2025-authority",
    )


def test_kazakhstan_data_subjects_under_order_481_from_its_first_day_in_almaty_unconfirmed():
    # Rules approved by Order No. 481 of 9 August 2024, in force ten days after publication (2024-08-20
    # estimated; period and duty-holder not read: unconfirmed); target 72 h from discovery. Kazakhstan is
    # on UTC+5 throughout since March 2024: 2026-03-02 09:00 = 04:00Z -> 2026-03-05 04:00Z.
    rule_id = "kz-personal-data-law-breach-data-subjects"
    o = applies(incident("KZ", "2026-03-02T09:00:00+05:00"), rule_id)
    assert (o.audience, o.due, o.confirmed) == ("individuals", utc(2026, 3, 5, 4), False)
    # Personal data only: a leak of trade secrets alone is no breach of personal data security.
    assert refused(incident("KZ", "2026-03-02T09:00:00+05:00", data_categories=["trade_secret"]), rule_id)
    # 2024-08-20 00:30 in Almaty is still the 19th in UTC: in force; half an hour before midnight, not yet.
    assert applies(incident("KZ", "2024-08-20T00:30:00+05:00"), rule_id).due == utc(2024, 8, 22, 19, 30)
    assert refused(incident("KZ", "2024-08-19T23:30:00+05:00"), rule_id)

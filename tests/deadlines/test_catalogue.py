"""The shipped rule catalogue: complete, sourced, and right on the dates people will check first."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest

from breachops.config.rule_files import load_catalogue, shipped_rule_files
from breachops.deadlines.engine import assess
from breachops.deadlines.models import parse_facts

CATALOGUE = load_catalogue()
NOW = datetime(2026, 1, 1, tzinfo=UTC)

REQUIRED = {"EU", "GB", "CH", "BR", "IN", "CN", "JP", "KR", "SG", "AU", "CA", "CA-QC", "US", "US-NY"}


def test_the_catalogue_has_at_least_40_rules_over_25_jurisdictions():
    assert len(CATALOGUE) >= 40
    assert len(CATALOGUE.jurisdictions) >= 25


def test_the_catalogue_covers_the_jurisdictions_a_cross_border_transfer_meets():
    assert CATALOGUE.jurisdictions >= REQUIRED
    states = {j for j in CATALOGUE.jurisdictions if j.startswith("US-")}
    assert {"US-CA", "US-NY", "US-TX", "US-FL", "US-CO", "US-WA"} <= states


@pytest.mark.parametrize("rule", list(CATALOGUE), ids=lambda r: r.id)
def test_every_shipped_rule_has_a_source_url_a_citation_and_a_reviewed_date(rule):
    url = urlparse(rule.source)
    assert url.scheme == "https" and url.netloc, rule.source
    assert rule.instrument and rule.article and rule.citation
    assert date(2024, 1, 1) <= rule.reviewed <= date(2027, 1, 1)
    assert rule.origin in {str(p) for p in shipped_rule_files()}
    if not rule.confirmed:
        assert rule.notes, "an unconfirmed rule must say what is unconfirmed"


def test_the_instruments_named_in_the_brief_are_there():
    ids = {r.id for r in CATALOGUE}
    citations = " ".join(r.citation for r in CATALOGUE)
    for needle in ("Art. 33", "Art. 34", "Item 1.05", "500.17", "164.404", "NIS2", "DORA"):
        assert needle in citations, needle
    assert any(i.startswith("br-anpd") for i in ids)


def facts(**kw):
    return parse_facts(kw)


def due_of(assessment, rule_id, stage=None):
    found = [
        o for o in assessment.obligations if o.rule_id == rule_id and (stage is None or o.stage == stage)
    ]
    assert found, f"{rule_id} did not apply: {[n for n in assessment.not_applicable if n.rule_id == rule_id]}"
    return found[0].due


def test_shipped_sec_rule_is_due_four_business_days_after_materiality_around_thanksgiving():
    f = facts(
        aware_at="2026-11-20T10:00:00-05:00",
        material_at="2026-11-24T15:00:00-05:00",
        jurisdictions=["US"],
        sectors=["public_company"],
    )
    due = due_of(assess(f, CATALOGUE, now=NOW), "us-sec-8k-item-1-05")
    assert due.astimezone(ZoneInfo("America/New_York")) == datetime(
        2026, 12, 1, 17, 30, tzinfo=ZoneInfo("America/New_York")
    )


def test_shipped_anpd_rule_is_three_working_days_in_brasilia_time():
    f = facts(
        aware_at="2027-04-19T09:00:00-03:00",
        jurisdictions=[{"code": "BR", "affected": 900}],
        data_categories=["personal"],
        risk="high",
    )
    a = assess(f, CATALOGUE, now=NOW)
    due = due_of(a, "br-anpd-res15-art6").astimezone(ZoneInfo("America/Sao_Paulo"))
    assert due.date() == date(2027, 4, 23)  # Tiradentes (21 April) is skipped


def test_shipped_gdpr_rule_is_72_elapsed_hours_across_dst():
    f = facts(
        aware_at="2026-03-27T10:00:00+01:00",
        jurisdictions=["DE"],
        data_categories=["personal"],
        risk="likely",
    )
    assert due_of(assess(f, CATALOGUE, now=NOW), "eu-gdpr-art33-authority") == datetime(
        2026, 3, 30, 9, 0, tzinfo=UTC
    )


def test_a_trade_secret_leak_without_personal_data_triggers_no_privacy_rule():
    f = facts(
        aware_at="2026-03-27T10:00:00Z",
        jurisdictions=["DE", "BR", "US-CA"],
        data_categories=["trade_secret", "source_code"],
    )
    a = assess(f, CATALOGUE, now=NOW)
    assert not [o for o in a.obligations if o.audience in ("individuals",)]
    assert a.not_applicable


def test_indias_rule_7_applies_only_from_its_effective_date():
    rule7 = [
        r for r in CATALOGUE if r.jurisdiction == "IN" and r.in_force_from and r.in_force_from.year == 2027
    ]
    assert rule7, "India's DPDP Rule 7 should carry its 2027 effective date"
    before = facts(aware_at="2026-11-20T10:00:00+05:30", jurisdictions=["IN"], data_categories=["personal"])
    assert rule7[0].id in {n.rule_id for n in assess(before, CATALOGUE, now=NOW).not_applicable}
    after = facts(aware_at="2027-06-01T10:00:00+05:30", jurisdictions=["IN"], data_categories=["personal"])
    assert rule7[0].id in {o.rule_id for o in assess(after, CATALOGUE, now=NOW).obligations}

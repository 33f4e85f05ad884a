"""The engine: which rules apply, why (not), stages, in-force dates, ordering, the contract's windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from breachops.config.agreements import load_agreement
from breachops.deadlines.engine import assess

from .helpers import NOW, facts, rule

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def keys(assessment):
    return [o.key for o in assessment.obligations]


def test_a_rule_of_another_jurisdiction_is_not_even_a_candidate():
    a = assess(facts(), [rule(jurisdiction="FR")], now=NOW)
    assert a.obligations == () and a.not_applicable == ()


def test_an_eu_rule_reaches_a_member_state_and_a_country_rule_reaches_its_subdivisions():
    eu, us = rule(id="eu-x", jurisdiction="EU"), rule(id="us-x", jurisdiction="US")
    assert keys(assess(facts(), [eu, us], now=NOW)) == ["eu-x/notification"]
    f = facts(jurisdictions=[{"code": "US-CA", "affected": 3}])
    assert keys(assess(f, [eu, us], now=NOW)) == ["us-x/notification"]


def test_a_state_rule_does_not_reach_another_state():
    ca = rule(id="us-ca-x", jurisdiction="US-CA")
    assert assess(facts(jurisdictions=[{"code": "US-NY", "affected": 3}]), [ca], now=NOW).obligations == ()


@pytest.mark.parametrize(
    ("condition", "affected", "applies"),
    [
        ({"affected_more_than": 500}, 500, False),
        ({"affected_more_than": 500}, 501, True),
        ({"affected_at_least": 500}, 499, False),
        ({"affected_at_least": 500}, 500, True),
    ],
)
def test_more_than_differs_from_at_least(condition, affected, applies):
    r = rule(applies_when=condition)
    a = assess(facts(jurisdictions=[{"code": "DE", "affected": affected}]), [r], now=NOW)
    assert bool(a.obligations) is applies
    if not applies:
        assert f"{affected:,}" in a.not_applicable[0].reason


def test_counts_add_up_over_the_jurisdictions_a_rule_reaches():
    r = rule(jurisdiction="EU", applies_when={"affected_at_least": 1000})
    f = facts(
        jurisdictions=[
            {"code": "DE", "affected": 600},
            {"code": "FR", "affected": 400},
            {"code": "US", "affected": 9000},
        ]
    )
    a = assess(f, [r], now=NOW)
    assert len(a.obligations) == 1
    assert "1,000 affected in DE, FR" in a.obligations[0].reason


def test_an_unknown_count_applies_the_rule_and_says_it_is_an_assumption():
    r = rule(applies_when={"affected_more_than": 500})
    a = assess(facts(jurisdictions=[{"code": "DE", "affected": None}]), [r], now=NOW)
    assert len(a.obligations) == 1
    assert "assumes the threshold is met" in a.obligations[0].reason


def test_personal_data_rule_is_met_by_sensitive_categories_and_not_by_trade_secrets():
    r = rule(applies_when={"data_categories_any": ["personal"]})
    assert assess(facts(data_categories=["health"]), [r], now=NOW).obligations
    a = assess(facts(data_categories=["trade_secret", "source_code"]), [r], now=NOW)
    assert not a.obligations
    assert a.not_applicable[0].reason == "needs personal data; facts name trade_secret, source_code"


def test_risk_thresholds_and_unassessed_risk():
    r = rule(applies_when={"risk_at_least": "high"})
    assert not assess(facts(risk="likely"), [r], now=NOW).obligations
    assert assess(facts(risk="high"), [r], now=NOW).obligations
    pending = assess(facts(), [r], now=NOW).obligations[0]
    assert "assumes risk at least high" in pending.reason


def test_a_sector_rule_needs_the_sector():
    r = rule(applies_when={"sectors_any": ["financial"]})
    a = assess(facts(sectors=["health"]), [r], now=NOW)
    assert a.not_applicable[0].reason == "needs sector financial; facts name health"
    assert assess(facts(sectors=["financial"]), [r], now=NOW).obligations


def test_processor_rules_apply_only_to_a_processor():
    r = rule(applies_when={"acting_as": "processor"}, audience="controller")
    assert not assess(facts(), [r], now=NOW).obligations
    assert assess(facts(acting_as="processor"), [r], now=NOW).obligations


def test_a_rule_applies_only_when_in_force_on_the_local_day_its_clock_starts():
    r = rule(
        in_force_from="2027-05-13",
        clock="aware",
        window={"calendar_days": 3, "timezone": "Asia/Kolkata"},
    )
    # 20:00 UTC on 12 May is already 13 May in India.
    in_force = assess(facts(aware_at="2027-05-12T20:00:00Z"), [r], now=NOW)
    assert in_force.obligations
    before = assess(facts(aware_at="2027-05-12T17:00:00Z"), [r], now=NOW)
    assert not before.obligations
    assert "in force from 2027-05-13" in before.not_applicable[0].reason


def test_a_repealed_rule_does_not_apply():
    r = rule(in_force_until="2025-12-31")
    a = assess(facts(aware_at="2026-01-02T00:00:00Z"), [r], now=NOW)
    assert "repealed after 2025-12-31" in a.not_applicable[0].reason


def test_an_obligation_whose_clock_has_not_started_waits_and_sorts_last():
    sec = rule(id="us-sec", jurisdiction="US", clock="material", window={"hours": 96})
    gdpr = rule(id="us-other", jurisdiction="US")
    a = assess(facts(jurisdictions=["US"]), [sec, gdpr], now=NOW)
    assert keys(a) == ["us-other/notification", "us-sec/notification"]
    waiting = a.obligations[1]
    assert (waiting.due, waiting.basis, waiting.status) == (None, "awaiting_clock", "awaiting")
    assert "clock waits for material_at" in waiting.reason
    started = assess(facts(jurisdictions=["US"], material_at="2026-03-28T10:00:00Z"), [sec], now=NOW)
    assert started.obligations[0].due == datetime(2026, 4, 1, 10, 0, tzinfo=UTC)


def test_discovery_clock_falls_back_to_awareness():
    r = rule(clock="discovered")
    assert assess(facts(), [r], now=NOW).obligations[0].clock_start == datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
    f = facts(discovered_at="2026-03-20T09:00:00Z")
    assert assess(f, [r], now=NOW).obligations[0].clock_start == datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def test_staged_reports_count_later_stages_from_the_earlier_due_time():
    nis2 = rule(
        stages=[
            {"name": "early_warning", "clock": "aware", "window": {"hours": 24}},
            {"name": "notification", "clock": "aware", "window": {"hours": 72}},
            {
                "name": "final_report",
                "after": "notification",
                "window": {"months": 1, "day_end": "same_time"},
            },
        ]
    )
    a = assess(facts(aware_at="2026-01-29T10:00:00Z"), [nis2], now=NOW)
    dues = {o.stage: o.due for o in a.obligations}
    assert dues["early_warning"] == datetime(2026, 1, 30, 10, tzinfo=UTC)
    assert dues["notification"] == datetime(2026, 2, 1, 10, tzinfo=UTC)
    assert dues["final_report"] == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_a_cap_makes_a_stage_due_at_the_earlier_limit():
    dora = rule(
        stages=[
            {
                "name": "initial",
                "clock": "classified",
                "window": {"hours": 4},
                "cap": {"clock": "aware", "window": {"hours": 24}},
            }
        ]
    )
    late_classification = facts(aware_at="2026-05-01T00:00:00Z", classified_at="2026-05-01T22:00:00Z")
    assert assess(late_classification, [dora], now=NOW).obligations[0].due == datetime(
        2026, 5, 2, 0, tzinfo=UTC
    )
    early = facts(aware_at="2026-05-01T00:00:00Z", classified_at="2026-05-01T02:00:00Z")
    assert assess(early, [dora], now=NOW).obligations[0].due == datetime(2026, 5, 1, 6, tzinfo=UTC)
    # Before classification the cap is the only clock running: its due time is the outer bound.
    unclassified = assess(facts(aware_at="2026-05-01T00:00:00Z"), [dora], now=NOW).obligations[0]
    assert (unclassified.basis, unclassified.due) == ("deadline", datetime(2026, 5, 2, 0, tzinfo=UTC))
    assert "outer bound" in unclassified.reason


def test_obligations_come_strictest_first():
    rules = [rule(id=f"xx-r{h}", window={"hours": h}) for h in (72, 6, 24)]
    a = assess(facts(), rules, now=NOW)
    assert keys(a) == ["xx-r6/notification", "xx-r24/notification", "xx-r72/notification"]
    dues = [o.due for o in a.obligations]
    assert dues == sorted(dues)


def test_status_is_overdue_once_now_passes_the_due_time():
    r = rule(window={"hours": 6})
    f = facts(aware_at="2026-03-01T00:00:00Z")
    assert assess(f, [r], now=datetime(2026, 3, 1, 5, 59, tzinfo=UTC)).obligations[0].status == "pending"
    assert assess(f, [r], now=datetime(2026, 3, 1, 6, 0, tzinfo=UTC)).obligations[0].status == "overdue"


def test_the_engine_needs_an_aware_now():
    with pytest.raises(ValueError, match="timezone-aware"):
        assess(facts(), [rule()], now=datetime(2026, 1, 1))


def test_contract_windows_become_obligations_like_legal_ones():
    agreement = load_agreement(EXAMPLES / "agreement.yaml")
    f = facts(
        aware_at="2026-11-24T16:30:00-03:00",
        discovered_at="2026-11-24T09:10:00+05:30",
        data_categories=["source_code", "trade_secret"],
    )
    a = assess(f, [], now=NOW, agreement=agreement)
    by_key = {o.key: o for o in a.obligations}
    licensee = by_key["contract-receiving-to-disclosing/notification"]
    assert licensee.due == datetime(2026, 11, 26, 19, 30, tzinfo=UTC)
    assert licensee.kind == "contract" and licensee.audience == "counterparty"
    assert "§ 11.2" in licensee.citation
    flow_down = by_key["contract-subcontractor-flow-down/notification"]
    assert flow_down.due == datetime(2026, 11, 24, 3, 40, tzinfo=UTC) + timedelta(hours=24)
    # The licensor's clause needs personal data, which this leak does not contain.
    assert "contract-disclosing-to-receiving/notification" not in by_key
    assert any(n.rule_id == "contract-disclosing-to-receiving" for n in a.not_applicable)
    # Every party's zone is shown.
    assert set(licensee.local_due()) >= {"Europe/Berlin", "America/Sao_Paulo", "Asia/Kolkata"}
    assert licensee.local_due()["America/Sao_Paulo"].hour == 16


def test_every_candidate_rule_is_either_an_obligation_or_explained():
    rules = [
        rule(id="xx-a"),
        rule(id="xx-b", applies_when={"risk_at_least": "high"}),
        rule(id="xx-c", in_force_from=date(2030, 1, 1)),
        rule(id="xx-d", applies_when={"sectors_any": ["telecom"]}),
    ]
    a = assess(facts(risk="low"), rules, now=NOW)
    applied = {o.rule_id for o in a.obligations}
    explained = {n.rule_id for n in a.not_applicable}
    assert applied == {"xx-a"} and explained == {"xx-b", "xx-c", "xx-d"}
    assert all(n.reason for n in a.not_applicable)

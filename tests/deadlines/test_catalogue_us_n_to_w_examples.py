"""Worked examples for the breach-notice rules of Montana to Wyoming, Puerto Rico, Guam and the US Virgin
Islands, and New York's notice to the state agencies.

As in the A-to-M examples, an open term ("immediately following discovery", "without unreasonable
delay") has no date in the law: the due time is the team's target in elapsed hours from discovery,
720 h for people and regulators, 24 h for the data owner. The common case: discovered on Monday
2026-03-02 at 09:00 local standard time. 24 h later is 09:00 the next day; 720 h later is 2026-04-01
at the same UTC instant, 10:00 daylight time where clocks moved on 8 March, still 09:00 in Puerto Rico,
the Virgin Islands (AST all year) and Guam (ChST, UTC+10, where 09:00 on 2 March is 23:00Z on 1 March).
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
# 09:00 local standard time on 2026-03-02, as an offset, and that instant in UTC.
START = {
    "US-MT": ("-07:00", 16),  # America/Denver, MST
    "US-NC": ("-05:00", 14),
    "US-ND": ("-06:00", 15),
    "US-NE": ("-06:00", 15),
    "US-NH": ("-05:00", 14),
    "US-NJ": ("-05:00", 14),
    "US-OK": ("-06:00", 15),
    "US-PA": ("-05:00", 14),
    "US-SC": ("-05:00", 14),
    "US-UT": ("-07:00", 16),
    "US-VA": ("-05:00", 14),
    "US-WV": ("-05:00", 14),
    "US-WY": ("-07:00", 16),
    "US-PR": ("-04:00", 13),
    "US-GU": ("+10:00", -1),  # 23:00Z on 1 March
    "US-VI": ("-04:00", 13),
}


def discovered(code: str, affected: int = 40, **kw):
    return base_facts(
        aware_at=f"2026-03-02T09:00:00{START[code][0]}",
        jurisdictions=[{"code": code, "affected": affected}],
        data_categories=["personal"],
        **kw,
    )


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def due_by(code: str, hours: int) -> datetime:
    return utc(2026, 3, 2) + timedelta(hours=START[code][1] + hours)


HOLDER = {"acting_as": "processor"}

# (rule id, place, audience, facts beyond the common case, target hours, confirmed)
CASES = [
    # MCA § 30-14-1704(2): the holder tells the owner "immediately following discovery" (unconfirmed: not
    # read in the official text).
    ("us-mt-30-14-1704-owner", "US-MT", "controller", HOLDER, 24, False),
    # N.C.G.S. § 75-65(a): "without unreasonable delay".
    ("us-nc-75-65-residents", "US-NC", "individuals", {}, 720, True),
    # § 75-65(e1): a business that notifies an affected person "shall notify without unreasonable delay the
    # Consumer Protection Division" - whatever the number.
    ("us-nc-75-65-e1-ag", "US-NC", "regulator", {"affected": 1}, 720, True),
    # § 75-65(b): the owner "immediately following discovery".
    ("us-nc-75-65-b-owner", "US-NC", "controller", HOLDER, 24, True),
    # N.D.C.C. § 51-30-02: "in the most expedient time possible and without unreasonable delay".
    ("us-nd-51-30-02-residents", "US-ND", "individuals", {}, 720, True),
    # § 51-30-03: the owner "immediately following the discovery".
    ("us-nd-51-30-03-owner", "US-ND", "controller", HOLDER, 24, True),
    # Neb. Rev. Stat. § 87-803(3): "give notice to and cooperate with the owner" (unconfirmed: when, cut
    # off in the copy read).
    ("us-ne-87-803-owner", "US-NE", "controller", HOLDER, 24, False),
    # RSA 359-C:20, I(c): the owner "immediately following discovery".
    ("us-nh-359-c-20-owner", "US-NH", "controller", HOLDER, 24, True),
    # N.J.S.A. 56:8-163(b): the business it works for "immediately following discovery" (unconfirmed: from
    # summaries).
    ("us-nj-56-8-163-b-owner", "US-NJ", "controller", HOLDER, 24, False),
    # 24 O.S. § 163(B): the owner "as soon as practicable following discovery" (unconfirmed timing words).
    ("us-ok-24-163-owner", "US-OK", "controller", HOLDER, 24, False),
    # 73 P.S. § 2303(c): a vendor tells the entity "following discovery by the vendor" (unconfirmed).
    ("us-pa-73-2303-c-owner", "US-PA", "controller", HOLDER, 24, False),
    # S.C. Code § 39-1-90(A): "in the most expedient time possible and without unreasonable delay".
    ("us-sc-39-1-90-residents", "US-SC", "individuals", {}, 720, True),
    # § 39-1-90(B): the owner "immediately following discovery".
    ("us-sc-39-1-90-b-owner", "US-SC", "controller", HOLDER, 24, True),
    # Utah Code § 13-44-202(3): "immediately following the person's discovery of the breach if misuse ...
    # occurs or is reasonably likely to occur".
    ("us-ut-13-44-202-owner", "US-UT", "controller", HOLDER, 24, True),
    # Va. Code § 18.2-186.6(D): the owner "without unreasonable delay following discovery" (unconfirmed letter).
    ("us-va-18-2-186-6-owner", "US-VA", "controller", HOLDER, 24, False),
    # W. Va. Code § 46A-2A-102(c): the owner "as soon as practicable following discovery".
    ("us-wv-46a-2a-102-owner", "US-WV", "controller", HOLDER, 24, True),
    # Wyo. Stat. § 40-12-502(g): "as soon as practicable following the determination", counted from
    # discovery, its earliest reading (unconfirmed letter).
    ("us-wy-40-12-502-owner", "US-WY", "controller", HOLDER, 24, False),
    # 10 L.P.R.A. § 4052: clients "as expeditiously as possible"; Puerto Rico keeps AST (-4) all year.
    ("us-pr-ley-111-2005-citizens", "US-PR", "individuals", {}, 720, True),
    # § 4052: a reseller of access to data banks tells their proprietor; no time stated (24 h target).
    ("us-pr-ley-111-2005-owner", "US-PR", "controller", HOLDER, 24, True),
    # 9 GCA § 48.30(c): the owner "as soon as practicable following discovery" (unconfirmed). 09:00 ChST on
    # 2 March = 2026-03-01 23:00Z; + 24 h = 2026-03-02 23:00Z.
    ("us-gu-9-gca-48-30-owner", "US-GU", "controller", HOLDER, 24, False),
    # 14 V.I.C. §§ 2208-2209: "in the most expedient time possible and without unreasonable delay"
    # (unconfirmed for businesses: § 2208's text was read, § 2209's from summaries).
    ("us-vi-14-vic-2209-residents", "US-VI", "individuals", {}, 720, False),
    # § 2209: the owner "immediately following discovery" (unconfirmed: not read in § 2209 itself).
    ("us-vi-14-vic-2209-owner", "US-VI", "controller", HOLDER, 24, False),
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
    # Denver 09:00 MST = 16:00Z, + 24 h = 2026-03-03 16:00Z; Guam as above; San Juan 09:00 AST = 13:00Z,
    # + 720 h = 2026-04-01 13:00Z.
    assert due_by("US-MT", 24) == utc(2026, 3, 3, 16)
    assert due_by("US-GU", 24) == utc(2026, 3, 2, 23)
    assert due_by("US-PR", 720) == utc(2026, 4, 1, 13)


@pytest.mark.parametrize(
    ("rule_id", "code", "audience", "extra", "hours", "confirmed"), CASES, ids=[c[0] for c in CASES]
)
def test_owner_notices_bind_the_holder_and_the_rest_the_owner(
    rule_id, code, audience, extra, hours, confirmed
):
    # The owner notices bind whoever holds data it does not own or license; the others bind the owner.
    role = "controller" if audience == "controller" else "processor"
    a = assess(discovered(code, **{**extra, "acting_as": role}), CATALOGUE, now=NOW)
    assert rule_id not in {o.rule_id for o in a.obligations}
    assert refusal_of(a, rule_id) is not None


def test_utah_holder_is_excused_when_misuse_is_not_reasonably_likely():
    # § 13-44-202(3): only "if misuse of the personal information occurs or is reasonably likely to occur".
    a = assess(discovered("US-UT", risk="none", **HOLDER), CATALOGUE, now=NOW)
    assert "risk" in (refusal_of(a, "us-ut-13-44-202-owner") or "")
    assert obligation_of(
        assess(discovered("US-UT", risk="low", **HOLDER), CATALOGUE, now=NOW), "us-ut-13-44-202-owner"
    )


@pytest.mark.parametrize(
    ("rule_id", "code"),
    [
        # § 75-65(a): harm is in the definition of a breach, not a stated exception.
        ("us-nc-75-65-residents", "US-NC"),
        ("us-nc-75-65-e1-ag", "US-NC"),
        # § 51-30-02: any unauthorised acquisition of unsecured personal information is a breach.
        ("us-nd-51-30-02-residents", "US-ND"),
        # § 39-1-90(A): harm is part of the duty's definition, not a no-harm exception.
        ("us-sc-39-1-90-residents", "US-SC"),
        # § 4052: no risk-of-harm exception.
        ("us-pr-ley-111-2005-citizens", "US-PR"),
    ],
)
def test_without_a_stated_exception_a_risk_of_none_keeps_the_notice(rule_id, code):
    assert obligation_of(assess(discovered(code, risk="none"), CATALOGUE, now=NOW), rule_id)


# ---------------------------------------------------------------- New York, GBL § 899-aa(8)(a)


def new_york(aware: str):
    return base_facts(
        aware_at=aware, jurisdictions=[{"code": "US-NY", "affected": 1}], data_categories=["personal"]
    )


def test_new_york_state_agencies_within_30_days_of_discovery_for_a_single_resident():
    # § 899-aa(8)(a) as amended by S2659B (from 2024-12-21): whenever any New York resident is notified
    # (no count threshold: one resident is enough), the AG, the Department of State, the State Police and
    # DFS are told; the residents' 30-day limit of § 899-aa(2) is the outer due date. Discovered Monday
    # 2026-03-02 09:00 EST: 30 days after 2 March is 1 April; end of that day in New York, EDT since
    # 8 March: 2026-04-01 23:59:59 -04:00 = 2026-04-02 03:59:59Z.
    o = obligation_of(
        assess(new_york("2026-03-02T09:00:00-05:00"), CATALOGUE, now=NOW), "us-ny-gbl-899-aa-state-agencies"
    )
    assert o.audience == "regulator"
    assert o.due == utc(2026, 4, 2, 3, 59, 59)


def test_new_york_state_agencies_change_version_at_midnight_in_new_york():
    # Until 2024-12-20 the section set no time (target 72 h). Discovered 2024-12-20 23:30 EST (= 04:30Z on
    # the 21st): the New York day is still the 20th, so the earlier version applies, due 72 h later,
    # 2024-12-24 04:30Z, and the amended one does not.
    a = assess(new_york("2024-12-20T23:30:00-05:00"), CATALOGUE, now=NOW)
    o = obligation_of(a, "us-ny-gbl-899-aa-state-agencies-pre-2024")
    assert (o.audience, o.due) == ("regulator", utc(2024, 12, 24, 4, 30))
    assert o.term is not None
    assert refusal_of(a, "us-ny-gbl-899-aa-state-agencies") is not None
    # One hour later, 2024-12-21 00:30 EST: the amended version, 30 days after 21 December = 20 January
    # 2025, 23:59:59 EST = 2025-01-21 04:59:59Z; the earlier one no longer applies.
    b = assess(new_york("2024-12-21T00:30:00-05:00"), CATALOGUE, now=NOW)
    assert obligation_of(b, "us-ny-gbl-899-aa-state-agencies").due == utc(2025, 1, 21, 4, 59, 59)
    assert refusal_of(b, "us-ny-gbl-899-aa-state-agencies-pre-2024") is not None

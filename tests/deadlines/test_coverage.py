"""Coverage of the catalogue: covered, no_duty or gap; no-duty records and version chains validated."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from breachops.config.catalogue import Catalogue, check_versions
from breachops.config.coverage import Coverage
from breachops.config.jurisdictions import blocs_of, is_member
from breachops.config.rule_files import load_catalogue, load_rule_document
from breachops.config.zones import zone_of
from breachops.deadlines.engine import assess, window_end
from breachops.errors import InputError
from tests.deadlines.helpers import NOW, facts, rule

CATALOGUE = load_catalogue()


def test_a_state_is_a_gap_until_a_rule_of_its_own_exists_or_it_is_recorded_no_duty(tmp_path: Path):
    assert Coverage(CATALOGUE).of("US-IL").status == "covered"  # 815 ILCS 530/10
    # Without Illinois's own rules, the federal sector rules (HIPAA, SEC) do not tell Illinois's law.
    without = tuple(r for r in CATALOGUE.rules if r.jurisdiction != "US-IL")
    coverage = Coverage(Catalogue(without))
    assert coverage.of("US-CA").status == "covered"  # Cal. Civ. Code 1798.82
    assert coverage.of("US-IL").status == "gap"
    assert coverage.of("US-IL").rules > 0
    recorded = Catalogue(without, load_rule_document(_no_duty_file(tmp_path, "US-IL")).no_duty)
    assert Coverage(recorded).of("US-IL").status == "no_duty"


def test_a_subdivision_of_another_country_is_covered_by_its_country_and_blocs():
    coverage = Coverage(CATALOGUE)
    assert coverage.of("DE-BY").status == "covered"  # GDPR (EEA) reaches Bavaria
    assert coverage.of("NO").status == "covered"  # GDPR through the EEA Agreement
    assert coverage.of("AQ").status == "gap"


def test_the_coverage_table_lists_every_country_state_and_bloc():
    rows = {r.jurisdiction: r for r in Coverage(CATALOGUE).table(date(2026, 12, 1))}
    assert {"EU", "EEA", "DE", "BR", "US-IL", "US-DC", "US-PR", "US-GU", "US-VI", "CA-QC"} <= rows.keys()
    # ISO 3166-1's 249 countries, less the six US territories listed under their US codes (PR is US-PR).
    assert len([c for c in rows if "-" not in c and c not in ("EU", "EEA")]) == 249 - 6
    assert not {"PR", "GU", "VI", "AS", "MP", "UM"} & rows.keys()
    assert rows["EEA"].status == "covered" and rows["EEA"].reviewed is not None
    assert {r.status for r in rows.values()} <= {"covered", "no_duty", "gap"}


def test_bloc_membership_is_checked_on_the_local_date():
    # Croatia joined the EU on 2013-07-01; the UK's EU law ended with the transition on 2020-12-31.
    assert not is_member("EU", "HR", date(2013, 6, 30)) and is_member("EU", "HR", date(2013, 7, 1))
    assert is_member("EU", "GB", date(2020, 12, 31)) and not is_member("EU", "GB", date(2021, 1, 1))
    assert blocs_of("NO", date(2026, 1, 1)) == ("EEA",)
    assert set(blocs_of("IT", date(2026, 1, 1))) == {"EU", "EEA"}
    eu_rule = rule(id="xx-eu-rule", jurisdiction="EU")
    # 2013-06-30 22:30 UTC is already 00:30 on 1 July in Zagreb (CEST): Croatia is a member that day.
    joined = assess(facts(aware_at="2013-06-30T22:30:00Z", jurisdictions=["HR"]), [eu_rule], now=NOW)
    assert [o.rule_id for o in joined.obligations] == ["xx-eu-rule"]
    before = assess(facts(aware_at="2013-06-30T21:30:00Z", jurisdictions=["HR"]), [eu_rule], now=NOW)
    assert not before.obligations


def test_hungary_is_an_eu_member():
    assert is_member("EU", "HU", date(2026, 1, 1))


def test_a_day_window_without_a_zone_ends_in_the_jurisdictions_capital():
    assert zone_of("IT") == "Europe/Rome" and zone_of("US-IL") == "America/Chicago"
    assert zone_of("US") == "America/New_York" and zone_of("IN") == "Asia/Kolkata"
    days = rule(id="xx-days", jurisdiction="DE", window={"calendar_days": 3})
    a = assess(facts(aware_at="2026-03-02T10:00:00Z"), [days], now=NOW)
    # 3 days after 2 March is 5 March, ending 23:59:59 Berlin time (CET) = 22:59:59 UTC.
    assert a.obligations[0].due == datetime(2026, 3, 5, 22, 59, 59, tzinfo=UTC)


def test_a_bloc_rule_without_a_zone_keeps_the_earliest_end_among_the_member_states_concerned():
    days = rule(id="xx-bloc-days", jurisdiction="EU", window={"calendar_days": 3})
    f = facts(aware_at="2026-03-02T10:00:00Z", jurisdictions=["PT", "FI"])
    # Lisbon ends 5 March at 23:59:59 WET (23:59:59Z), Helsinki at 23:59:59 EET (21:59:59Z): the earlier.
    assert assess(f, [days], now=NOW).obligations[0].due == datetime(2026, 3, 5, 21, 59, 59, tzinfo=UTC)
    assert window_end(
        days.stages[0].window, datetime(2026, 3, 2, 10, tzinfo=UTC), "Europe/Lisbon"
    ) == datetime(2026, 3, 5, 23, 59, 59, tzinfo=UTC)


def test_contradicting_clocks_are_accepted_with_a_warning_naming_each_rules_clock():
    rules = [
        rule(id="xx-from-aware", clock="aware"),
        rule(id="xx-from-discovery", clock="discovered"),
        rule(id="xx-from-assessment", clock="assessed"),
    ]
    f = facts(
        aware_at="2026-03-02T10:00:00Z",
        discovered_at="2026-03-03T10:00:00Z",
        assessed_at="2026-03-01T10:00:00Z",
    )
    a = assess(f, rules, now=NOW)
    assert len(a.obligations) == 3
    later, earlier = a.warnings
    assert "discovered_at (2026-03-03 10:00 UTC) is after aware_at" in later
    assert "from discovery use discovered_at: xx-from-discovery" in later
    assert "from awareness use aware_at: xx-from-aware" in later
    assert "assessed_at (2026-03-01 10:00 UTC) is before aware_at" in earlier
    assert "use assessed_at: xx-from-assessment" in earlier


def _no_duty_file(tmp_path: Path, code: str, **extra: str) -> Path:
    path = tmp_path / f"no-duty-{code}.yaml"
    entry = {
        "jurisdiction": code,
        "source": "https://example.org/statute-index",
        "reviewed": "2026-12-01",
        "notes": "no general breach-notification statute",
        **extra,
    }
    body = "\n".join(
        f"    {k}: {v!r}" if k != "jurisdiction" else f"  - {k}: {v!r}" for k, v in entry.items()
    )
    path.write_text(f"rules: []\nno_duty:\n{body}\n", encoding="utf-8")
    return path


def test_no_duty_records_are_validated_with_file_field_and_value(tmp_path: Path):
    good = load_rule_document(_no_duty_file(tmp_path, "AQ", instead="voluntary guidance"))
    assert good.no_duty[0].jurisdiction == "AQ" and good.no_duty[0].instead == "voluntary guidance"
    bad = tmp_path / "bad.yaml"
    bad.write_text("no_duty:\n  - {jurisdiction: XX-NOPE, source: s, reviewed: 2026-12-01, notes: n}\n")
    with pytest.raises(InputError) as exc:
        load_rule_document(bad)
    assert (
        "bad.yaml" in str(exc.value) and "no_duty[0]" in str(exc.value) and "jurisdiction" in str(exc.value)
    )
    missing = tmp_path / "missing.yaml"
    missing.write_text("no_duty:\n  - {jurisdiction: AQ, reviewed: 2026-12-01, notes: n}\n")
    with pytest.raises(InputError, match="source"):
        load_rule_document(missing)


def test_a_newer_version_must_follow_the_end_of_the_earlier():
    old = rule(id="xx-old", in_force_until="2025-08-19")
    new = rule(id="xx-new", in_force_from="2025-08-20", replaces="xx-old")
    check_versions([old, new])
    overlapping = rule(id="xx-new", in_force_from="2025-08-19", replaces="xx-old")
    with pytest.raises(InputError, match="in force until 2025-08-19"):
        check_versions([old, overlapping])
    with pytest.raises(InputError, match="names no rule"):
        check_versions([rule(id="xx-new", in_force_from="2025-08-20", replaces="xx-missing")])
    with pytest.raises(InputError, match="needs in_force_until"):
        check_versions([rule(id="xx-old"), new])


def test_the_shipped_versions_form_chains():
    chain = CATALOGUE.versions(CATALOGUE.get("gb-pecr-reg5a-ico"))  # type: ignore[arg-type]
    assert [r.id for r in chain] == ["gb-pecr-reg5a-ico-2013", "gb-pecr-reg5a-ico"]

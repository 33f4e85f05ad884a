"""Keeping the catalogue current: reviews due, unconfirmed readings and announced amendments; what
changed between two sets of rule files; which rules a catalogue's fingerprint says changed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from breachops.config.catalogue import Catalogue
from breachops.config.fingerprint import fingerprint
from breachops.config.rule_diff import diff_rules, load_rule_set
from breachops.config.rule_models import NoDuty
from breachops.config.rule_review import parse_span, review
from breachops.errors import InputError
from tests.deadlines.helpers import rule

TODAY = date(2026, 12, 1)


def test_a_review_is_due_once_the_span_has_passed():
    catalogue = Catalogue((rule("xx-fresh", reviewed="2026-06-04"), rule("xx-stale", reviewed="2026-06-03")))
    found = review(catalogue, TODAY, timedelta(days=180))  # 2026-06-04 is 180 days before 2026-12-01
    assert [(f.rule, f.kind) for f in found] == [("xx-stale", "review_due")]
    assert found[0].detail == "last reviewed 181 days ago (more than 180)"
    assert review(catalogue, TODAY, timedelta(days=181)) == []


def test_an_unconfirmed_rule_is_listed_with_the_reason_its_note_gives():
    catalogue = Catalogue(
        (
            rule(
                "xx-a", reviewed="2026-12-01", confirmed=False, notes="72 hours. Unconfirmed: the\n  article."
            ),
            rule("xx-b", reviewed="2026-12-01", confirmed=False, notes=""),
        )
    )
    found = {f.rule: f for f in review(catalogue, TODAY)}
    assert found["xx-a"].kind == "unconfirmed" and found["xx-a"].detail == "the article."
    assert found["xx-b"].detail == "no note says why"


def test_an_announced_amendment_names_the_version_that_follows():
    old = rule("xx-v1", reviewed="2026-12-01", in_force_until="2027-03-31")
    new = rule("xx-v2", reviewed="2026-12-01", replaces="xx-v1", in_force_from="2027-04-01")
    past = rule("xx-v0", reviewed="2026-12-01", in_force_until="2026-11-30")
    found = review(Catalogue((old, new, past)), TODAY)
    assert [(f.rule, f.kind, f.detail) for f in found] == [
        ("xx-v1", "amendment", "in force until 2027-03-31; replaced by xx-v2 from 2027-04-01"),
        ("xx-v2", "amendment", "in force from 2027-04-01; replaces xx-v1"),
    ]
    assert review(Catalogue((old, new)), date(2027, 4, 1)) == []  # in force: no longer announced


@pytest.mark.parametrize(("text", "days"), [("180d", 180), ("26w", 182), ("90", 90)])
def test_spans_are_days_or_weeks(text: str, days: int):
    assert parse_span(text) == timedelta(days=days)


def test_a_bad_span_is_refused_naming_the_option():
    with pytest.raises(InputError, match=r"--older-than.*6 months"):
        parse_span("6 months")


RULE = """\
- id: xx-test
  jurisdiction: DE
  instrument: Test Act
  article: s 1
  title: Notify the test authority
  audience: regulator
  recipient: {recipient}
  clock: aware
  window: {{hours: {hours}}}
  applies_when: {{affected_at_least: {least}}}
  source: https://example.org/test-act
  reviewed: 2026-12-01
"""
NO_DUTY = """\
no_duty:
- jurisdiction: {code}
  source: https://example.org/no-duty
  reviewed: 2026-12-01
  notes: No general duty.
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_diff_names_each_changed_field_and_the_rules_and_records_added_and_removed(tmp_path: Path):
    old = _write(tmp_path / "old", "a.yaml", RULE.format(recipient="the authority", hours=72, least=500))
    _write(old, "b.yaml", NO_DUTY.format(code="AR"))
    new = _write(tmp_path / "new", "a.yaml", RULE.format(recipient="the authority", hours=24, least=250))
    _write(new, "b.yaml", NO_DUTY.format(code="UY"))
    _write(new, "c.yaml", RULE.format(recipient="x", hours=1, least=1).replace("xx-test", "xx-new"))

    diff = diff_rules(load_rule_set(old, "OLD"), load_rule_set(new, "NEW"))

    assert [r.id for r in diff.added] == ["xx-new"] and diff.removed == []
    assert [(c.field, c.old, c.new) for c in diff.changed["xx-test"]] == [
        ("applies_when.affected_at_least", 500, 250),
        ("window.hours", 72, 24),
    ]
    assert [n.jurisdiction for n in diff.no_duty_added] == ["UY"]
    assert [n.jurisdiction for n in diff.no_duty_removed] == ["AR"]
    assert not diff_rules(load_rule_set(old, "OLD"), load_rule_set(old, "OLD"))


def test_diff_refuses_a_path_that_is_no_rule_file_or_folder(tmp_path: Path):
    with pytest.raises(InputError, match="NEW"):
        load_rule_set(tmp_path / "missing", "NEW")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no rule files"):
        load_rule_set(tmp_path / "empty", "OLD")


def test_the_fingerprint_changes_with_any_field_and_names_what_changed():
    record = NoDuty(jurisdiction="AR", source="https://example.org", reviewed=TODAY, notes="none")
    before = fingerprint(Catalogue((rule("xx-a"), rule("xx-b")), (record,)))
    same = fingerprint(Catalogue((rule("xx-a"), rule("xx-b")), (record,)))
    after = fingerprint(Catalogue((rule("xx-a", window={"hours": 24}), rule("xx-c"))))
    assert same.value == before.value
    assert after.value != before.value
    assert after.changed_since(before.digests) == {
        "no_duty:AR": "removed",
        "rule:xx-a": "changed",
        "rule:xx-b": "removed",
        "rule:xx-c": "added",
    }

"""`rules review`, `rules diff` and what `rules list --format json` shows of every rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deadlines.test_catalogue_targets import US

RULE = """\
- id: {id}
  jurisdiction: DE
  instrument: Test Act
  article: s 1
  title: Notify the test authority
  audience: regulator
  recipient: test authority
  clock: aware
  window: {{hours: {hours}}}
  source: https://example.org/test-act
  reviewed: {reviewed}
  confirmed: {confirmed}
  notes: "Unconfirmed: read from a summary only."
"""


@pytest.fixture
def cli(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"BREACHOPS_WORKSPACE": str(tmp_path / "ws"), "COLUMNS": "200"})

    def run(*args: str, rule_files: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breachops", *args],
            env={**env, "BREACHOPS_RULE_FILES": rule_files} if rule_files else env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_review_lists_a_stale_and_an_unconfirmed_workspace_rule_as_of_now(cli, tmp_path: Path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        RULE.format(id="xx-stale", hours=72, reviewed="2026-01-01", confirmed="true")
        + RULE.format(id="xx-unsure", hours=72, reviewed="2026-11-30", confirmed="false"),
        encoding="utf-8",
    )
    result = cli("rules", "review", "--now", "2026-12-01T09:00:00Z", "--format", "json", rule_files=str(mine))
    assert result.returncode == 0, result.stderr
    found = {(f["rule"], f["kind"]): f for f in json.loads(result.stdout)}
    assert found[("xx-stale", "review_due")] == {
        "rule": "xx-stale",
        "jurisdiction": "DE",
        "kind": "review_due",
        "reviewed": "2026-01-01",
        "detail": "last reviewed 334 days ago (more than 180)",
    }
    assert found[("xx-unsure", "unconfirmed")]["detail"] == "read from a summary only."
    assert ("xx-unsure", "review_due") not in found
    # A longer span: the January review is not yet due.
    later = cli("rules", "review", "--now", "2026-12-01T09:00:00Z", "--older-than", "52w", "--format", "json",
                rule_files=str(mine))  # fmt: skip
    assert ("xx-stale", "review_due") not in {(f["rule"], f["kind"]) for f in json.loads(later.stdout)}


def test_review_refuses_a_bad_span_with_status_2(cli):
    result = cli("rules", "review", "--older-than", "soon")
    assert result.returncode == 2
    assert "--older-than" in result.stderr and "soon" in result.stderr


def test_diff_reports_a_changed_window_and_exits_0(cli, tmp_path: Path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(
        RULE.format(id="xx-a", hours=72, reviewed="2026-12-01", confirmed="true"), encoding="utf-8"
    )
    new.write_text(
        RULE.format(id="xx-a", hours=24, reviewed="2026-12-01", confirmed="true"), encoding="utf-8"
    )
    result = cli("rules", "diff", str(old), str(new), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["changed"] == [
        {"rule": "xx-a", "jurisdiction": "DE", "fields": [{"field": "window.hours", "old": 72, "new": 24}]}
    ]
    assert data["added"] == data["removed"] == data["no_duty_added"] == data["no_duty_removed"] == []
    table = cli("rules", "diff", str(old), str(new))
    assert table.returncode == 0 and "window.hours" in table.stdout


def test_diff_of_a_malformed_file_exits_2_naming_file_field_and_value(cli, tmp_path: Path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(
        RULE.format(id="xx-a", hours=72, reviewed="2026-12-01", confirmed="true"), encoding="utf-8"
    )
    bad.write_text(
        RULE.format(id="xx-a", hours=-3, reviewed="2026-12-01", confirmed="true"), encoding="utf-8"
    )
    result = cli("rules", "diff", str(good), str(bad))
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr and "hours" in result.stderr and "-3" in result.stderr
    nowhere = tmp_path / "nowhere"
    missing = cli("rules", "diff", str(good), str(nowhere))
    # The whole path, however long the temporary folder's name: a cut one would not say which it is.
    assert missing.returncode == 2 and f"NEW: '{nowhere}' is neither" in missing.stderr


def test_rules_list_json_shows_source_citation_and_review_of_every_rule(cli):
    result = cli("rules", "list", "--format", "json")
    assert result.returncode == 0, result.stderr
    rules = json.loads(result.stdout)
    assert len(rules) > 200
    for r in rules:
        assert r["source"].startswith("https://"), r["id"]
        assert r["citation"].strip(), r["id"]
        assert len(r["reviewed"]) == 10, r["id"]  # an ISO date


def test_deadlines_for_a_thousand_residents_in_each_us_jurisdiction_name_each_of_them(cli, tmp_path: Path):
    facts = tmp_path / "us.json"
    facts.write_text(
        json.dumps(
            {
                "aware_at": "2026-11-20T10:00:00-05:00",
                "jurisdictions": [{"code": c, "affected": 1000} for c in US],
                "data_categories": ["personal"],
            }
        ),
        encoding="utf-8",
    )
    result = cli("deadlines", str(facts), "--format", "json", "--now", "2026-11-25T00:00:00Z", "--strict")
    assert result.returncode == 0, result.stderr  # --strict: no gap among them
    reached = {o["jurisdiction"] for o in json.loads(result.stdout)}
    assert [c for c in US if c not in reached] == []

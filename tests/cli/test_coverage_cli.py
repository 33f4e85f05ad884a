"""What the CLI says of jurisdictions the catalogue knows nothing of, and of the catalogue's coverage.

A gap is named plainly: a warning panel in the table, one line per code on standard error beside JSON
(standard output stays parseable), exit status 3 under --strict, and an audit event on incident open.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOW = "2026-11-25T12:00:00Z"
GAP = "no rules known for US-AS: obligations there are unknown"
SAMOA = """\
aware_at: 2026-11-23T10:00:00-06:00
jurisdictions:
  - {code: US-AS, affected: 40}
  - {code: DE, affected: 3}
data_categories: [personal]
"""


@pytest.fixture
def cli(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"BREACHOPS_WORKSPACE": str(tmp_path / "ws"), "COLUMNS": "200"})

    def run(*args: str, **more_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breachops", *args],
            env={**env, **more_env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    (tmp_path / "samoa.yaml").write_text(SAMOA, encoding="utf-8")
    return run


def test_a_gap_is_named_in_the_table_on_stderr_beside_json_and_fails_strict(cli):
    table = cli("deadlines", "samoa.yaml", "--now", NOW)
    assert table.returncode == 0, table.stderr
    assert GAP in table.stdout
    assert "no agreement: contractual duties not included" in table.stdout

    as_json = cli("deadlines", "samoa.yaml", "--now", NOW, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)  # standard output unchanged: JSON only
    assert {r["rule"] for r in rows} >= {"eu-gdpr-art33-authority"}
    lines = as_json.stderr.strip().splitlines()
    assert f"warning: {GAP}" in lines
    assert "warning: no agreement: contractual duties not included" in lines

    ics = cli("deadlines", "samoa.yaml", "--now", NOW, "--format", "ics")
    assert ics.stdout.startswith("BEGIN:VCALENDAR") and f"warning: {GAP}" in ics.stderr

    strict = cli("deadlines", "samoa.yaml", "--now", NOW, "--format", "json", "--strict")
    assert strict.returncode == 3
    assert json.loads(strict.stdout) == rows


def test_in_a_workspace_deadlines_uses_its_agreement_and_incident_open_audits_the_gap(cli, tmp_path: Path):
    assert cli("init").returncode == 0
    result = cli("deadlines", "samoa.yaml", "--now", NOW, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert any(r["kind"] == "contract" for r in json.loads(result.stdout))
    assert "no agreement" not in result.stderr

    opened = cli("incident", "open", "samoa.yaml", "--no-flow", "--format", "json")
    assert opened.returncode == 0, opened.stderr
    assert f"warning: {GAP}" in opened.stderr.splitlines()
    incident = json.loads(opened.stdout)["incident"]
    with sqlite3.connect(tmp_path / "ws" / "breachops.db") as db:
        payloads = [
            json.loads(p)
            for (p,) in db.execute(
                "SELECT payload FROM audit_events WHERE incident_id = ? AND kind = 'coverage.gap'",
                (incident,),
            )
        ]
    assert [p["jurisdictions"] for p in payloads] == [["US-AS"]]

    shown = cli("incident", "show", incident)
    assert GAP in shown.stdout


def test_rules_coverage_lists_every_jurisdiction_with_its_status(cli):
    result = cli("rules", "coverage", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {r["jurisdiction"]: r for r in json.loads(result.stdout)}
    assert set(next(iter(rows.values()))) == {"jurisdiction", "name", "status", "rules", "reviewed"}
    assert rows["US-AS"]["status"] == "gap" and rows["US-AS"]["name"] == "American Samoa"
    assert rows["US-CA"]["status"] == "covered" and rows["US-CA"]["reviewed"]
    assert rows["NO"]["status"] == "covered"  # the GDPR, through the EEA Agreement
    assert {"EU", "EEA", "US-DC", "US-PR", "US-GU", "US-VI"} <= rows.keys()
    # A territory's country code means its US code in facts, so it is listed once, under that code:
    # PR is not also a gap beside a covered US-PR.
    assert not {"PR", "GU", "VI", "AS", "MP", "UM"} & rows.keys()


def test_a_territory_written_as_a_country_code_is_its_us_subdivision(cli, tmp_path: Path):
    (tmp_path / "territories.yaml").write_text(
        SAMOA.replace("US-AS", "AS").replace("{code: DE, affected: 3}", "{code: PR, affected: 3}"),
        encoding="utf-8",
    )
    said = cli("deadlines", "territories.yaml", "--now", NOW, "--format", "json")
    assert said.returncode == 0, said.stderr
    assert f"warning: {GAP}" in said.stderr.splitlines()  # AS is American Samoa: US-AS, a gap
    assert {r["jurisdiction"] for r in json.loads(said.stdout)} == {"US-PR"}


def test_rules_show_gives_the_chain_of_versions(cli):
    result = cli("rules", "show", "gb-pecr-reg5a-ico", "--format", "json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["replaces"] == "gb-pecr-reg5a-ico-2013"
    assert [v["id"] for v in shown["versions"]] == ["gb-pecr-reg5a-ico-2013", "gb-pecr-reg5a-ico"]
    assert shown["versions"][0]["in_force"].endswith("to 2025-08-19")


def test_coverage_shows_a_no_duty_records_notes_as_written_never_as_markup(cli, tmp_path: Path):
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        "no_duty:\n- jurisdiction: TV\n  source: https://example.org/tv\n  reviewed: 2026-12-01\n"
        '  notes: "[/x] [b]boom[/b]"\n',
        encoding="utf-8",
    )
    result = cli("rules", "coverage", BREACHOPS_RULE_FILES=str(mine))
    assert result.returncode == 0, result.stderr
    assert "recorded: [/x] [b]boom[/b]" in result.stdout

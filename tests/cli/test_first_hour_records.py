"""Safe record-keeping from the command line: counts per jurisdiction updated by code, a malformed
count refused naming the value and the form, and a close that names what is still owed."""

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
OWED = "('pending', 'overdue', 'awaiting', 'missed')"  # still owed, as opposed to met, waived, withdrawn


@pytest.fixture
def ws(tmp_path: Path):
    path = tmp_path / ".breachops"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"COLUMNS": "200", "PYTHONPATH": str(ROOT)})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breachops", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert cli("init").returncode == 0
    opened = cli("incident", "open", str(EXAMPLES / "facts.yaml"), "--no-flow", "--format", "json")
    assert opened.returncode == 0, opened.stderr
    return path, cli, json.loads(opened.stdout)["incident"]


def jurisdictions(path: Path, incident: str) -> dict[str, int | None]:
    with sqlite3.connect(path / "breachops.db") as db:
        (facts,) = db.execute("SELECT facts FROM incidents WHERE id = ?", (incident,)).fetchone()
    return {j["code"]: j.get("affected") for j in json.loads(facts)["jurisdictions"]}


def rows(path: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(path / "breachops.db") as db:
        return db.execute(sql, args).fetchall()


def test_set_jurisdictions_updates_the_named_entry_and_keeps_the_others(ws):
    path, cli, incident = ws
    result = cli("incident", "facts", incident, "--set", "jurisdictions=DE=12")
    assert result.returncode == 0, result.stderr
    # examples/facts.yaml: BR 5400, DE 1200, US-CA 640, US-NY unknown; only Germany's count changes.
    assert jurisdictions(path, incident) == {"BR": 5400, "DE": 12, "US-CA": 640, "US-NY": None}


def test_replace_makes_the_given_list_the_whole_list(ws):
    path, cli, incident = ws
    result = cli("incident", "facts", incident, "--set", "jurisdictions=DE=12,FR=3", "--replace")
    assert result.returncode == 0, result.stderr
    assert jurisdictions(path, incident) == {"DE": 12, "FR": 3}


def test_a_malformed_count_is_refused_naming_the_value_and_the_form(ws):
    path, cli, incident = ws
    before = rows(path, "SELECT count(*) FROM fact_events")
    result = cli("incident", "facts", incident, "--set", "jurisdictions=US-TX:1500")
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert "US-TX:1500" in line and "CODE=COUNT" in line
    assert rows(path, "SELECT count(*) FROM fact_events") == before
    assert jurisdictions(path, incident)["BR"] == 5400


def test_close_names_the_obligations_not_met_and_refuses(ws):
    path, cli, incident = ws
    owed = [k for (k,) in rows(path, f"SELECT key FROM obligations WHERE status IN {OWED} ORDER BY key")]
    assert owed  # the example facts owe notices
    result = cli("incident", "close", incident, "--reason", "contained")
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert "--accept-pending" in line
    assert all(key in line for key in owed), line
    assert rows(path, "SELECT status FROM incidents WHERE id = ?", incident) == [("open",)]


def test_close_with_accept_pending_records_them_as_closed_unmet(ws):
    path, cli, incident = ws
    owed = {k for (k,) in rows(path, f"SELECT key FROM obligations WHERE status IN {OWED}")}
    result = cli("incident", "close", incident, "--reason", "contained", "--accept-pending")
    assert result.returncode == 0, result.stderr
    assert rows(path, "SELECT status FROM incidents WHERE id = ?", incident) == [("closed",)]
    unmet = {k for (k,) in rows(path, "SELECT key FROM obligations WHERE status = 'closed-unmet'")}
    assert unmet == owed
    assert not rows(path, f"SELECT key FROM obligations WHERE status IN {OWED}")
    shown = cli("incident", "show", incident, "--format", "json")
    assert shown.returncode == 0, shown.stderr
    statuses = {o["key"]: o["status"] for o in json.loads(shown.stdout)["obligations"]}
    assert {statuses[k] for k in owed} == {"closed-unmet"}


def _bare(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"COLUMNS": "200", "PYTHONPATH": str(ROOT)})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breachops", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    return cli


def _broken_agreement(tmp_path: Path) -> Path:
    text = (EXAMPLES / "agreement.yaml").read_text(encoding="utf-8")
    assert "governing_law: DE" in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("governing_law: DE", "governing_law: XX-NOWHERE"), encoding="utf-8")
    return broken


def test_agreement_check_accepts_the_example_and_refuses_a_broken_one_naming_file_field_value(tmp_path):
    cli = _bare(tmp_path)
    good = cli("agreement", "check", str(EXAMPLES / "agreement.yaml"), "--format", "json")
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["valid"] is True
    broken = _broken_agreement(tmp_path)
    result = cli("agreement", "check", str(broken))
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert str(broken) in line and "governing_law" in line and "XX-NOWHERE" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.yaml"]  # nothing written


def test_agreement_check_refuses_what_incident_open_refuses(ws, tmp_path):
    path, cli, _ = ws
    broken = _broken_agreement(tmp_path)
    checked = cli("agreement", "check", str(broken))
    opened = cli("incident", "open", str(EXAMPLES / "facts.yaml"), "--agreement", str(broken), "--no-flow")
    assert checked.returncode == opened.returncode == 2
    assert checked.stderr.strip() == opened.stderr.strip()
    assert rows(path, "SELECT count(*) FROM incidents") == [(1,)]


def test_deadlines_refuses_a_broken_workspace_agreement_naming_file_field_value(ws, tmp_path):
    path, cli, _ = ws
    agreement = path / "agreement.yaml"
    agreement.write_text(_broken_agreement(tmp_path).read_text(encoding="utf-8"), encoding="utf-8")
    result = cli("deadlines", str(EXAMPLES / "facts.yaml"))
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    assert "agreement.yaml" in line and "governing_law" in line and "XX-NOWHERE" in line

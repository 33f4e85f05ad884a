"""Incident commands refuse bad input with one clear line and exit status 2, storing nothing.

These run without a Prefect server (`--no-flow`): what they check happens before any flow starts.
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


@pytest.fixture
def workspace(tmp_path: Path):
    path = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"BREACHOPS_WORKSPACE": str(path), "COLUMNS": "200"})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breachops", *args], env=env, capture_output=True, text=True, timeout=120
        )

    assert cli("init").returncode == 0
    return path, cli


def counts(path: Path) -> tuple[int, ...]:
    with sqlite3.connect(path / "breachops.db") as db:
        return tuple(
            db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("incidents", "fact_events", "steps", "obligations", "audit_events")
        )


def open_one(cli) -> str:
    result = cli("incident", "open", str(EXAMPLES / "facts.yaml"), "--no-flow", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["incident"]


def assert_refused(result, *needles: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    for needle in needles:
        assert needle in line, line


def test_init_then_open_records_an_incident_with_steps_and_obligations(workspace):
    _, cli = workspace
    incident = open_one(cli)
    shown = json.loads(cli("incident", "show", incident, "--format", "json").stdout)
    assert shown["id"] == incident and shown["status"] == "open"
    assert len(shown["steps"]) == 15
    assert {o["rule"] for o in shown["obligations"]} >= {
        "eu-gdpr-art33-authority",
        "contract-receiving-to-disclosing",
    }
    listed = json.loads(cli("incident", "list", "--format", "json").stdout)
    assert [i["id"] for i in listed] == [incident]
    gate = next(s for s in shown["steps"] if s["step"] == "preserve-evidence")["gate"]
    assert gate["fields"]["legal_hold"]["type"] == "bool"


def test_show_tells_each_waiting_person_the_command_that_answers_their_gate(workspace):
    path, cli = workspace
    incident = open_one(cli)
    with sqlite3.connect(path / "breachops.db") as db:  # as the flow marks them when it suspends
        db.execute("UPDATE steps SET status = 'waiting' WHERE step_id = 'preserve-evidence'")
    table = cli("incident", "show", incident).stdout
    assert f"breachops step done {incident} preserve-evidence --by lars.hoffmann@nordlicht.example" in table
    assert "--set 'legal_hold=yes'" in table and "# legal_hold: yes or no" in table


def test_a_malformed_playbook_is_refused_naming_file_and_step_and_nothing_is_stored(workspace):
    path, cli = workspace
    playbook = path / "playbooks" / "confidential-information-leak.yaml"
    text = playbook.read_text().replace(
        "role: security, party: receiving}", "role: janitor, party: receiving}", 1
    )
    playbook.write_text(text)
    before = counts(path) if (path / "breachops.db").exists() else None
    result = cli("incident", "open", str(EXAMPLES / "facts.yaml"), "--no-flow")
    assert_refused(result, str(playbook), "freeze-access", "janitor")
    if before is not None:
        assert counts(path) == before


def test_a_cyclic_playbook_names_the_cycle(workspace):
    path, cli = workspace
    playbook = path / "playbooks" / "confidential-information-leak.yaml"
    text = playbook.read_text().replace(
        "      owner: {role: security, party: receiving}\n      due: {from: opened, hours: 2}",
        "      owner: {role: security, party: receiving}\n      due: {from: opened, hours: 2}\n"
        "      depends_on: [preserve-evidence]",
        1,
    )
    text = text.replace(
        "      owner: {role: security, party: both}\n      due: {from: opened, hours: 4}",
        "      owner: {role: security, party: both}\n      due: {from: opened, hours: 4}\n"
        "      depends_on: [freeze-access]",
        1,
    )
    playbook.write_text(text)
    result = cli("incident", "open", str(EXAMPLES / "facts.yaml"), "--no-flow")
    assert_refused(result, str(playbook), "freeze-access", "preserve-evidence")


def test_unknown_incident_and_unknown_step_are_refused(workspace):
    path, cli = workspace
    incident = open_one(cli)
    assert_refused(cli("incident", "show", "INC-2026-9999"), "INC-2026-9999", "breachops incident list")
    before = counts(path)
    assert_refused(
        cli("step", "done", incident, "freeze-acess", "--by", "tiago.rocha@horizonte.example"),
        "freeze-acess",
        "Did you mean freeze-access",
    )
    assert counts(path) == before


def test_a_gate_answer_of_the_wrong_type_is_refused_and_nothing_is_stored(workspace):
    path, cli = workspace
    incident = open_one(cli)
    before = counts(path)
    result = cli(
        "step", "done", incident, "preserve-evidence", "--by", "tiago.rocha@horizonte.example",
        "--set", "evidence_links=https://evidence.example/1", "--set", "legal_hold=perhaps",
    )  # fmt: skip
    assert_refused(result, "preserve-evidence.legal_hold", "perhaps")
    assert counts(path) == before
    shown = json.loads(cli("incident", "show", incident, "--format", "json").stdout)
    assert [s["status"] for s in shown["steps"] if s["step"] == "preserve-evidence"] == ["pending"]


def test_a_step_that_is_not_ready_or_a_stranger_is_refused(workspace):
    path, cli = workspace
    incident = open_one(cli)
    before = counts(path)
    assert_refused(
        cli("step", "done", incident, "assess-notifiability", "--by", "encarregado@horizonte.example"),
        "not ready",
        "scope-disclosure",
    )
    assert_refused(
        cli("step", "done", incident, "freeze-access", "--by", "mallory@elsewhere.example"),
        "mallory@elsewhere.example",
        "agreement",
    )
    assert counts(path) == before


def test_bad_facts_on_an_open_incident_are_refused_and_change_nothing(workspace):
    path, cli = workspace
    incident = open_one(cli)
    before = counts(path)
    assert_refused(cli("incident", "facts", incident, "--set", "risk=extreme"), "risk", "extreme")
    assert_refused(cli("incident", "facts", incident, "--set", "jurisdictions=DE=-4"), "-4")
    assert_refused(
        cli("incident", "facts", incident, "--set", "material_at=2026-11-25T10:00:00"), "material_at"
    )
    assert counts(path) == before
    changed = cli(
        "incident", "facts", incident, "--set", "material_at=2026-11-25T10:00:00-05:00", "--format", "json"
    )
    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["changed"] == {"material_at": "2026-11-25T15:00:00Z"}
    assert counts(path) != before


def test_closing_needs_a_reason_and_a_closed_incident_takes_no_answers(workspace):
    _, cli = workspace
    incident = open_one(cli)
    assert (
        cli(
            "incident",
            "close",
            incident,
            "--reason",
            "false alarm: the repository was our own",
            "--accept-pending",
        ).returncode
        == 0
    )
    assert_refused(
        cli("step", "done", incident, "freeze-access", "--by", "tiago.rocha@horizonte.example"), "closed"
    )
    assert json.loads(cli("incident", "list", "--format", "json").stdout) == []
    assert len(json.loads(cli("incident", "list", "--all", "--format", "json").stdout)) == 1


def test_show_counts_the_incidents_mail_by_state_and_lists_what_is_not_sent(workspace):
    path, cli = workspace
    incident = open_one(cli)  # opening queues `incident_opened` to both parties' incident teams
    with sqlite3.connect(path / "breachops.db") as db:  # one delivered, one failed for good
        ids = [
            r[0] for r in db.execute("SELECT id FROM messages WHERE incident_id = ? ORDER BY id", (incident,))
        ]
        db.execute("UPDATE messages SET status = 'sent' WHERE id = ?", (ids[0],))
        db.execute(
            "UPDATE messages SET status = 'failed', last_error = 'relay refused' WHERE id = ?", (ids[1],)
        )
    shown = json.loads(cli("incident", "show", incident, "--format", "json").stdout)["messages"]
    assert shown["total"] == len(ids) >= 2
    assert shown["counts"]["sent"] == 1 and shown["counts"]["failed"] == 1
    assert shown["counts"]["queued"] == len(ids) - 2
    not_sent = {m["id"]: m for m in shown["not_sent"]}
    assert ids[0] not in not_sent and not_sent[ids[1]]["last_error"] == "relay refused"
    table = cli("incident", "show", incident).stdout
    assert "relay refused" in table

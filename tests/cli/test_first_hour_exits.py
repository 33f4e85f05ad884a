"""A newcomer's first hour, scripting: every refusal exits with status 2 and one `error:` line on
standard error, across command groups, and leaves the store as it was; status 1 is kept for a check
that fails (`audit verify`), 3 for `deadlines --strict` finding a gap, 4 for a service that is away."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import test_hostile_input as hostile
from tests.cli.test_hostile_input import FACTS, dump, open_incident, run_cli

workspace = hostile.sqlite_workspace  # a fresh workspace made by `breachops init`

LEAD = "rafael.costa@horizonte.example"
UNKNOWN_INC, UNKNOWN_DRL = "INC-2099-9999", "DRL-2099-9999"

# (what a person got wrong, the command): an unknown id, a bad value, a missing file, a bad option.
REFUSALS: list[tuple[str, tuple[str, ...]]] = [
    ("unknown incident", ("incident", "show", UNKNOWN_INC)),
    ("unknown incident", ("incident", "close", UNKNOWN_INC, "--reason", "x")),
    ("unknown incident", ("step", "done", UNKNOWN_INC, "freeze-access", "--by", LEAD)),
    ("unknown incident", ("obligation", "waive", UNKNOWN_INC, "x/y", "--by", LEAD, "--reason", "r")),
    ("unknown incident", ("audit", "verify", UNKNOWN_INC)),
    ("unknown incident", ("audit", "export", UNKNOWN_INC)),
    ("unknown incident", ("outbox", "list", "--incident", UNKNOWN_INC)),
    ("unknown drill", ("drill", "show", UNKNOWN_DRL)),
    ("unknown drill", ("drill", "advance", UNKNOWN_DRL, "--for", "1h")),
    ("unknown drill", ("drill", "report", UNKNOWN_DRL)),
    ("unknown schedule", ("drill", "unschedule", "999")),
    ("unknown message", ("outbox", "show", "999")),
    ("unknown rule", ("rules", "show", "no-such-rule")),
    ("unknown scenario", ("drill", "pack", "no-such-scenario")),
    ("unknown playbook", ("incident", "open", FACTS, "--playbook", "no-such", "--no-flow")),
    ("bad value", ("incident", "facts", "{incident}", "--set", "risk=extreme")),
    ("bad value", ("incident", "facts", "{incident}", "--set", "jurisdictions=US-TX:1500")),
    ("bad value", ("deadlines", FACTS, "--now", "yesterday")),
    ("bad value", ("rules", "list", "--jurisdiction", "XX-ZZ")),
    ("bad value", ("notify", "test", "--to", "not-an-email")),
    ("bad value", ("serve", "--poll", "0")),
    ("unknown step", ("step", "done", "{incident}", "no-such-step", "--by", LEAD)),
    ("not a contact", ("incident", "close", "{incident}", "--reason", "x", "--by", "m@elsewhere.example")),
    ("missing file", ("incident", "open", "/no/such/facts.yaml", "--no-flow")),
    ("missing file", ("deadlines", "/no/such/facts.yaml")),
    ("missing file", ("agreement", "check", "/no/such/agreement.yaml")),
    ("missing file", ("rules", "check", "/no/such/rules.yaml")),
    ("missing file", ("audit", "verify", "{incident}", "--witness", "/no/such/message.eml")),
    ("missing file", ("drill", "msel", "import", "/no/such.csv", "--format", "csv", "--output", "x.yaml")),
    ("bad option", ("incident", "list", "--format", "xml")),
    ("bad option", ("incident", "frobnicate")),
]


@pytest.mark.parametrize(("why", "args"), REFUSALS, ids=[" ".join(a[:2]) + f" ({w})" for w, a in REFUSALS])
def test_a_refusal_exits_2_with_one_error_line_and_changes_nothing(
    workspace: Path, why: str, args: tuple[str, ...]
) -> None:
    incident = open_incident()
    before = dump(workspace)
    code, out, err = run_cli(*(a.replace("{incident}", incident) for a in args))
    assert code == 2, (why, code, err)
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1, (why, err)
    assert "Traceback" not in out + err
    assert dump(workspace) == before


def test_a_second_serve_is_a_refusal(workspace: Path) -> None:
    from breachops.flows.serve_record import acquire_serve_lock

    held = acquire_serve_lock(workspace)  # as a running `serve` holds it
    try:
        code, _, err = run_cli("serve")
    finally:
        held.close()
    assert code == 2, err
    assert err.startswith("error:") and "already runs" in err


def test_a_failed_check_exits_1_and_a_gap_under_strict_3(workspace: Path, tmp_path: Path) -> None:
    import sqlite3

    incident = open_incident()
    with sqlite3.connect(workspace / "breachops.db") as db:  # someone edits the record behind its back
        db.execute("UPDATE audit_events SET payload = '{}' WHERE seq = 1 AND incident_id = ?", (incident,))
    code, _, err = run_cli("audit", "verify", incident)
    assert code == 1, err
    gap = tmp_path / "gap.yaml"
    gap.write_text("aware_at: 2026-11-24T16:30:00-03:00\njurisdictions: [{code: US-AS, affected: 40}]\n")
    code, _, err = run_cli("deadlines", str(gap), "--strict", "--format", "json")
    assert code == 3, err


def test_a_prefect_that_does_not_answer_exits_4_before_anything_is_recorded(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not a refusal of what was typed, nor a failed check: a service is away. Scripts retry on 4.
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens on port 9
    before = dump(workspace)
    code, _, err = run_cli("drill", "run", "subcontractor-source-leak", "--simulate", "--detach")
    assert code == 4, err
    assert err.startswith(
        "error: the Prefect API at http://127.0.0.1:9/api (PREFECT_API_URL) does not answer"
    )
    assert len(err.strip().splitlines()) == 1
    assert "to use a local one. What was recorded stays recorded; try again once it answers." in err
    assert dump(workspace) == before


def test_an_answer_whose_run_cannot_be_woken_is_kept_and_says_serve_wakes_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    incident = open_incident()
    with sqlite3.connect(workspace / "breachops.db") as db:  # as if its playbook had started
        db.execute("UPDATE incidents SET flow_run_id = 'run-away' WHERE id = ?", (incident,))
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    code, out, err = run_cli("step", "done", incident, "freeze-access", "--by", LEAD)
    assert code == 0, err
    assert (
        "answer recorded; the playbook could not be woken now" in out + err
        and "`serve` wakes it" in out + err
    )
    with sqlite3.connect(workspace / "breachops.db") as db:
        status = db.execute(
            "SELECT status FROM steps WHERE incident_id = ? AND step_id = 'freeze-access'", (incident,)
        ).fetchone()
    assert status == ("done",)

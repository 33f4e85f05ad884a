"""A newcomer's first hour: each flag means one thing, refusals say `error:` with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import test_hostile_input as hostile
from tests.cli.test_hostile_input import assert_refused, dump, run_cli, start_drill

workspace = hostile.sqlite_workspace  # a fresh workspace made by `breachops init`


def test_drill_advance_takes_a_span_with_for(workspace: Path) -> None:
    drill = start_drill(workspace)
    code, out, err = run_cli("drill", "advance", drill, "--for", "2h", "--by", "facilitator@example.org")
    assert code == 0, err
    assert "scenario time now" in out


def test_drill_advance_refuses_a_span_given_to_by_and_points_at_for(workspace: Path) -> None:
    drill = start_drill(workspace)
    before = dump(workspace)
    result = run_cli("drill", "advance", drill, "--by", "2h")
    assert_refused(result, "error:", "--by", "--for 2h")
    assert dump(workspace) == before


def test_outbox_show_of_an_unknown_number_is_a_refusal(workspace: Path) -> None:
    assert_refused(run_cli("outbox", "show", "999"), "error:", "999")


def test_incident_and_drill_ids_match_whatever_their_case(workspace: Path) -> None:
    incident = hostile.open_incident()
    code, out, err = run_cli("incident", "show", incident.lower(), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["id"] == incident
    code, out, err = run_cli("audit", "verify", incident.lower())
    assert code == 0, err
    code, out, err = run_cli("outbox", "list", "--incident", incident.lower(), "--format", "json")
    assert code == 0, err
    assert {row["incident"] for row in json.loads(out)} == {incident}
    drill = start_drill(workspace)
    code, out, err = run_cli("drill", "advance", drill.lower(), "--for", "1h")
    assert code == 0, err
    assert drill in out


def test_no_id_or_email_is_cut_in_tables_at_80_columns(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from breachops.commands import common

    incident = hostile.open_incident()
    start_drill(workspace)
    monkeypatch.setattr(common.out, "width", 80)
    for args in (
        ("incident", "list", "--drills"),
        ("incident", "show", incident),
        ("outbox", "list"),
        ("drill", "list"),
        ("deadlines", hostile.FACTS),
    ):
        code, out, err = run_cli(*args)
        assert code == 0, (args, err)
        tables = out.split("Timeline")[0]  # the timeline's labels are a chart's, not cells
        assert "…" not in tables, (args, tables)
        assert max(map(len, out.splitlines())) <= 80, args


def test_fact_values_and_dues_print_as_people_write_them() -> None:
    from datetime import UTC, datetime

    from breachops.reports.values import human_due, human_value

    assert human_value([{"code": "FR", "affected": 320}, {"code": "DE", "affected": 120}]) == "FR 320, DE 120"
    assert human_value(["personal", "trade_secret"]) == "personal, trade_secret"
    assert human_value(True) == "yes"
    assert human_due(None) == "not yet started"
    assert human_due(datetime(2026, 11, 27, 19, 30, tzinfo=UTC)) == "2026-11-27 19:30 UTC"


def test_gate_hints_paste_into_a_shell_and_use_the_incidents_own_codes() -> None:
    import shlex
    import subprocess

    from breachops.playbooks.loader import load_playbook
    from breachops.reports.incident import answer_command

    playbook = load_playbook("confidential-information-leak")
    facts = {"jurisdictions": [{"code": "FR", "affected": 320}, {"code": "BR"}]}
    scope = answer_command("INC-2026-0001", playbook.step("scope-disclosure"), "a@b.example", facts)
    assert "'affected_by_jurisdiction=FR=320,BR'" in scope
    assert "DE=120" not in scope
    hold = answer_command("INC-2026-0001", playbook.step("preserve-evidence"), "a@b.example", facts)
    assert "--set 'legal_hold=yes'" in hold and "yes|no" not in hold
    assert "# legal_hold: yes or no" in hold
    for hint in (scope, hold):
        # The shell reads it as one command (the notes are comments), with no pipe in it.
        assert subprocess.run(["bash", "-n", "-c", hint], check=False).returncode == 0
        words = shlex.split(hint, comments=True)
        assert words[:3] == ["breachops", "step", "done"] and "|" not in words


def test_filing_a_staged_report_meets_its_first_stage_only(workspace: Path) -> None:
    import sqlite3

    incident = hostile.open_incident()
    with sqlite3.connect(workspace / "breachops.db") as db:  # everything before the filing is done
        db.execute("UPDATE steps SET status = 'done' WHERE step_id != 'notify-regulators'")
        db.execute("UPDATE steps SET status = 'waiting' WHERE step_id = 'notify-regulators'")
    code, out, err = run_cli("incident", "show", incident, "--format", "json")
    step = next(s for s in json.loads(out)["steps"] if s["step"] == "notify-regulators")
    dpo = step["owner"]["people"][0]["email"]
    code, _, err = run_cli("step", "done", incident, "notify-regulators", "--by", dpo, "--no-wait")
    assert code == 0, err
    code, out, err = run_cli("incident", "show", incident, "--format", "json")
    status = {o["key"]: o["status"] for o in json.loads(out)["obligations"]}
    # LGPD with Res. CD/ANPD 15/2024 Art. 6: the communication, then its complement within 20
    # business days; the first filing is the communication, the complement is filed later.
    assert status["br-anpd-res15-art6/communication"] == "met"
    assert status["br-anpd-res15-art6/complement"] != "met"
    assert status["eu-gdpr-art33-authority/notification"] == "met"

"""A newcomer's first hour, reading duties: a contract duty names the party that must act and the
party to be told, `incident show` lists obligations as `deadlines` does (strictest first, local times
with their zones), and a duty closed unmet has no countdown."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli import test_hostile_input as hostile
from tests.cli.test_hostile_input import FACTS, open_incident, run_cli

workspace = hostile.sqlite_workspace  # a fresh workspace made by `breachops init`

AGREEMENT = str(Path(FACTS).parent / "agreement.yaml")
# examples/agreement.yaml § 11.2: `from: receiving` (Horizonte Automação Ltda.), `to: disclosing`
# (Nordlicht Robotics GmbH); governing law DE.
LICENSEE_NOTICE = "contract-receiving-to-disclosing/notification"
HORIZONTE = {"party": "receiving", "name": "Horizonte Automação Ltda."}
NORDLICHT = {"party": "disclosing", "name": "Nordlicht Robotics GmbH"}


def _section(text: str, start: str, end: str | None = None) -> str:
    part = text.split(start, 1)[1]
    return part.split(end, 1)[0] if end else part


def test_deadlines_names_who_acts_and_who_is_told_for_a_contract_duty(workspace: Path) -> None:
    code, out, err = run_cli("deadlines", FACTS, "--agreement", AGREEMENT, "--format", "json")
    assert code == 0, err
    by_key = {f"{o['rule']}/{o['stage']}": o for o in json.loads(out)}
    notice = by_key[LICENSEE_NOTICE]
    assert notice["from_party"] == HORIZONTE and notice["to_party"] == NORDLICHT
    assert notice["jurisdiction"] == "DE" and notice["audience"] == "counterparty"  # kept as they were
    gdpr = by_key["eu-gdpr-art33-authority/notification"]
    assert gdpr["from_party"] is None and gdpr["to_party"] is None

    code, out, err = run_cli("deadlines", FACTS, "--agreement", AGREEMENT)
    assert code == 0, err
    table = _section(out, "strictest first", "Timeline")
    assert "receiving party (Horizonte)" in table and "→ disclosing party (Nordlicht)" in table
    assert "→ receiving party (Horizonte)" in table  # § 14.4: the subcontractor tells the licensee
    assert "subcontractor party (Ganga)" in table


def test_incident_show_lists_obligations_as_deadlines_does(workspace: Path) -> None:
    incident = open_incident()
    code, out, err = run_cli("incident", "show", incident, "--format", "json")
    assert code == 0, err
    shown = json.loads(out)["obligations"]
    code, out, err = run_cli("deadlines", FACTS, "--format", "json")  # the workspace's agreement
    assert code == 0, err
    assert [o["key"] for o in shown] == [f"{o['rule']}/{o['stage']}" for o in json.loads(out)]

    by_key = {o["key"]: o for o in shown}
    assert by_key[LICENSEE_NOTICE]["from_party"] == HORIZONTE
    assert by_key[LICENSEE_NOTICE]["to_party"] == NORDLICHT
    # GDPR Art. 33(1): 72 h from aware 2026-11-24T16:30-03:00 = 2026-11-27 19:30 UTC, 20:30 in Berlin
    # (CET, UTC+1), 16:30 in Sao Paulo (UTC-3), 01:00 on the 28th in Kolkata (UTC+5:30).
    gdpr = by_key["eu-gdpr-art33-authority/notification"]
    assert gdpr["due"] == "2026-11-27T19:30:00Z"
    assert gdpr["due_local"]["Europe/Berlin"] == "2026-11-27T20:30:00+01:00"
    assert gdpr["due_local"]["America/Sao_Paulo"] == "2026-11-27T16:30:00-03:00"
    assert gdpr["due_local"]["Asia/Kolkata"] == "2026-11-28T01:00:00+05:30"

    code, out, err = run_cli("incident", "show", incident)
    assert code == 0, err
    table = _section(out, "Obligations, strictest first", "Messages")
    assert "Fri 27 Nov 20:30 CET Berlin" in table
    assert "Fri 27 Nov 16:30 -03 Sao Paulo" in table
    assert "receiving party (Horizonte)" in table and "→ disclosing party (Nordlicht)" in table
    assert "counterparty · DE" not in table
    # Rows in the order of the JSON (and of `deadlines`): each key's first line appears in turn.
    at = 0
    for o in shown:
        found = table.find(o["title"].split()[0], at)
        assert found >= 0, (o["key"], table[at:])
        at = found + 1


def test_an_obligation_closed_unmet_shows_no_countdown(workspace: Path) -> None:
    incident = open_incident()
    code, _, err = run_cli(
        "incident", "close", incident, "--reason", "handed to counsel", "--accept-pending", "--by",
        "rafael.costa@horizonte.example",
    )  # fmt: skip
    assert code == 0, err
    with sqlite3.connect(workspace / "breachops.db") as db:
        stored = dict(db.execute("SELECT key, status FROM obligations WHERE incident_id = ?", (incident,)))
    assert stored["eu-gdpr-art33-authority/notification"] == "closed-unmet"
    code, out, err = run_cli("incident", "show", incident)
    assert code == 0, err
    table = _section(out, "Obligations, strictest first", "Messages")
    assert "closed-unmet" in table
    assert "overdue" not in table and " in " not in table  # no countdown on a closed duty

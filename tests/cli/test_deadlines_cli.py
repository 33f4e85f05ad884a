"""`breachops deadlines` and `breachops rules` as a person or a script runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from icalendar import Calendar

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOW = "2026-11-25T12:00:00Z"


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, stdin: str | None = None):
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "breachops", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        input=stdin,
        timeout=120,
    )


def test_json_lists_every_obligation_with_the_documented_fields():
    result = run(
        "deadlines",
        str(EXAMPLES / "facts.yaml"),
        "--agreement",
        str(EXAMPLES / "agreement.yaml"),
        "--format",
        "json",
        "--now",
        NOW,
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) >= 5
    for row in rows:
        assert {"rule", "jurisdiction", "audience", "stage", "due", "citation", "reason"} <= row.keys()
        if row["due"] is not None:
            assert row["due"].endswith("Z") and len(row["due"]) == 20
    dated = [r["due"] for r in rows if r["due"]]
    assert dated == sorted(dated)
    rules = {r["rule"] for r in rows}
    assert {"eu-gdpr-art33-authority", "contract-receiving-to-disclosing"} <= rules


def test_ics_parses_and_holds_one_event_per_dated_obligation_with_alarms(tmp_path):
    out = tmp_path / "deadlines.ics"
    args = (
        "deadlines",
        str(EXAMPLES / "facts.yaml"),
        "--agreement",
        str(EXAMPLES / "agreement.yaml"),
        "--now",
        NOW,
    )
    result = run(*args, "--format", "ics", "--output", str(out))
    assert result.returncode == 0, result.stderr
    rows = json.loads(run(*args, "--format", "json").stdout)
    calendar = Calendar.from_ical(out.read_bytes())
    events = calendar.walk("VEVENT")
    assert len(events) == len([r for r in rows if r["due"]])
    starts = sorted(e.decoded("dtstart") for e in events)
    from datetime import datetime

    assert starts == sorted(datetime.fromisoformat(r["due"].replace("Z", "+00:00")) for r in rows if r["due"])
    for event in events:
        alarms = event.walk("VALARM")
        assert [a.decoded("trigger").total_seconds() for a in alarms] == [-86400, -14400, -3600]
    assert len({e["uid"] for e in events}) == len(events)


def test_table_shows_local_times_countdowns_and_why_not():
    result = run(
        "deadlines",
        str(EXAMPLES / "facts.yaml"),
        "--agreement",
        str(EXAMPLES / "agreement.yaml"),
        "--now",
        NOW,
    )
    assert result.returncode == 0, result.stderr
    assert "Sao Paulo" in result.stdout and "Berlin" in result.stdout
    assert "overdue" in result.stdout
    assert "Timeline" in result.stdout
    assert "do not apply" in result.stdout


def test_facts_can_come_from_standard_input_as_json():
    facts = json.dumps(
        {
            "aware_at": "2026-03-27T10:00:00+01:00",
            "jurisdictions": [{"code": "FR", "affected": 80}],
            "data_categories": ["personal"],
            "risk": "likely",
        }
    )
    result = run("deadlines", "-", "--format", "json", "--now", NOW, stdin=facts)
    assert result.returncode == 0, result.stderr
    gdpr = [r for r in json.loads(result.stdout) if r["rule"] == "eu-gdpr-art33-authority"]
    assert gdpr[0]["due"] == "2026-03-30T09:00:00Z"


BAD_FACTS = [
    ("aware_at: 2026-03-27T10:00:00\n", "aware_at", "needs its UTC offset"),
    ("aware_at: 2026-03-27T10:00:00Z\njurisdictions: [{code: XX}]\n", "jurisdictions[0].code", "'XX'"),
    (
        "aware_at: 2026-03-27T10:00:00Z\njurisdictions: [{code: DE, affected: -3}]\n",
        "jurisdictions[0].affected",
        "-3",
    ),
    ("aware_at: 2026-03-27T10:00:00Z\nrisk: extreme\n", "risk", "'extreme'"),
    ("aware_at: 2026-03-27T10:00:00Z\nkown: 1\n", "kown", "Extra inputs"),
    ("jurisdictions: [DE]\n", "aware_at", "Field required"),
    ("aware_at: [unclosed\n", "line", "not valid YAML"),
]


@pytest.mark.parametrize(("text", "field", "shown"), BAD_FACTS)
def test_bad_facts_give_one_line_naming_file_field_and_value_and_exit_2(tmp_path, text, field, shown):
    path = tmp_path / "facts.yaml"
    path.write_text(text)
    result = run("deadlines", str(path), "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    message = result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert len(message.splitlines()) == 1, message
    assert str(path) in message and field in message and shown in message


def test_a_malformed_agreement_is_refused_with_its_field(tmp_path):
    text = (
        (EXAMPLES / "agreement.yaml")
        .read_text()
        .replace("timezone: America/Sao_Paulo", "timezone: Brazil/Rio", 1)
    )
    path = tmp_path / "agreement.yaml"
    path.write_text(text)
    result = run("deadlines", str(EXAMPLES / "facts.yaml"), "--agreement", str(path))
    assert result.returncode == 2
    assert "parties.receiving.contacts.incident_lead.timezone" in result.stderr
    assert "Brazil/Rio" in result.stderr


def test_a_malformed_user_rule_file_names_the_rule_and_field(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "- id: de-own-rule\n  jurisdiction: DE\n  instrument: X\n  article: s 1\n  title: t\n"
        "  audience: regulator\n  recipient: r\n  clock: aware\n  window: {days: 3}\n"
        "  source: https://example.org\n  reviewed: 2026-11-25\n"
    )
    result = run("rules", "list", env={"BREACHOPS_RULE_FILES": str(path)})
    assert result.returncode == 2
    assert (
        str(path) in result.stderr and "rules[0] (de-own-rule)" in result.stderr and "days" in result.stderr
    )


def test_a_user_rule_replaces_the_shipped_rule_with_its_id_and_shows_its_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "- id: eu-gdpr-art33-authority\n  jurisdiction: EU\n  instrument: GDPR\n  article: Art. 33(1)\n"
        "  title: Notify our lead authority (internal 48 h policy)\n"
        "  audience: regulator\n  recipient: BfDI\n"
        "  clock: aware\n  window: {hours: 48}\n  source: https://eur-lex.europa.eu/eli/reg/2016/679/oj\n"
        "  reviewed: 2026-11-25\n"
    )
    env = {"BREACHOPS_RULE_FILES": str(path)}
    listed = json.loads(run("rules", "list", "--format", "json", env=env).stdout)
    mine = [r for r in listed if r["id"] == "eu-gdpr-art33-authority"]
    assert len(mine) == 1 and mine[0]["origin"] == str(path)
    assert mine[0]["stages"][0]["window"] == "48 h"
    shipped = [r for r in listed if r["id"] == "eu-gdpr-art34-individuals"]
    assert shipped[0]["origin"] == "shipped:eu.yaml"
    facts = json.dumps(
        {"aware_at": "2026-03-27T10:00:00+01:00", "jurisdictions": ["DE"], "data_categories": ["personal"]}
    )
    due = [
        r
        for r in json.loads(run("deadlines", "-", "--format", "json", env=env, stdin=facts).stdout)
        if r["rule"] == "eu-gdpr-art33-authority"
    ]
    assert due[0]["due"] == "2026-03-29T09:00:00Z"


def test_rules_list_filters_by_jurisdiction_and_show_explains_unknown_ids():
    rows = json.loads(run("rules", "list", "--jurisdiction", "DE", "--format", "json").stdout)
    assert rows and {r["jurisdiction"] for r in rows} <= {"DE", "EU", "EEA"}
    shown = run("rules", "show", "eu-gdpr-art33-authority")
    assert shown.returncode == 0 and "72 h" in shown.stdout
    unknown = run("rules", "show", "eu-gdpr-art33-authorty")
    assert unknown.returncode == 2 and "Did you mean eu-gdpr-art33-authority" in unknown.stderr
    bad = run("rules", "list", "--jurisdiction", "ZZ")
    assert bad.returncode == 2 and "'ZZ'" in bad.stderr


def test_help_explains_the_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "deadlines" in result.stdout and "rules" in result.stdout
    assert "--format" in run("deadlines", "--help").stdout

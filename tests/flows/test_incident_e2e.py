"""The incident flow end to end: a real Prefect server, `breachops serve`, and people answering from
other processes with the CLI."""

from __future__ import annotations

import sqlite3

import pytest

from breachops.playbooks import load_playbook

from .conftest import EXAMPLES, answer_for, owner_email, suspended_with_waiting, waiting

pytestmark = pytest.mark.prefect


def open_incident(served, title: str) -> str:
    opened = served.json(
        "incident",
        "open",
        str(EXAMPLES / "facts.yaml"),
        "--title",
        title,
        "--by",
        "rafael.costa@horizonte.example",
    )
    assert opened["flow_run_id"]
    assert opened["obligations"], "the example facts give rise to obligations"
    return opened["incident"]


def test_an_incident_walks_its_playbook_to_the_end_with_answers_from_other_processes(served):
    playbook = load_playbook("confidential-information-leak")
    incident = open_incident(served, "Licensed source code on a public repository")
    shown = served.wait_for(incident, suspended_with_waiting, what="the first gate")
    assert {s["step"] for s in waiting(shown)} >= {"freeze-access"}

    answered: list[str] = []
    while shown["flow_state"] != "Completed":
        step = waiting(shown)[0]
        served.cli(
            "step", "done", incident, step["step"], "--by", owner_email(step), *answer_for(step, playbook)
        )
        answered.append(step["step"])
        shown = served.wait_for(
            incident,
            lambda s, done=step["step"]: (
                s["flow_state"] == "Completed"
                or (suspended_with_waiting(s) and all(w["step"] != done for w in waiting(s)))
            ),
            what=f"the flow to take the answer to {step['step']}",
        )
    assert sorted(answered) == sorted(s.id for s in playbook.steps())
    assert all(s["status"] == "done" for s in shown["steps"])

    # The gate answers set facts: the counts and risk given at the gates are on the incident now.
    assert shown["facts"]["risk"] == "high"
    assert {"code": "DE", "affected": 1200} in shown["facts"]["jurisdictions"]

    # Each step completed exactly once in the record, and the chain verifies.
    exported = served.cli("audit", "export", incident)
    evidence = served.path / "evidence" / f"{incident}.jsonl"
    lines = evidence.read_text().splitlines()
    completed = [line for line in lines if '"kind":"step.completed"' in line]
    assert len(completed) == len(playbook.steps())
    assert "final hash" in exported.stdout
    assert served.cli("audit", "verify", incident).returncode == 0


def test_a_fact_change_recomputes_obligations_and_is_recorded(served):
    incident = open_incident(served, "Roadmap documents with a competitor")
    before = {o["key"]: o for o in served.json("incident", "show", incident)["obligations"]}
    assert (
        "eu-gdpr-art34-individuals/notification" not in before
        or before["eu-gdpr-art34-individuals/notification"]["status"] == "withdrawn"
    )

    changed = served.json(
        "incident", "facts", incident, "--set", "risk=high", "--by", "marina.alves@horizonte.example"
    )
    assert changed["changed"] == {"risk": "high"}
    assert "eu-gdpr-art34-individuals/notification" in changed["obligations"]["added"]

    after = {o["key"]: o for o in served.json("incident", "show", incident)["obligations"]}
    assert after["eu-gdpr-art34-individuals/notification"]["status"] in ("pending", "overdue")

    served.cli("audit", "export", incident)
    record = (served.path / "evidence" / f"{incident}.jsonl").read_text()
    assert '"kind":"fact.changed"' in record and '"kind":"obligation.recomputed"' in record
    served.cli(
        "incident", "close", incident, "--reason", "test finished", "--by", "marina.alves@horizonte.example"
    )


def test_audit_verify_names_the_row_someone_altered(served):
    incident = open_incident(served, "Tampering check")
    served.wait_for(incident, suspended_with_waiting, what="the first gate")
    assert served.cli("audit", "verify", incident).returncode == 0

    database = served.path / "breachops.db"
    with sqlite3.connect(database) as db:
        seq = db.execute(
            "SELECT seq FROM audit_events WHERE incident_id = ? AND kind = 'fact.changed' ORDER BY seq LIMIT 1",
            (incident,),
        ).fetchone()[0]
        db.execute(
            "UPDATE audit_events SET payload = replace(payload, 'likely', 'low') WHERE incident_id = ? AND seq = ?",
            (incident, seq),
        )
    broken = served.cli("audit", "verify", incident, check=False)
    assert broken.returncode == 1
    assert f"seq {seq}" in broken.stderr
    served.cli(
        "incident", "close", incident, "--reason", "tampering test", "--by", "marina.alves@horizonte.example"
    )

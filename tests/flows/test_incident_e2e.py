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


def latest_artifacts(served, incident: str) -> tuple[list[dict[str, str]], str]:
    """The latest ``<incident>-steps`` table and ``<incident>-obligations`` Markdown on the server."""
    import json as _json

    import httpx

    api_url = _json.loads((served.path / "prefect" / "server.json").read_text())["api_url"]
    keys = [f"{incident.lower()}-steps", f"{incident.lower()}-obligations"]
    found = httpx.post(
        f"{api_url}/artifacts/latest/filter", json={"artifacts": {"key": {"any_": keys}}}
    ).json()
    by_key = {a["key"]: a["data"] for a in found}
    table = by_key[keys[0]]
    return (_json.loads(table) if isinstance(table, str) else table), by_key[keys[1]]


def test_an_incident_walks_its_playbook_to_the_end_with_answers_from_other_processes(served):
    playbook = load_playbook("confidential-information-leak")
    incident = open_incident(served, "Licensed source code on a public repository")
    shown = served.wait_for(incident, suspended_with_waiting, what="the first gate")
    assert {s["step"] for s in waiting(shown)} >= {"freeze-access"}
    # The Prefect UI shows the playbook too: the steps and the obligations, keyed by the incident.
    steps, obligations = latest_artifacts(served, incident)
    assert {"step": "freeze-access", "status": "waiting"}.items() <= next(
        row for row in steps if row["step"] == "freeze-access"
    ).items()
    assert "Licensee notifies the licensor" in obligations and "| Left |" in obligations

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
        "incident",
        "close",
        incident,
        "--reason",
        "test finished",
        "--by",
        "marina.alves@horizonte.example",
        "--accept-pending",
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
        "incident",
        "close",
        incident,
        "--reason",
        "tampering test",
        "--by",
        "marina.alves@horizonte.example",
        "--accept-pending",
    )


def test_an_answer_given_in_the_prefect_ui_resume_form_is_validated_and_recorded(served):
    import json as _json

    from breachops.flows.prefect_api import PrefectAPI

    incident = open_incident(served, "Answered from the UI")
    shown = served.wait_for(incident, suspended_with_waiting, what="the first gate")
    api_url = _json.loads((served.path / "prefect" / "server.json").read_text())["api_url"]
    run_id = shown["flow_run_id"]
    with PrefectAPI(api_url) as api:
        state = api.state(run_id)
        schema = api.run_input(run_id, state.details["run_input_keyset"]["schema"])
        # The form offers each waiting step's fields, prefixed with its id when several wait.
        assert set(schema["properties"]["step"]["enum"]) == {s["step"] for s in waiting(shown)}
        assert "preserve-evidence__legal_hold" in schema["properties"]
        # First an answer the gate refuses (the form cannot require per-step fields): nothing recorded.
        status, _ = api.resume(run_id, {"step": "preserve-evidence", "by": "lars.hoffmann@nordlicht.example"})
        assert status == "ACCEPT"
    shown = served.wait_for(
        incident, suspended_with_waiting, what="the flow to suspend again after a refused answer"
    )
    assert next(s for s in shown["steps"] if s["step"] == "preserve-evidence")["status"] == "waiting"
    with PrefectAPI(api_url) as api:
        state = api.state(run_id)
        answer = {
            "step": "preserve-evidence",
            "by": "lars.hoffmann@nordlicht.example",
            "note": "snapshots taken",
            "preserve-evidence__evidence_links": ["https://evidence.example/case/9"],
            "preserve-evidence__legal_hold": True,
        }
        status, reason = api.resume(run_id, answer)
        assert status == "ACCEPT", reason
    shown = served.wait_for(
        incident,
        lambda s: next(x for x in s["steps"] if x["step"] == "preserve-evidence")["status"] == "done",
        what="the UI answer to be recorded",
    )
    step = next(x for x in shown["steps"] if x["step"] == "preserve-evidence")
    assert step["completed_by"] == "lars.hoffmann@nordlicht.example"
    assert step["answer"]["source"] == "prefect-ui" and step["answer"]["legal_hold"] is True
    served.cli(
        "incident",
        "close",
        incident,
        "--reason",
        "ui test",
        "--by",
        "marina.alves@horizonte.example",
        "--accept-pending",
    )

"""Durability: `serve` killed with SIGKILL, at a gate and mid-run, loses nothing and repeats nothing."""

from __future__ import annotations

import json
import signal

import pytest

from breachops.playbooks import load_playbook

from .conftest import EXAMPLES, answer_for, owner_email, suspended_with_waiting, waiting

pytestmark = pytest.mark.prefect


def completions(served, incident: str) -> list[str]:
    served.cli("audit", "export", incident)
    events = [
        json.loads(line) for line in (served.path / "evidence" / f"{incident}.jsonl").read_text().splitlines()
    ]
    return [e["payload"]["step_id"] for e in events if e["kind"] == "step.completed"]


def test_serve_killed_while_waiting_and_mid_run_resumes_from_the_same_step_without_repeats(served):
    playbook = load_playbook("confidential-information-leak")
    opened = served.json(
        "incident",
        "open",
        str(EXAMPLES / "facts.yaml"),
        "--title",
        "Durability",
        "--by",
        "rafael.costa@horizonte.example",
    )
    incident = opened["incident"]
    shown = served.wait_for(incident, suspended_with_waiting, what="the first gate")
    first = waiting(shown)[0]

    # 1. Killed while the flow waits at a gate: nothing runs, nothing may be lost.
    served.kill_serve(signal.SIGKILL)
    served.cli(
        "step",
        "done",
        incident,
        first["step"],
        "--by",
        owner_email(first),
        *answer_for(first, playbook),
        "--no-wait",
    )
    served.start_serve()
    shown = served.wait_for(
        incident,
        lambda s: suspended_with_waiting(s) and all(w["step"] != first["step"] for w in waiting(s)),
        timeout=120,
        what="the restarted serve to carry on after the answer given while it was down",
    )
    assert next(s for s in shown["steps"] if s["step"] == first["step"])["status"] == "done"

    # 2. Killed right after an answer, while the flow may be running between gates.
    second = waiting(shown)[0]
    served.cli(
        "step",
        "done",
        incident,
        second["step"],
        "--by",
        owner_email(second),
        *answer_for(second, playbook),
        "--no-wait",
    )
    served.kill_serve(signal.SIGKILL)
    served.start_serve()
    shown = served.wait_for(
        incident,
        lambda s: suspended_with_waiting(s) and all(w["step"] != second["step"] for w in waiting(s)),
        timeout=120,
        what="the flow to go on after serve died mid-run",
    )

    # Nothing lost, nothing twice: each answered step completed exactly once, and nothing else did.
    done = completions(served, incident)
    assert sorted(done) == sorted({first["step"], second["step"]})
    assert served.cli("audit", "verify", incident).returncode == 0
    served.cli(
        "incident",
        "close",
        incident,
        "--reason",
        "durability test",
        "--by",
        "marina.alves@horizonte.example",
        "--accept-pending",
    )

"""The tabletop drill flow itself, run for real on the served Prefect server, each time in a workspace
of its own (so that the served workspace's reminder service never sends its mail first).

A team that keeps its SendGrid key only in a Prefect Secret block sees the injects go out through
SendGrid; and the Prefect UI shows the drill as tasks: one per inject delivered, one per scoring phase.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from breachops.config.agreements import load_agreement
from breachops.playbooks.loader import load_scenario

from .conftest import EXAMPLES

pytestmark = pytest.mark.prefect

SCENARIO = "subcontractor-source-leak"
SECONDS = 6  # the scenario's 72 hours, compressed

# Runs in a process of its own, as `serve` runs a drill: the flow reads its settings from the environment.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    from breachops.flows.runtime import ensure_prefect

    workspace = Path(os.environ["BREACHOPS_WORKSPACE"])
    ensure_prefect(workspace)
    from prefect import get_client
    from prefect.blocks.system import Secret as SecretBlock
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from breachops.bootstrap import bootstrap
    from breachops.config.agreements import load_agreement
    from breachops.services.drills import start_drill
    from breachops.flows.drill import tabletop_drill
    from breachops.playbooks.loader import load_scenario

    block, key, scenario_id, seconds, agreement = sys.argv[1:6]
    if block:
        SecretBlock(value=key).save(block, overwrite=True)
    scenario = load_scenario(scenario_id)
    drill_id = start_drill(
        bootstrap(), scenario, load_agreement(Path(agreement)),
        speed=scenario.duration.total_seconds() / float(seconds), mode="compressed", simulate=True,
        actor="jana.weber@nordlicht.example",
    )
    state = tabletop_drill(drill_id, return_state=True)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    print(json.dumps({
        "drill": drill_id,
        "state": state.type.value,
        "message": state.message,
        "tasks": [{"name": r.name, "state": r.state_type.value, "start": str(r.start_time)} for r in runs],
    }))
    """
)


def run_drill_flow(served: Any, tmp_path: Path, mail: dict[str, str], block: str = "", key: str = "") -> Any:
    """Start a simulated drill in a fresh workspace and run its flow to the end; what the run left."""
    server = json.loads((served.path / "prefect" / "server.json").read_text())
    env = {k: v for k, v in served.env.items() if k != "SENDGRID_API_KEY"}
    env.update({"BREACHOPS_WORKSPACE": str(tmp_path / "workspace"), "PREFECT_API_URL": server["api_url"]})
    env.update(mail)
    init = subprocess.run(
        [sys.executable, "-m", "breachops", "init"], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    args = [block, key, SCENARIO, str(SECONDS), str(EXAMPLES / "agreement.yaml")]
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    ran = json.loads(result.stdout.strip().splitlines()[-1])
    if key:
        assert key not in result.stdout + result.stderr
    return ran


def participants() -> set[str]:
    scenario = load_scenario(SCENARIO)
    agreement = load_agreement(EXAMPLES / "agreement.yaml")
    parties = agreement.parties
    return {
        (parties[p.party].contacts.get(p.role) or parties[p.party].contacts["incident_lead"]).email.lower()
        for p in scenario.participants
    }


def test_a_drill_sends_its_injects_through_sendgrid_with_the_key_only_in_a_secret_block(
    served, tmp_path, sendgrid_server
):
    key = "SG." + "drill-block" + "." + uuid.uuid4().hex  # never a real key
    block = f"breachops-drill-sendgrid-{uuid.uuid4().hex[:8]}"
    mail = {
        "BREACHOPS_MAIL_CHANNEL": "sendgrid",
        "BREACHOPS_MAIL_FROM": "Breachops <incidents@nordlicht.example>",
        "BREACHOPS_SENDGRID_HOST": sendgrid_server.url,
        "BREACHOPS_SENDGRID_SECRET_BLOCK": block,
    }
    ran = run_drill_flow(served, tmp_path, mail, block, key)
    assert ran["state"] == "COMPLETED", ran["message"]

    injects = [
        r
        for r in sendgrid_server.requests
        if ":inject:" in r["body"]["personalizations"][0]["custom_args"]["breachops_key"]
    ]
    sent = {
        r["body"]["personalizations"][0]["custom_args"]["breachops_key"].split(":inject:")[1].split(":")[0]
        for r in injects
    }
    # Every inject reached SendGrid, but the contingency one (access was frozen before its time).
    assert sent == {i.id for i in load_scenario(SCENARIO).injects if i.when is None}
    assert all(r["headers"]["Authorization"] == f"Bearer {key}" for r in injects)  # with the block's key
    assert all(r["body"]["subject"].startswith("[DRILL]") for r in injects)
    to = {t["email"].lower() for r in injects for p in r["body"]["personalizations"] for t in p["to"]}
    assert to <= participants()


def test_the_prefect_ui_shows_each_inject_delivered_and_each_scoring_phase_as_a_task(served, tmp_path):
    ran = run_drill_flow(served, tmp_path, {})  # mail to the workspace's outbox
    assert ran["state"] == "COMPLETED", ran["message"]
    tasks = sorted(ran["tasks"], key=lambda t: t["start"])
    assert all(t["state"] == "COMPLETED" for t in tasks), tasks
    names = [t["name"] for t in tasks]
    injects = [f"inject · {i.id}" for i in load_scenario(SCENARIO).injects]
    scoring = [
        "scoring · read the record",
        "scoring · score",
        "scoring · write the after-action report",
        "scoring · close the drill",
    ]
    # Each inject once, in the scenario's order, then the scoring phases in theirs.
    assert names == injects + scoring
    outbox = [p.name for p in (tmp_path / "workspace" / "outbox").rglob("*.eml")]
    assert outbox

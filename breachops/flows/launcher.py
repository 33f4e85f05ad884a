"""What the CLI asks of Prefect: start an incident's flow, wake it after an answer, stop it.

On the embedded default this also makes sure the two background processes exist: the local Prefect
server (see ``runtime``) and `breachops serve`, which runs the flows. In team mode (PREFECT_API_URL
set) both are the team's to run, and nothing is started here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from breachops.bootstrap import App
from breachops.flows.runtime import PrefectRuntime, ensure_prefect

__all__ = [
    "cancel_incident_flow",
    "ensure_runtime",
    "ensure_serve",
    "flow_run_state",
    "serve_pid",
    "start_incident_flow",
    "wake_after_answer",
]

Progress = Callable[[str], None] | None


def ensure_runtime(app: App, progress: Progress = None, start_serve: bool = True) -> PrefectRuntime:
    runtime = ensure_prefect(app.workspace, progress=progress)
    if runtime.mode == "local" and start_serve:
        ensure_serve(app, runtime, progress)
    return runtime


def _serve_file(app: App) -> Path:
    return app.workspace.resolve() / "serve.json"


def serve_pid(app: App) -> int | None:
    """The pid of this workspace's `breachops serve`, if one is alive."""
    record = _serve_file(app)
    try:
        pid = int(json.loads(record.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def ensure_serve(app: App, runtime: PrefectRuntime, progress: Progress = None) -> int:
    """Start `breachops serve` in the background for this workspace unless one runs already."""
    pid = serve_pid(app)
    if pid is not None:
        return pid
    if progress:
        progress("starting `breachops serve` in the background to run the playbook")
    workspace = app.workspace.resolve()
    env = dict(os.environ)
    env.update({"BREACHOPS_WORKSPACE": str(workspace), "PREFECT_API_URL": runtime.api_url})
    log = (workspace / "serve.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "breachops", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=workspace,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if serve_pid(app) == process.pid:
            return process.pid
        if process.poll() is not None:
            raise RuntimeError(f"`breachops serve` exited at start; see {workspace / 'serve.log'}")
        time.sleep(0.1)
    raise RuntimeError(f"`breachops serve` did not start within 60 s; see {workspace / 'serve.log'}")


def start_incident_flow(app: App, incident_id: str, progress: Progress = None) -> str:
    """Create the incident's flow run from its deployment and record its id on the incident."""
    runtime = ensure_runtime(app, progress)
    from prefect import get_client

    from breachops.flows.deploy import incident_deployment_name, register

    name = incident_deployment_name()
    with get_client(sync_client=True) as client:
        try:
            deployment = client.read_deployment_by_name(name)
        except Exception:
            if runtime.mode != "local":
                raise
            register()
            deployment = client.read_deployment_by_name(name)
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"incident_id": incident_id}, tags=["breachops", incident_id]
        )
    from breachops.store import Repository

    with app.transaction() as session:
        repo = Repository(session)
        repo.attach_flow_run(repo.get_incident(incident_id), str(run.id), "cli", app.clock.now())
    return str(run.id)


def flow_run_state(app: App, flow_run_id: str) -> Any:
    ensure_runtime(app, start_serve=False)
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(flow_run_id)).state


def wake_after_answer(app: App, flow_run_id: str, step_id: str, by: str, timeout: float = 30.0) -> str:
    """Resume the incident's flow after an answer was recorded in the store.

    The answer is already stored; the resume only wakes the run. Its input names a step the
    suspension asked about (the server checks it against the form's schema), and the flow, finding
    the step done, reads the store instead. Returns what happened, for the user.
    """
    ensure_runtime(app)
    from prefect import get_client
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            run = client.read_flow_run(UUID(flow_run_id))
            state = run.state
            if state is not None and state.is_final():
                return f"the flow run is {state.name.lower()}"
            if state is not None and state.type == StateType.PAUSED:
                run_input = _input_for(client, run, step_id, by)
                response = client.resume_flow_run(run.id, run_input=run_input)
                if str(response.status.value).upper() == "ACCEPT":
                    return "the playbook goes on"
            if time.monotonic() > deadline:
                return "the flow has not reached its next gate yet; it will read the answer when it does"
            time.sleep(0.2)


def _input_for(client: Any, run: Any, step_id: str, by: str) -> dict[str, Any] | None:
    keyset = run.state.state_details.run_input_keyset if run.state else None
    if not keyset:
        return None
    schema = client.read_flow_run_input(run.id, keyset["schema"])
    schema = json.loads(schema) if isinstance(schema, str) else schema
    step_schema = (schema or {}).get("properties", {}).get("step", {})
    allowed = step_schema.get("enum") or ([step_schema["const"]] if "const" in step_schema else [])
    chosen = step_id if step_id in allowed or not allowed else allowed[0]
    return {"step": chosen, "by": by, "note": "answered with `breachops step done`; recorded in the store"}


def cancel_incident_flow(app: App, flow_run_id: str) -> None:
    ensure_runtime(app, start_serve=False)
    from prefect import get_client
    from prefect.states import Cancelled

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(flow_run_id)).state
        if state is None or not state.is_final():
            client.set_flow_run_state(UUID(flow_run_id), Cancelled(message="incident closed"), force=True)

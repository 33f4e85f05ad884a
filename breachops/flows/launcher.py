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

from breachops.bootstrap import App
from breachops.errors import InputError
from breachops.flows.names import drill_deployment_name, incident_deployment_name
from breachops.flows.prefect_api import PrefectAPI, RunState
from breachops.flows.runtime import PrefectRuntime, ensure_prefect

__all__ = [
    "cancel_incident_flow",
    "ensure_runtime",
    "ensure_serve",
    "flow_run_state",
    "serve_pid",
    "start_drill_flow",
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


def _api(runtime: PrefectRuntime) -> PrefectAPI:
    return PrefectAPI(runtime.api_url)


def start_incident_flow(app: App, incident_id: str, progress: Progress = None) -> str:
    """Create the incident's flow run from its deployment and record its id on the incident."""
    run_id = _create_run(
        app,
        incident_deployment_name(),
        {"incident_id": incident_id},
        incident_id,
        f"incident:{incident_id}",
        progress,
    )
    from breachops.store import Repository

    with app.transaction() as session:
        repo = Repository(session)
        repo.attach_flow_run(repo.get_incident(incident_id), run_id, "cli", app.clock.now())
    return run_id


def start_drill_flow(app: App, drill_id: str, progress: Progress = None) -> str:
    """Create the drill's flow run; its id goes on the drill and on its incident record."""
    run_id = _create_run(
        app, drill_deployment_name(), {"drill_id": drill_id}, drill_id, f"drill:{drill_id}", progress
    )
    from breachops.store import Repository
    from breachops.store.drills import DrillRepository

    with app.transaction() as session:
        drills = DrillRepository(session)
        drills.attach_flow_run(drills.get_drill(drill_id), run_id)
        repo = Repository(session)
        repo.attach_flow_run(repo.get_incident(drill_id), run_id, "cli", app.clock.now())
    return run_id


def _create_run(
    app: App, name: str, parameters: dict[str, Any], tag: str, idempotency_key: str, progress: Progress
) -> str:
    """A flow run of deployment ``name``; the idempotency key makes a retried start return the same run."""
    runtime = ensure_runtime(app, progress)
    with _api(runtime) as api:
        deadline = time.monotonic() + 60
        while True:
            try:
                deployment_id = api.deployment_id(name)
                break
            except LookupError:
                # A `serve` that is starting registers it in a moment; in team mode it must exist.
                if runtime.mode != "local" or time.monotonic() > deadline:
                    raise InputError(
                        None,
                        None,
                        None,
                        f"Prefect has no deployment {name!r} at {runtime.api_url}",
                        "Start `breachops serve`, or deploy prefect.yaml and set "
                        "BREACHOPS_INCIDENT_DEPLOYMENT / BREACHOPS_DRILL_DEPLOYMENT.",
                    ) from None
                time.sleep(0.2)
        return api.create_flow_run(deployment_id, parameters, ["breachops", tag], idempotency_key)


def flow_run_state(app: App, flow_run_id: str) -> RunState | None:
    runtime = ensure_runtime(app, start_serve=False)
    with _api(runtime) as api:
        return api.state(flow_run_id)


def wake_after_answer(app: App, flow_run_id: str, step_id: str, by: str, timeout: float = 30.0) -> str:
    """Resume the incident's flow after an answer was recorded in the store.

    The answer is already stored; the resume only wakes the run. Its input names a step the
    suspension asked about (the server checks it against the form's schema), and the flow, finding
    the step done, reads the store instead. Returns what happened, for the user.
    """
    runtime = ensure_runtime(app)
    deadline = time.monotonic() + timeout
    with _api(runtime) as api:
        while True:
            state = api.state(flow_run_id)
            if state is not None and state.final:
                return f"the flow run is {state.name.lower()}"
            if state is not None and state.paused:
                status, _reason = api.resume(flow_run_id, resume_input(api, flow_run_id, state, step_id, by))
                if status == "ACCEPT":
                    return "the playbook goes on"
            if time.monotonic() > deadline:
                return "the flow has not reached its next gate yet; it will read the answer when it does"
            time.sleep(0.2)


def resume_input(
    api: PrefectAPI, flow_run_id: str, state: RunState, step_id: str, by: str
) -> dict[str, Any] | None:
    """An input the suspension's form accepts: the answered step if it asked about it, else one it did."""
    keyset = state.details.get("run_input_keyset")
    if not keyset:
        return None
    schema = api.run_input(flow_run_id, keyset["schema"]) or {}
    step_schema = schema.get("properties", {}).get("step", {})
    allowed = step_schema.get("enum") or ([step_schema["const"]] if "const" in step_schema else [])
    chosen = step_id if step_id in allowed or not allowed else allowed[0]
    # No one is named: this only wakes the run. Naming the person would make a stale suspension's
    # first step look answered by them (record_answer ignores an input that names no one).
    return {"step": chosen, "by": "", "note": f"{by} answered {step_id} with `breachops step done`"}


def cancel_incident_flow(app: App, flow_run_id: str) -> None:
    runtime = ensure_runtime(app, start_serve=False)
    with _api(runtime) as api:
        state = api.state(flow_run_id)
        if state is None or not state.final:
            api.cancel(flow_run_id, "incident closed")

"""What the CLI asks of Prefect: start an incident's flow, wake it after an answer, stop it.

On the embedded default this also makes sure the two background processes exist: the local Prefect
server (see ``runtime``) and `breachops serve`, which runs the flows. In team mode (PREFECT_API_URL
set) both are the team's to run, and nothing is started here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from breachops.bootstrap import App
from breachops.errors import InputError, ServiceUnavailable
from breachops.files import open_private_append
from breachops.flows.names import drill_deployment_name, incident_deployment_name
from breachops.flows.prefect_api import PrefectAPI, RunState
from breachops.flows.runtime import PrefectRuntime, ensure_prefect

__all__ = [
    "attach_run",
    "cancel_incident_flow",
    "create_run",
    "drill_run_spec",
    "ensure_runtime",
    "ensure_serve",
    "flow_run_state",
    "incident_run_spec",
    "serve_pid",
    "settings_drift",
    "start_drill_flow",
    "start_incident_flow",
    "start_serve",
    "wake_after_answer",
    "wake_run",
    "wake_serve",
]

Progress = Callable[[str], None] | None


def ensure_runtime(app: App, progress: Progress = None, start_serve: bool = True) -> PrefectRuntime:
    runtime = ensure_prefect(app.workspace, progress=progress)
    if runtime.mode == "local" and start_serve:
        ensure_serve(app, runtime, progress)
    return runtime


def serve_pid(app: App) -> int | None:
    """The pid of this workspace's `breachops serve`, if one is alive."""
    from breachops.flows.serve_record import running_pid

    return running_pid(app.workspace)


def wake_serve(app: App) -> None:
    """Tell this workspace's `serve` that a run is waiting, so that it polls now (SIGUSR1)."""
    import signal

    from breachops.flows.serve_record import read_serve_record

    pid = serve_pid(app)
    # Only a serve that says it listens: to an older one, SIGUSR1 would be fatal.
    if pid is not None and (read_serve_record(app.workspace) or {}).get("wake_signal") == "SIGUSR1":
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGUSR1)


def settings_drift(app: App) -> str | None:
    """One line when the running `serve` uses other settings than this shell gives, else None."""
    from breachops.flows.serve_record import read_serve_record, settings_differences, shell_settings

    record = read_serve_record(app.workspace) or {}
    running = record.get("settings")
    if not isinstance(running, dict):
        return None
    changes = settings_differences(running, shell_settings(app.settings.resolved_database_url))
    if not changes:
        return None
    return (
        f"`breachops serve` (pid {record.get('pid')}) runs with other settings than this shell: "
        f"{'; '.join(changes)}; `breachops restart` applies this shell's"
    )


def ensure_serve(app: App, runtime: PrefectRuntime, progress: Progress = None) -> int:
    """Start `breachops serve` in the background for this workspace unless one runs already."""
    pid = serve_pid(app)
    if pid is not None:
        if progress and (drift := settings_drift(app)):
            print(drift, file=sys.stderr)  # one line, however narrow the terminal
        return pid
    return start_serve(app, runtime, progress)


def start_serve(app: App, runtime: PrefectRuntime, progress: Progress = None) -> int:
    if progress:
        progress("starting `breachops serve` in the background to run the playbook")
    workspace = app.workspace.resolve()
    env = dict(os.environ)
    env.update({"BREACHOPS_WORKSPACE": str(workspace), "PREFECT_API_URL": runtime.api_url})
    log = open_private_append(workspace / "serve.log")
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
            # Another command started one at the same moment and holds the workspace's serve lock.
            if (other := serve_pid(app)) is not None:
                return other
            raise ServiceUnavailable(f"`breachops serve` exited at start; see {workspace / 'serve.log'}")
        time.sleep(0.1)
    raise ServiceUnavailable(f"`breachops serve` did not start within 60 s; see {workspace / 'serve.log'}")


def _api(runtime: PrefectRuntime) -> PrefectAPI:
    return PrefectAPI(runtime.api_url)


def start_incident_flow(app: App, incident_id: str, progress: Progress = None) -> str:
    """Create the incident's flow run from its deployment and record its id on the incident."""
    runtime = ensure_runtime(app, progress)
    with _api(runtime) as api:
        run_id = create_run(api, runtime, *incident_run_spec(incident_id))
    attach_run(app, incident_id, run_id, drill=False, actor="cli")
    wake_serve(app)
    return run_id


def start_drill_flow(app: App, drill_id: str, progress: Progress = None) -> str:
    """Create the drill's flow run; its id goes on the drill and on its incident record."""
    runtime = ensure_runtime(app, progress)
    with _api(runtime) as api:
        run_id = create_run(api, runtime, *drill_run_spec(drill_id))
    attach_run(app, drill_id, run_id, drill=True, actor="cli")
    wake_serve(app)
    return run_id


RunSpec = tuple[str, dict[str, Any], str, str]


def incident_run_spec(incident_id: str) -> RunSpec:
    """Deployment, parameters, tag and idempotency key of an incident's one flow run."""
    return incident_deployment_name(), {"incident_id": incident_id}, incident_id, f"incident:{incident_id}"


def drill_run_spec(drill_id: str) -> RunSpec:
    return drill_deployment_name(), {"drill_id": drill_id}, drill_id, f"drill:{drill_id}"


def attach_run(app: App, record_id: str, run_id: str, *, drill: bool, actor: str) -> None:
    """Record the flow run on the incident (and on the drill, for a drill)."""
    from breachops.store import Repository

    with app.transaction() as session:
        if drill:
            from breachops.store.drills import DrillRepository

            drills = DrillRepository(session)
            drills.attach_flow_run(drills.get_drill(record_id), run_id)
        repo = Repository(session)
        repo.attach_flow_run(repo.get_incident(record_id), run_id, actor, app.clock.now())


def create_run(
    api: PrefectAPI,
    runtime: PrefectRuntime,
    name: str,
    parameters: dict[str, Any],
    tag: str,
    idempotency_key: str,
) -> str:
    """A flow run of deployment ``name``; the idempotency key makes a retried start return the same run."""
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
    with _api(runtime) as api:
        said, woken = wake_run(api, flow_run_id, step_id, by, timeout)
    if woken:
        wake_serve(app)
    return said


def wake_run(api: PrefectAPI, flow_run_id: str, step_id: str, by: str, timeout: float) -> tuple[str, bool]:
    """Resume the run at its gate, or wait up to ``timeout`` for it to reach one: what happened, and
    whether the run goes on. Another caller resuming it first (`serve`, a second `step done`) is as
    good as our own resume: the flow reads the answer from the store either way."""
    deadline = time.monotonic() + timeout
    while True:
        state = api.state(flow_run_id)
        if state is not None and state.final:
            return f"the flow run is {state.name.lower()}", False
        if state is not None and state.paused:
            try:
                status, _reason = api.resume(flow_run_id, resume_input(api, flow_run_id, state, step_id, by))
            except LookupError:  # its suspension's form is gone: resumed by another caller meanwhile
                status = "CONFLICT"
            if status == "ACCEPT":
                return "the playbook goes on", True
            if status == "CONFLICT":  # someone else's resume: see whether it went on or ended
                state = api.state(flow_run_id)
                if state is not None and state.final:
                    return f"the flow run is {state.name.lower()}", False
                return "the playbook goes on", True
        if time.monotonic() > deadline:
            return "the flow has not reached its next gate yet; it will read the answer when it does", False
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

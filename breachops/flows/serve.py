"""`breachops serve`: the long-running process that runs the playbooks, the reminders and the console.

It registers the deployments, reschedules runs a killed predecessor left half-done, then claims and
runs scheduled flow runs in threads. On its tick it gives every open incident its flow run, wakes
incidents whose answers never reached Prefect, fires drill schedules and watches the rule catalogue;
it ends when its workspace folder is deleted. What runs when, and why: docs/runtime.md.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from breachops.bootstrap import App
from breachops.flows.runtime import PrefectRuntime
from breachops.flows.serve_record import Heartbeat, remove_serve_record, shell_settings, write_serve_record
from breachops.flows.workspace_watch import WorkspaceWatch

__all__ = ["serve"]

log = logging.getLogger("breachops.serve")
DRILL_SCHEDULE_SECONDS = 30.0
WAKE_SIGNAL = signal.SIGUSR1
CHECK_SECONDS = 5.0  # how often the workspace, the incidents' flow runs and sleeping incidents are checked


def serve(
    app: App,
    runtime: PrefectRuntime,
    *,
    poll_seconds: float = 0.5,
    workers: int = 8,
    stop: threading.Event | None = None,
    check_seconds: float = CHECK_SECONDS,
) -> None:
    from breachops.flows.deploy import register
    from breachops.flows.executor import FlowExecutor
    from breachops.services.catalogue_changes import CatalogueWatch

    stop = stop or threading.Event()
    wake = threading.Event()
    kicked = threading.Event()  # the reminders look at once (not from the signal handler: locks)

    def on_wake(*_: object) -> None:
        kicked.set()
        wake.set()

    def on_stop(*_: object) -> None:
        stop.set()
        wake.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_stop)
        signal.signal(WAKE_SIGNAL, on_wake)  # a CLI created or resumed a run, and queued mail
    _watch_workspace(app, stop, wake, min(check_seconds, 2.0))
    heartbeat = Heartbeat(app.workspace)
    heartbeat.beat(force=True)  # alive from the start; registering the deployments takes a while
    deployments = register()
    executor = FlowExecutor(deployments, poll_seconds=poll_seconds, max_workers=workers, clock=app.clock)
    if runtime.mode == "local" or os.environ.get("BREACHOPS_SERVE_RECOVER") == "1":
        executor.recover_orphans()
    settings = shell_settings(app.settings.resolved_database_url)
    write_serve_record(app.workspace, runtime.api_url, runtime.mode, settings)
    log.info("serving %d deployment(s) from %s", len(deployments), runtime.api_url)
    log.info("settings: %s", ", ".join(f"{k}={v}" for k, v in settings.items()))
    reminders = _start_reminders(app)
    from breachops.web.app import start_web

    web = start_web(app, send_now=reminders.tick)  # the console, beside the reminder service
    # A run that suspends at a gate or ends has just queued mail (a step waiting for its owners).
    executor.on_run_done = reminders.wake
    last_check = -check_seconds
    seen_restarts = [_server_restarts(app)]
    catalogue = CatalogueWatch(app)  # re-assesses open incidents when the rule catalogue changes
    catalogue.check()
    last_schedules = -DRILL_SCHEDULE_SECONDS

    def on_poll(error: Exception | None) -> None:
        if error is None:
            heartbeat.prefect_ok()
            return
        if heartbeat.prefect_error is None:  # once per outage, not twice a second
            log.warning("cannot reach Prefect at %s: %s; retrying", runtime.api_url, error)
        heartbeat.prefect_failed(f"{type(error).__name__}: {error}")

    def tick() -> None:
        nonlocal last_check, last_schedules
        heartbeat.beat()
        catalogue.check()
        if kicked.is_set():
            kicked.clear()
            reminders.wake()
        prefect_down = heartbeat.prefect_error is not None and runtime.mode == "local"
        if prefect_down and not _bring_back_local_server(app, runtime, heartbeat):
            return
        if time.monotonic() - last_schedules >= DRILL_SCHEDULE_SECONDS:
            last_schedules = time.monotonic()
            _run_drill_schedules(app, reminders)
        if time.monotonic() - last_check >= check_seconds:
            last_check = time.monotonic()
            if runtime.mode == "local" and (now_restarts := _server_restarts(app)) != seen_restarts[0]:
                log.warning("the local Prefect server was restarted; rescheduling runs it lost track of")
                executor.recover_orphans()
                seen_restarts[0] = now_restarts  # only once that worked: else the next check tries again
            _reconcile(app, runtime)
            _nudge_sleeping_incidents(app, runtime.api_url)

    try:
        executor.run_forever(stop, on_tick=tick, on_poll=on_poll, wake=wake)
    finally:
        web.stop()
        reminders.stop()
        executor.shutdown(wait=False)
        remove_serve_record(app.workspace)


def _watch_workspace(app: App, stop: threading.Event, wake: threading.Event, every: float) -> None:
    """End `serve` once its workspace folder is deleted: nothing outlives its workspace.

    A thread of its own, so that a poll stuck on an unreachable server does not delay it; if the main
    loop has not ended 10 s after being told to, the process ends anyway.
    """
    watch = WorkspaceWatch(app.workspace)

    def run() -> None:
        while not stop.wait(every):
            if watch.gone:
                log.warning("workspace %s deleted; stopping", watch.path)
                stop.set()
                wake.set()
                time.sleep(10)
                os._exit(0)

    threading.Thread(target=run, name="breachops-workspace-watch", daemon=True).start()


def _bring_back_local_server(app: App, runtime: PrefectRuntime, heartbeat: Heartbeat) -> bool:
    """The local server stopped answering: its watchdog restarts it on the same address; if the
    watchdog is gone too, start a server on the recorded port (this process's clients know it)."""
    from breachops.flows.runtime import healthy, restart_local_server

    if healthy(runtime.api_url):
        return True  # it answers (the error was something else)
    try:
        restarted = restart_local_server(app.workspace)
    except Exception as exc:
        log.error("could not restart the local Prefect server: %s", exc)
        return False
    if restarted.api_url != runtime.api_url:
        log.error("the local Prefect server came back at %s; restart serve to follow it", restarted.api_url)
        return False
    heartbeat.prefect_restarts += 1
    log.info("the local Prefect server answers again at %s", runtime.api_url)
    return True


def _server_restarts(app: App) -> tuple[int, int]:
    """Which watchdog keeps the local server, and how often it restarted it: a change means a new server."""
    from breachops.flows.runtime import server_record

    record = server_record(app.workspace) or {}
    return int(record.get("watchdog") or 0), int(record.get("restarts") or 0)


def _reconcile(app: App, runtime: PrefectRuntime) -> None:
    from breachops.flows.reconcile import reconcile_flow_runs

    try:
        reconcile_flow_runs(app, runtime)
    except Exception as exc:  # Prefect or the database briefly away: the next check tries again
        log.warning("could not check the incidents' flow runs: %s", exc)


def _start_reminders(app: App) -> Any:
    """The reminder and mail service: one per application database, inside `serve`."""
    from breachops.flows.scheduler import ReminderService

    mail = app.mail_settings
    service = ReminderService(app, app.channel(), fallback=None, sender=mail.mail_from, senders=mail.senders)
    service.start()
    return service


def _run_drill_schedules(app: App, reminders: Any) -> None:
    """Invitations of scheduled drills (sent at once by the reminder service), then due drills."""
    from breachops.flows.launcher import start_drill_flow
    from breachops.flows.triggers import run_schedules

    try:
        run_schedules(app, start_drill_flow, send_queued=reminders.tick)
    except Exception:  # the database may be busy or briefly away; the next round tries again
        log.exception("drill schedules failed; retrying in %.0f s", DRILL_SCHEDULE_SECONDS)


def _nudge_sleeping_incidents(app: App, api_url: str) -> None:
    """Resume suspended runs whose waiting steps were answered in the store but never woken."""
    from breachops.flows.launcher import resume_input
    from breachops.flows.prefect_api import PrefectAPI
    from breachops.services import steps as service
    from breachops.store import Repository

    with app.transaction() as session:
        open_runs = [
            (i.id, i.flow_run_id)
            for i in Repository(session).list_incidents(include_drills=True, status="open")
            if i.flow_run_id
        ]
    if not open_runs:
        return
    with PrefectAPI(api_url) as api:
        states = api.states([run_id for _incident, run_id in open_runs])  # one request, not one each
        for incident_id, run_id in open_runs:
            state = states.get(run_id)
            if state is None or not state.paused:
                continue
            where = service.progress(app, incident_id)
            waiting = {s.id for s in where.waiting}
            with app.transaction() as session:
                rows = {r.step_id: r.status for r in Repository(session).steps(incident_id)}
            marked = {step for step, status in rows.items() if status == "waiting"}
            # The flow marked what it waits for; anything else now ready means an answer it never saw.
            if where.finished or where.runnable or (waiting - marked):
                log.info("waking %s: its answers are in the store", incident_id)
                try:
                    api.resume(run_id, resume_input(api, run_id, state, "", "serve"))
                except Exception:  # resumed meanwhile by someone else
                    log.debug("could not wake %s", incident_id, exc_info=True)

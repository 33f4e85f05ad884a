"""`breachops serve`: the long-running process that runs the playbooks (and, later, the scheduler).

It registers the deployments, reschedules runs a killed predecessor left half-done, then claims and
runs scheduled flow runs in threads. Every few seconds it also wakes any incident whose answers are in
the store while its flow still sleeps (a resume that never reached Prefect), so no answer is lost.
Every 30 s it sends the invitations of scheduled drills and starts the drills that are due.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from typing import Any, cast

from breachops.bootstrap import App
from breachops.files import write_private
from breachops.flows.runtime import PrefectRuntime

__all__ = ["serve"]

log = logging.getLogger("breachops.serve")
DRILL_SCHEDULE_SECONDS = 30.0


def serve(
    app: App,
    runtime: PrefectRuntime,
    *,
    poll_seconds: float = 0.5,
    workers: int = 8,
    stop: threading.Event | None = None,
) -> None:
    from breachops.flows.deploy import register
    from breachops.flows.executor import FlowExecutor
    from breachops.services.catalogue_changes import CatalogueWatch

    stop = stop or threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        if threading.current_thread() is threading.main_thread():
            signal.signal(sig, lambda *_: stop.set())
    deployments = register()
    executor = FlowExecutor(deployments, poll_seconds=poll_seconds, max_workers=workers, clock=app.clock)
    if runtime.mode == "local" or os.environ.get("BREACHOPS_SERVE_RECOVER") == "1":
        executor.recover_orphans()
    record = app.workspace.resolve() / "serve.json"
    write_private(
        record, json.dumps({"pid": os.getpid(), "api_url": runtime.api_url, "started": time.time()})
    )
    log.info("serving %d deployment(s) from %s", len(deployments), runtime.api_url)
    reminders = _start_reminders(app)
    catalogue = CatalogueWatch(app)  # re-assesses open incidents when the rule catalogue changes
    catalogue.check()
    last_nudge = 0.0
    last_schedules = -DRILL_SCHEDULE_SECONDS

    def tick() -> None:
        nonlocal last_nudge, last_schedules
        catalogue.check()
        if time.monotonic() - last_schedules >= DRILL_SCHEDULE_SECONDS:
            last_schedules = time.monotonic()
            _run_drill_schedules(app, reminders)
        if time.monotonic() - last_nudge > 5:
            last_nudge = time.monotonic()
            _nudge_sleeping_incidents(app, runtime.api_url)

    try:
        executor.run_forever(stop, on_tick=tick)
    finally:
        reminders.stop()
        executor.shutdown(wait=False)
        try:
            if json.loads(record.read_text()).get("pid") == os.getpid():
                record.unlink()
        except (OSError, ValueError):
            pass


def _start_reminders(app: App) -> Any:
    """The reminder and mail service: one per application database, inside `serve`."""
    from breachops.flows.scheduler import ReminderService
    from breachops.notifications import build_channel, load_mail_settings
    from breachops.notifications.outbox import drill_participants

    mail = load_mail_settings(secret_block=prefect_secret)
    channel = build_channel(mail, app.workspace, clock=app.clock, drill_participants=drill_participants(app))
    service = ReminderService(app, channel, fallback=None, sender=mail.mail_from, senders=mail.senders)
    service.start()
    return service


def prefect_secret(name: str) -> str | None:
    """The value of the Prefect Secret block ``name``: how a team keeps the SendGrid key out of files and
    environments. It goes straight into the mail settings' ``Secret``; it is never logged or passed on."""
    from prefect.blocks.system import Secret as SecretBlock

    block = cast(SecretBlock, SecretBlock.load(name))  # a block, when called outside an event loop
    value = block.get()
    return value if isinstance(value, str) else None


def _run_drill_schedules(app: App, reminders: Any) -> None:
    """Invitations of scheduled drills (sent at once by the reminder service), then due drills."""
    from breachops.flows.drill_schedules import run_schedules
    from breachops.flows.launcher import start_drill_flow

    try:
        run_schedules(app, start_drill_flow, send_queued=reminders.tick)
    except Exception:  # the database may be busy or briefly away; the next round tries again
        log.exception("drill schedules failed; retrying in %.0f s", DRILL_SCHEDULE_SECONDS)


def _nudge_sleeping_incidents(app: App, api_url: str) -> None:
    """Resume suspended runs whose waiting steps were answered in the store but never woken."""
    from breachops.flows import service
    from breachops.flows.launcher import resume_input
    from breachops.flows.prefect_api import PrefectAPI
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
        for incident_id, run_id in open_runs:
            state = api.state(run_id)
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

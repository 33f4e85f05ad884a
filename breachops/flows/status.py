"""What runs for a workspace and whether it is healthy: the data behind `breachops status`.

Read from the workspace's records (``prefect/server.json``, ``serve.json``, ``serve.heartbeat``),
from /proc, from one health request to Prefect and from the application database. Starts nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from typing import Any

from breachops.bootstrap import App
from breachops.flows.procinfo import process_info
from breachops.flows.runtime import healthy, server_record
from breachops.flows.serve_record import (
    read_heartbeat,
    read_serve_record,
    settings_differences,
    shell_settings,
)

__all__ = ["STALL_SECONDS", "workspace_status"]

STALL_SECONDS = 30.0  # a serve whose heartbeat is older than this has stopped ticking


def _process(pid: int | None) -> dict[str, Any] | None:
    info = process_info(pid) if pid else None
    return None if info is None else asdict(info)


def workspace_status(app: App, *, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    problems: list[str] = []
    team_url = os.environ.get("PREFECT_API_URL")
    server = server_record(app.workspace)
    local_url = str(server.get("api_url")) if server else None
    api_url = (local_url if team_url is None or team_url == local_url else team_url.rstrip("/")) or None
    mode = "team" if team_url and team_url.rstrip("/") != local_url else "local"

    prefect: dict[str, Any] = {"mode": mode, "api_url": api_url, "ui_url": _ui(api_url)}
    if server:
        prefect["server"] = _process(int(server.get("pid") or 0))
        prefect["watchdog"] = _process(int(server.get("watchdog") or 0))
        prefect["server_restarts"] = server.get("restarts", 0)
    prefect["answers"] = bool(api_url) and healthy(api_url or "", timeout=2.0)
    if api_url and not prefect["answers"]:
        problems.append(f"the Prefect server at {api_url} does not answer")
    if mode == "local" and server and prefect.get("server") is None:
        problems.append("the local Prefect server is not running (the next command that needs it starts it)")

    record = read_serve_record(app.workspace)
    serve: dict[str, Any] | None = None
    shell = shell_settings(app.settings.resolved_database_url)
    drift: list[str] = []
    if record is not None:
        serve = _process(int(record.get("pid") or 0))
    if serve is not None and record is not None:
        beat = read_heartbeat(app.workspace) or {}
        serve.update(
            {
                "api_url": record.get("api_url"),
                "settings": record.get("settings", {}),
                "last_tick_seconds_ago": _ago(now, beat.get("at")),
                "prefect_reached_seconds_ago": _ago(now, beat.get("prefect_ok_at")),
                "prefect_error": beat.get("prefect_error"),
                "prefect_restarts": beat.get("prefect_restarts", 0),
            }
        )
        ago = serve["last_tick_seconds_ago"]
        if ago is None or ago > STALL_SECONDS:
            since = "yet" if ago is None else f"for {_age(ago)}"
            problems.append(f"serve (pid {serve['pid']}) has not ticked {since}: stalled")
        if beat.get("prefect_error"):
            problems.append(
                f"serve cannot reach Prefect (last reached {_age(serve['prefect_reached_seconds_ago'])} "
                f"ago): {beat['prefect_error']}"
            )
        drift = settings_differences(serve["settings"], shell)
        if drift:
            problems.append(
                "serve runs with other settings than this shell (`breachops restart`): " + "; ".join(drift)
            )

    store = _store_status(app)
    waiting = store["open_incidents"] or store["running_drills"] or store["messages_queued"]
    if serve is None and mode == "local" and waiting:
        problems.append("`breachops serve` is not running: playbooks do not advance, reminders do not go out")
    if store["messages_parked"]:
        problems.append(f"{store['messages_parked']} message(s) failed for good (`breachops outbox list`)")
    return {
        "workspace": str(app.workspace.resolve()),
        "prefect": prefect,
        "serve": serve,
        "database_url": shell["database_url"],
        "mail": {k: v for k, v in shell.items() if k != "database_url"},
        "settings_drift": drift,
        **store,
        "problems": problems,
        "healthy": not problems,
    }


def _store_status(app: App) -> dict[str, Any]:
    from breachops.deadlines.reminders import ReminderPolicy
    from breachops.notifications.outbox import next_due
    from breachops.store import Repository
    from breachops.store.drills import DrillRepository
    from breachops.store.outbox_reads import message_counts

    with app.transaction() as session:
        incidents = [i.id for i in Repository(session).list_incidents(status="open")]
        drills = [d.id for d in DrillRepository(session).list_drills(status="running")]
        counts = message_counts(session)
    policy = ReminderPolicy().with_overrides(app.settings.reminders)  # as serve's reminder service
    due = next_due(app, app.clock.now(), policy=policy)
    return {
        "open_incidents": incidents,
        "running_drills": drills,
        "next_reminder_due": due.isoformat() if due else None,
        "messages_queued": counts.get("queued", 0),
        "messages_parked": counts.get("failed", 0),
    }


def _ui(api_url: str | None) -> str | None:
    if not api_url:
        return None
    return api_url[: -len("/api")] if api_url.endswith("/api") else api_url


def _ago(now: float, at: Any) -> float | None:
    return None if not isinstance(at, int | float) else round(max(0.0, now - at), 1)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"

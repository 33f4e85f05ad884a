"""`breachops status`, `stop` and `restart`: see and control what runs in the background."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from breachops.commands.common import TableOrJson, make_app, out, say

__all__ = ["restart", "status", "stop"]


def status(
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table for people, json for scripts.")] = (
        TableOrJson.table
    ),
) -> None:
    """What runs for this workspace, with which settings, and anything unhealthy (exit 1 if so)."""
    from breachops.flows.status import workspace_status
    from breachops.web.links import base_url

    app = make_app()
    found = workspace_status(app)
    # The console's address: BREACHOPS_WEB_URL, else the one a running console recorded.
    found["web_url"] = base_url(app.workspace) if found["serve"] is not None else None
    if fmt is TableOrJson.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
    else:
        _render(found)
    if found["problems"]:
        raise typer.Exit(1)


def _mb(info: dict[str, Any] | None) -> str:
    if info is None:
        return "not running"
    rss = info.get("rss_bytes")
    up = info.get("uptime_seconds")
    parts = [f"pid {info['pid']}"]
    if up is not None:
        parts.append(f"up {_duration(up)}")
    if rss is not None:
        parts.append(f"{rss / 2**20:.0f} MB")
    return ", ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _render(found: dict[str, Any]) -> None:
    prefect, serve = found["prefect"], found["serve"]
    table = Table(show_header=False, title=f"breachops at {escape(found['workspace'])}")
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, str]] = [
        ("Prefect API", f"{prefect['api_url'] or '-'} ({prefect['mode']}; "
                        f"{'answers' if prefect['answers'] else 'does not answer'})"),
        ("Prefect UI", prefect["ui_url"] or "-"),
    ]  # fmt: skip
    if "server" in prefect:
        restarts = prefect.get("server_restarts") or 0
        rows.append(
            ("local server", _mb(prefect["server"]) + (f", restarted {restarts}×" if restarts else ""))
        )
    rows.append(("serve", _mb(serve)))
    rows.append(("web console", found.get("web_url") or "-"))
    if serve is not None:
        rows.append(("serve ticked", f"{serve['last_tick_seconds_ago']} s ago"))
        settings = serve.get("settings", {})
        rows.append(("serve settings", ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None)))
    rows.append(("database", found["database_url"]))
    mail = found["mail"]
    rows.append(
        ("mail", mail.get("mail_error") or f"{mail.get('mail_channel')} from {mail.get('mail_from')}")
    )
    rows.append(("next reminder due", found["next_reminder_due"] or "none"))
    rows.append(("open incidents", ", ".join(found["open_incidents"]) or "none"))
    rows.append(("running drills", ", ".join(found["running_drills"]) or "none"))
    rows.append(("messages", f"{found['messages_queued']} queued, {found['messages_parked']} parked"))
    for key, value in rows:
        table.add_row(key, escape(str(value)))
    out.print(table)
    for problem in found["problems"]:
        out.print(f"[yellow]![/yellow] {escape(problem)}", highlight=False)
    if not found["problems"]:
        out.print("healthy")


def stop(
    grace: Annotated[
        float, typer.Option("--grace", min=0, help="Seconds to wait after SIGTERM before SIGKILL.")
    ] = 15.0,
) -> None:
    """End the background processes this workspace started: `serve` and the local Prefect server."""
    from breachops.flows.stopping import stop_workspace

    app = make_app()
    stopped = stop_workspace(app.workspace, grace)
    if not stopped:
        out.print(f"nothing runs for {escape(str(app.workspace.resolve()))}")
    for what in stopped:
        out.print(f"stopped {escape(what)}")


def restart() -> None:
    """Stop `serve` and start it again with this shell's settings (mail channel, sender, database)."""
    from breachops.flows.launcher import start_serve
    from breachops.flows.runtime import ensure_prefect
    from breachops.flows.stopping import stop_serve

    app = make_app()
    stopped = stop_serve(app.workspace)
    if stopped:
        say(f"stopped {stopped}")
    runtime = ensure_prefect(app.workspace, progress=say)
    pid = start_serve(app, runtime)
    out.print(
        f"`breachops serve` runs as pid {pid} with this shell's settings; log: {app.workspace / 'serve.log'}"
    )

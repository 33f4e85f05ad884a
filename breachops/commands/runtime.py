"""`breachops init` (a workspace to edit) and `breachops serve` (the process that runs playbooks)."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Annotated

import typer

from breachops.commands.common import make_app, out, say
from breachops.errors import InputError
from breachops.files import private_dir
from breachops.textsafe import markup

__all__ = ["init", "serve"]


def init(
    workspace: Annotated[
        Path | None, typer.Option("--workspace", "-w", help="Default: BREACHOPS_WORKSPACE or ./.breachops")
    ] = None,
) -> None:
    """Create a workspace: settings, an example agreement and the default playbooks, to edit."""
    from breachops.config.workspace import WORKSPACE_DIR, WORKSPACE_ENV, init_workspace
    from breachops.playbooks import shipped_playbook_files

    # Here, as `git init` does, unless told where: not a workspace found in a parent folder.
    target = workspace or Path(os.environ.get(WORKSPACE_ENV) or WORKSPACE_DIR)
    written = init_workspace(target, shipped_playbook_files())
    from breachops.web.secret import workspace_secret

    workspace_secret(target)  # signs the console's links; private to this workspace
    for path in written:
        out.print(f"wrote {markup(path)}", highlight=False)
    if not written:
        out.print(f"{markup(target)} is already a workspace; nothing overwritten", highlight=False)
    agreement = markup(target / "agreement.yaml")
    out.print(f"next: edit {agreement}, then `breachops incident open FACTS`", highlight=False)


def serve(
    poll: Annotated[float, typer.Option("--poll", help="Seconds between polls (2 s if idle).")] = 0.5,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Flow runs executed at once.")] = 8,
) -> None:
    """Run the playbooks and drills: claim and run their flow runs, send reminders, fire drill
    schedules, until stopped.

    Against a team's Prefect server when PREFECT_API_URL is set; else the workspace's local server,
    started if needed.
    """
    from breachops.flows.runtime import ensure_prefect
    from breachops.flows.serve import serve as run_serve
    from breachops.flows.serve_record import AlreadyServing, acquire_serve_lock

    if not (math.isfinite(poll) and 0 < poll <= 3600):
        raise InputError("--poll", None, poll, "must be a number of seconds above 0 (at most 3600)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Each poll is an HTTP request: at INFO, httpx would log two lines a second while nothing happens.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # three lines per 30 s safety tick
    app = make_app()
    private_dir(app.workspace)
    try:
        lock = acquire_serve_lock(app.workspace)  # held until this process ends
    except AlreadyServing as exc:  # a refusal like any other: one line, exit 2
        raise InputError(None, None, None, str(exc)) from None
    runtime = ensure_prefect(app.workspace, progress=say)
    say(f"serving playbooks and drills from {runtime.api_url} ({runtime.mode} mode); Ctrl-C stops")
    run_serve(app, runtime, poll_seconds=poll, workers=workers)
    # A drill or a step may still be running in a worker thread; waiting for it would make a stop
    # take as long as the drill. Every run is idempotent and the next `serve` reschedules it.
    logging.shutdown()
    lock.close()
    os._exit(0)

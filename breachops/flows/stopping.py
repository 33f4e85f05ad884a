"""Ending the background processes a workspace started: `breachops stop` and `breachops restart`."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from breachops.flows.procinfo import alive
from breachops.flows.runtime import stop_local_server
from breachops.flows.serve_record import running_pid

__all__ = ["end_process", "stop_serve", "stop_workspace"]


def end_process(pid: int, grace: float) -> bool:
    """SIGTERM ``pid``, wait up to ``grace`` seconds, then SIGKILL; True if it had to be killed."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while alive(pid):
        time.sleep(0.05)
    return True


def stop_serve(workspace: Path, grace: float = 15.0) -> str | None:
    pid = running_pid(workspace)
    if pid is None:
        return None
    killed = end_process(pid, grace)
    return f"`breachops serve` (pid {pid}{', killed after ' + str(int(grace)) + ' s' if killed else ''})"


def stop_workspace(workspace: Path, grace: float = 15.0) -> list[str]:
    """Stop `serve` first (it would bring the server back), then the local Prefect server."""
    stopped = []
    if (serve := stop_serve(workspace, grace)) is not None:
        stopped.append(serve)
    if (server := stop_local_server(workspace, grace)) is not None:
        stopped.append(f"the local Prefect server (pid {server}) and its watchdog")
    return stopped

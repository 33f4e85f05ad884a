"""The local Prefect server's keeper: ``python -m breachops.flows.watchdog WORKSPACE PORT [COMMAND...]``.

The CLI starts this small process (standard library only) instead of the server itself. It runs
`prefect server start` on the given port as its child, restarts it on the same port when it dies, and
ends it on SIGTERM or when the workspace folder is deleted; the child also gets SIGTERM should this
process be killed. ``server.json`` in the Prefect home records both pids and the address.
docs/runtime.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from breachops.files import write_private
from breachops.flows.workspace_watch import WorkspaceWatch

CHECK_SECONDS = 2.0
GRACE_SECONDS = 10.0
MAX_QUICK_DEATHS = 5  # restarts within QUICK_WINDOW before giving up (a server that cannot start)
QUICK_WINDOW = 120.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends it SIGTERM when the watchdog dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    print(f"{stamp} breachops watchdog: {message}", flush=True)


def _record(home: Path, pid: int, port: int, restarts: int) -> None:
    data = {
        "pid": pid,
        "watchdog": os.getpid(),
        "api_url": f"http://127.0.0.1:{port}/api",
        "port": port,
        "restarts": restarts,
        "started": time.time(),
    }
    write_private(home / "server.json", json.dumps(data))  # private, and whole: never seen half written


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(workspace: Path, port: int, command: list[str] | None = None) -> int:
    watch = WorkspaceWatch(workspace)
    home = workspace.resolve() / "prefect"
    stopping = False

    def on_term(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    command = command or [
        *(sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port))
    ]
    deaths: list[float] = []
    restarts = 0
    while True:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent, cwd=home)
        _record(home, process.pid, port, restarts)
        while process.poll() is None and not stopping and not watch.gone:
            time.sleep(CHECK_SECONDS)  # an interrupted sleep just checks again
        if stopping or watch.gone:
            _log("workspace deleted; stopping the Prefect server" if watch.gone else "stopping")
            _end(process)
            if not watch.gone:
                (home / "server.json").unlink(missing_ok=True)
            return 0
        now = time.monotonic()
        deaths = [t for t in deaths if now - t < QUICK_WINDOW] + [now]
        if len(deaths) > MAX_QUICK_DEATHS:
            _log(f"the Prefect server died {len(deaths)} times in {QUICK_WINDOW:.0f} s; giving up")
            return 1
        restarts += 1
        _log(f"the Prefect server (pid {process.pid}) exited with {process.returncode}; restarting it")
        time.sleep(min(2.0 ** (len(deaths) - 1), 30.0))
        if stopping or watch.gone:
            return 0


if __name__ == "__main__":
    # Anything after WORKSPACE PORT replaces the server command (the tests use a stand-in).
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:] or None))

"""Where Prefect runs: a team's server named by PREFECT_API_URL, or one local server started for you.

On the embedded default the CLI starts one Prefect server on loopback, its database and result
storage in the workspace, the first time it needs one, and reuses it afterwards (a server answers a
resume in about 1.5 s; Prefect's ephemeral mode would start a new API server in every process).
Prefect is configured through the environment *before* it is imported, so that no setting, and no
telemetry, escapes this module's control.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from breachops.files import open_private_append, private_dir, write_private

__all__ = ["LOCAL_HOST", "PrefectRuntime", "configure_prefect_env", "ensure_prefect", "stop_local_server"]

LOCAL_HOST = "127.0.0.1"
_SERVER_FILE = "server.json"


@dataclass(frozen=True)
class PrefectRuntime:
    api_url: str
    mode: str  # "local" (started for you) or "team" (PREFECT_API_URL)
    home: Path
    pid: int | None = None


def _prefect_home(workspace: Path) -> Path:
    return (workspace / "prefect").resolve()


def quiet_defaults(workspace: Path) -> dict[str, str]:
    """Settings every breachops process gives Prefect: no telemetry, results kept in the workspace."""
    home = _prefect_home(workspace)
    return {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": str(home),
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "true",
        "PREFECT_LOCAL_STORAGE_PATH": str(home / "storage"),
        "PREFECT_LOGGING_TO_API_ENABLED": "true",
        "PREFECT_SERVER_API_HOST": LOCAL_HOST,
        "PREFECT_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        # A process that forgot to point Prefect at a server must fail, not start a temporary one.
        "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false",
        "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    }


def configure_prefect_env(workspace: Path, api_url: str | None = None) -> None:
    """Point this process's Prefect at ``api_url`` (or leave a team's PREFECT_API_URL alone)."""
    for key, value in quiet_defaults(workspace).items():
        if key in (
            "DO_NOT_TRACK",
            "PREFECT_SERVER_ANALYTICS_ENABLED",
            "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY",
        ):
            os.environ[key] = value  # never left to the environment
        else:
            os.environ.setdefault(key, value)
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url


def _healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCAL_HOST, 0))
        return int(s.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time decides whether to start the server (two CLIs at once must not start two)."""
    if not path.parent.exists():
        private_dir(path.parent)
    with open_private_append(path) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_prefect(
    workspace: Path,
    *,
    progress: Callable[[str], None] | None = None,
    start_timeout: float = 120.0,
) -> PrefectRuntime:
    """The Prefect API this workspace uses, starting a local server if there is none yet."""
    team_url = os.environ.get("PREFECT_API_URL")
    home = _prefect_home(workspace)
    if team_url and os.environ.get("BREACHOPS_LOCAL_PREFECT") != team_url:
        configure_prefect_env(workspace)
        return PrefectRuntime(api_url=team_url.rstrip("/"), mode="team", home=home)

    with _locked(home / "server.lock"):
        running = read_local_server(workspace)
        if running is not None:
            configure_prefect_env(workspace, running.api_url)
            os.environ["BREACHOPS_LOCAL_PREFECT"] = running.api_url
            return running
        if progress:
            progress("starting a local Prefect server on loopback (first use; about 10-20 s)")
        runtime = _start_local_server(workspace, start_timeout)
    configure_prefect_env(workspace, runtime.api_url)
    os.environ["BREACHOPS_LOCAL_PREFECT"] = runtime.api_url
    return runtime


def read_local_server(workspace: Path) -> PrefectRuntime | None:
    """The local server recorded in the workspace, if it still answers."""
    home = _prefect_home(workspace)
    record = home / _SERVER_FILE
    if not record.exists():
        return None
    try:
        data = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    pid, url = int(data.get("pid", 0)), str(data.get("api_url", ""))
    if pid and _alive(pid) and url and _healthy(url):
        return PrefectRuntime(api_url=url, mode="local", home=home, pid=pid)
    return None


def _start_local_server(workspace: Path, timeout: float) -> PrefectRuntime:
    home = _prefect_home(workspace)
    private_dir(home)  # Prefect's database and logs: as private as the workspace's own
    port = _free_port()
    api_url = f"http://{LOCAL_HOST}:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(quiet_defaults(workspace))
    env.update(
        {
            "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            # SQLite serialises writers: under a burst, wait for the lock rather than answer 503.
            "PREFECT_SERVER_DATABASE_TIMEOUT": "60",
            "PREFECT_SERVER_DATABASE_CONNECTION_TIMEOUT": "30",
        }
    )
    log = open_private_append(home / "server.log")
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", LOCAL_HOST, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # outlives the command that started it
        cwd=home,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the local Prefect server exited with status {process.returncode}; see {home / 'server.log'}"
            )
        if _healthy(api_url, timeout=1.0):
            write_private(
                home / _SERVER_FILE, json.dumps({"pid": process.pid, "api_url": api_url, "port": port})
            )
            return PrefectRuntime(api_url=api_url, mode="local", home=home, pid=process.pid)
        time.sleep(0.25)
    process.terminate()
    raise RuntimeError(
        f"the local Prefect server did not answer within {timeout:.0f} s; see {home / 'server.log'}"
    )


def stop_local_server(workspace: Path) -> bool:
    """Stop the workspace's local server, if this workspace started one."""
    running = read_local_server(workspace)
    if running is None or running.pid is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(running.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _alive(running.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    (running.home / _SERVER_FILE).unlink(missing_ok=True)
    return True

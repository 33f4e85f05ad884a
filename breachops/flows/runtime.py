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
from typing import Any

from breachops.errors import ServiceUnavailable
from breachops.files import open_private_append, private_dir
from breachops.flows.procinfo import alive

__all__ = [
    "LOCAL_HOST",
    "PrefectRuntime",
    "configure_prefect_env",
    "ensure_prefect",
    "healthy",
    "read_local_server",
    "restart_local_server",
    "server_record",
    "stop_local_server",
]

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


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


def _answers(api_url: str, tries: int = 3) -> bool:
    """Whether anything answers HTTP at ``api_url``. Any status counts: Prefect Cloud asks for its key
    before it says more, and what a busy server refuses, the API client retries."""
    for attempt in range(tries):
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2.0):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError, TimeoutError):
            if attempt < tries - 1:
                time.sleep(0.5)
    return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCAL_HOST, 0))
        return int(s.getsockname()[1])


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
        api_url = team_url.rstrip("/")
        # Asked before anything is recorded, so that a wrong address refuses the command whole.
        if not _answers(api_url):
            raise ServiceUnavailable(
                f"the Prefect API at {api_url} (PREFECT_API_URL) does not answer: start the team's "
                "Prefect server, or unset PREFECT_API_URL to use a local one"
            )
        configure_prefect_env(workspace)
        return PrefectRuntime(api_url=api_url, mode="team", home=home)

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


def server_record(workspace: Path) -> dict[str, Any] | None:
    """What ``server.json`` says (pid, watchdog pid, address, port), alive or not."""
    try:
        data = json.loads((_prefect_home(workspace) / _SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_local_server(workspace: Path, *, restart_wait: float = 90.0) -> PrefectRuntime | None:
    """The local server recorded in the workspace, if it answers.

    While its watchdog restarts a server that died, wait (up to ``restart_wait``) for it to answer
    on the same address rather than start a second one.
    """
    data = server_record(workspace)
    if data is None:
        return None
    url, watchdog = str(data.get("api_url", "")), int(data.get("watchdog") or 0)
    deadline = time.monotonic() + restart_wait
    while url:
        pid = int((server_record(workspace) or data).get("pid") or 0)
        if alive(pid) and healthy(url):
            return PrefectRuntime(api_url=url, mode="local", home=_prefect_home(workspace), pid=pid)
        if not alive(watchdog) or time.monotonic() > deadline:
            return None
        time.sleep(0.5)
    return None


def _start_local_server(workspace: Path, timeout: float, port: int | None = None) -> PrefectRuntime:
    """Start the server under its watchdog (``watchdog.py``), on ``port`` or a free one."""
    home = _prefect_home(workspace)
    private_dir(home)  # Prefect's database and logs: as private as the workspace's own
    port = port or _free_port()
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
            # Loops this server has no use for, which cost CPU while idle: no deployment has a
            # Prefect schedule (drill schedules live in breachops' database), no work pool, no
            # automation; and `serve` claims Scheduled runs whether Prefect calls them late or not.
            "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
        }
    )
    (home / _SERVER_FILE).unlink(missing_ok=True)
    log = open_private_append(home / "server.log")
    process = subprocess.Popen(
        [sys.executable, "-m", "breachops.flows.watchdog", str(workspace.resolve()), str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # outlives the command that started it; `stop` ends its group
        cwd=home,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceUnavailable(
                f"the local Prefect server exited with status {process.returncode}; see {home / 'server.log'}"
            )
        if healthy(api_url, timeout=1.0):
            record = server_record(workspace) or {}
            pid = int(record.get("pid") or process.pid)
            return PrefectRuntime(api_url=api_url, mode="local", home=home, pid=pid)
        time.sleep(0.25)
    _end_group(process.pid, grace=10.0)
    raise ServiceUnavailable(
        f"the local Prefect server did not answer within {timeout:.0f} s; see {home / 'server.log'}"
    )


def restart_local_server(workspace: Path, timeout: float = 120.0) -> PrefectRuntime:
    """Bring the workspace's server back on its recorded port (for `serve`, whose clients know it)."""
    with _locked(_prefect_home(workspace) / "server.lock"):
        running = read_local_server(workspace)
        if running is not None:
            return running
        record = server_record(workspace) or {}
        if alive(int(record.get("watchdog") or 0)):  # still bringing it back: a second would fight it
            raise ServiceUnavailable(f"the local Prefect server at {record.get('api_url')} is restarting")
        return _start_local_server(workspace, timeout, port=int(record.get("port") or 0) or None)


def _end_group(leader: int, grace: float) -> bool:
    """SIGTERM the process group ``leader`` leads; SIGKILL after ``grace`` s. False if none was there."""
    try:
        os.killpg(leader, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + grace
    while _group_alive(leader) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(leader, signal.SIGKILL)
    return True


def _group_alive(leader: int) -> bool:
    try:
        os.killpg(leader, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return alive(leader)  # the leader may be a zombie not yet reaped by whoever started it


def stop_local_server(workspace: Path, grace: float = 15.0) -> int | None:
    """Stop the workspace's local server and its watchdog; the pid of the server stopped, if any."""
    data = server_record(workspace)
    if data is None:
        return None
    pid, watchdog = int(data.get("pid") or 0), int(data.get("watchdog") or 0)
    stopped = None
    for leader in (watchdog, pid):
        if leader and alive(leader) and _end_group(leader, grace):
            stopped = pid
    if alive(pid):  # a server from before watchdogs, or one moved to another group
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    (_prefect_home(workspace) / _SERVER_FILE).unlink(missing_ok=True)
    return stopped

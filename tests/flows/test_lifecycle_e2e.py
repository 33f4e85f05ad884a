"""Running breachops as a service, end to end with a real local Prefect server and `breachops serve`:
status, stop and restart, a workspace deleted under them, a Prefect API that refuses the first
attempts, and the local server killed while an incident waits at a gate."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from breachops.flows.procinfo import alive
from breachops.playbooks import load_playbook

from .conftest import EXAMPLES, Workspace, answer_for, owner_email, suspended_with_waiting, waiting

pytestmark = pytest.mark.prefect


def eventually(check: Callable[[], bool], timeout: float = 120.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace of its own (not the session's), its processes started with `breachops restart`."""
    path = tmp_path / "workspace"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"BREACHOPS_WORKSPACE": str(path), "COLUMNS": "200", "BREACHOPS_USER": "test-runner"})
    ws = Workspace(path=path, env=env)
    ws.cli("init")
    ws.cli("restart", timeout=240)
    try:
        yield ws
    finally:
        if path.exists():
            ws.cli("stop", "--grace", "5", check=False, timeout=120)


def _status(ws: Workspace, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "breachops", "status", "--format", "json"],
        env=env or ws.env, cwd=ws.path.parent, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result.returncode, json.loads(result.stdout)


def _pids(found: dict[str, Any]) -> tuple[int, int, int]:
    record = json.loads((Path(found["workspace"]) / "prefect" / "server.json").read_text())
    return found["serve"]["pid"], record["pid"], record["watchdog"]


def test_status_shows_what_runs_and_stop_ends_it(fresh: Workspace) -> None:
    code, found = _status(fresh)
    eventually(lambda: _status(fresh)[0] == 0, timeout=60, what="a healthy status")
    code, found = _status(fresh)
    assert code == 0 and found["healthy"] and found["problems"] == []
    assert found["workspace"] == str(fresh.path.resolve())
    assert found["prefect"]["mode"] == "local" and found["prefect"]["answers"]
    assert found["prefect"]["ui_url"] == found["prefect"]["api_url"].removesuffix("/api")
    serve, server, watchdog = _pids(found)
    for process in (found["serve"], found["prefect"]["server"]):
        assert process["rss_bytes"] > 10 * 2**20 and process["uptime_seconds"] >= 0
    assert found["serve"]["last_tick_seconds_ago"] < 30
    assert found["serve"]["settings"]["mail_channel"] == "outbox"
    assert found["database_url"].startswith("sqlite:///") and found["mail"]["mail_channel"] == "outbox"
    assert found["open_incidents"] == [] and found["running_drills"] == []
    # The console serve runs, on loopback at the address it recorded.
    assert found["web_url"].startswith("http://127.0.0.1:")

    # A second serve on the same folder is refused and names the first.
    second = fresh.cli("serve", check=False, timeout=120)
    assert second.returncode == 2 and second.stderr.startswith("error:")
    assert f"pid {serve}" in second.stderr and "already runs" in second.stderr

    # The shell's settings differ from serve's: status says so; a command that uses serve says so in
    # one line; restart applies the shell's.
    smtp = {
        **fresh.env,
        "BREACHOPS_MAIL_CHANNEL": "smtp",
        "BREACHOPS_MAIL_FROM": "Incident desk <desk@example.com>",
        "BREACHOPS_SMTP_HOST": "127.0.0.1",
        "BREACHOPS_SMTP_TLS": "none",
        "BREACHOPS_SMTP_PASSWORD": "not-to-be-shown",
        "BREACHOPS_SMTP_USER": "desk",
    }
    code, drifted = _status(fresh, smtp)
    assert code == 1 and "mail_channel outbox → smtp" in drifted["settings_drift"]
    assert "not-to-be-shown" not in json.dumps(drifted)
    opened = subprocess.run(
        [sys.executable, "-m", "breachops", "incident", "open", str(EXAMPLES / "facts.yaml"), "--format", "json"],
        env=smtp, cwd=fresh.path.parent, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    drift_lines = [line for line in opened.stderr.splitlines() if "breachops restart" in line]
    assert len(drift_lines) == 1 and "mail_channel outbox → smtp" in drift_lines[0]
    restarted = subprocess.run(
        [sys.executable, "-m", "breachops", "restart"],
        env=smtp, cwd=fresh.path.parent, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert restarted.returncode == 0, restarted.stderr
    assert not alive(serve)
    code, found = _status(fresh, smtp)
    assert found["serve"]["settings"]["mail_channel"] == "smtp" and found["settings_drift"] == []
    assert found["serve"]["pid"] != serve and _pids(found)[1] == server  # the server was kept

    stopped = fresh.cli("stop", "--grace", "10", timeout=120).stdout
    serve = found["serve"]["pid"]
    assert f"stopped `breachops serve` (pid {serve}" in stopped
    assert f"stopped the local Prefect server (pid {server})" in stopped
    for pid in (serve, server, watchdog):
        assert not alive(pid)
    code, found = _status(fresh)
    assert found["serve"] is None and not found["prefect"]["answers"]
    assert "nothing runs" in fresh.cli("stop").stdout


def test_a_deleted_workspace_ends_serve_the_server_and_its_watchdog(fresh: Workspace) -> None:
    eventually(lambda: _status(fresh)[0] == 0, timeout=60, what="a healthy status")
    serve, server, watchdog = _pids(_status(fresh)[1])
    shutil.rmtree(fresh.path)
    eventually(lambda: not any(alive(p) for p in (serve, server, watchdog)), timeout=90, what="all to end")


# ---- a Prefect API that refuses ------------------------------------------------------------------


class RefusingProxy:
    """Forwards to the real Prefect API, but answers 503 to the first ``refuse`` flow-run creations."""

    def __init__(self, upstream: str, refuse: int):
        self.refuse = refuse
        self.refused = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if (
                    self.command == "POST"
                    and self.path.endswith("/create_flow_run")
                    and (proxy.refused < proxy.refuse)
                ):
                    proxy.refused += 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                base = upstream.removesuffix("/api")
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                answer = httpx.request(
                    self.command, base + self.path, content=body, headers=headers, timeout=60
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _api_url(served: Workspace) -> str:
    return str(json.loads((served.path / "prefect" / "server.json").read_text())["api_url"])


def _runs_tagged(api_url: str, tag: str) -> list[dict[str, Any]]:
    body = {"flow_runs": {"tags": {"all_": [tag]}}}
    return list(httpx.post(f"{api_url}/flow_runs/filter", json=body, timeout=30).json())


def _open_through(served: Workspace, proxy: RefusingProxy, title: str) -> subprocess.CompletedProcess[str]:
    env = {**served.env, "PREFECT_API_URL": proxy.url}  # a team's server, as far as the CLI knows
    return subprocess.run(
        [sys.executable, "-m", "breachops", "incident", "open", str(EXAMPLES / "facts.yaml"),
         "--title", title, "--format", "json"],
        env=env, cwd=served.path.parent, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_a_refused_first_attempt_still_starts_the_playbook_once(served: Workspace) -> None:
    proxy = RefusingProxy(_api_url(served), refuse=3)
    try:
        opened = _open_through(served, proxy, "Prefect busy at first")
    finally:
        proxy.close()
    assert opened.returncode == 0, opened.stderr
    assert proxy.refused == 3
    incident = json.loads(opened.stdout)["incident"]
    served.wait_for(incident, suspended_with_waiting, timeout=180, what="the first gate")
    assert len(_runs_tagged(_api_url(served), incident)) == 1


def test_an_incident_whose_run_could_not_be_created_is_picked_up_by_serve(served: Workspace) -> None:
    proxy = RefusingProxy(_api_url(served), refuse=10_000)
    try:
        opened = _open_through(served, proxy, "Prefect refuses every attempt")
    finally:
        proxy.close()
    assert opened.returncode == 0, opened.stderr
    said = json.loads(opened.stdout)
    assert said["flow_run_id"] is None
    assert "Traceback" not in opened.stderr
    lines = [line for line in opened.stderr.splitlines() if "did not start" in line]
    assert len(lines) == 1 and said["incident"] in lines[0] and "503" in lines[0]
    incident = said["incident"]
    shown = served.wait_for(incident, suspended_with_waiting, timeout=180, what="serve to start the playbook")
    assert shown["flow_run_id"]
    time.sleep(6)  # another reconciliation round (every 5 s) must not start a second run
    assert len(_runs_tagged(_api_url(served), incident)) == 1


def test_the_playbook_goes_on_after_the_local_server_is_killed_at_a_gate(served: Workspace) -> None:
    playbook = load_playbook("confidential-information-leak")
    incident = served.json("incident", "open", str(EXAMPLES / "facts.yaml"), "--title", "Server killed")[
        "incident"
    ]
    shown = served.wait_for(incident, suspended_with_waiting, timeout=180, what="the first gate")
    record = json.loads((served.path / "prefect" / "server.json").read_text())
    os.kill(record["pid"], signal.SIGKILL)

    code, found = _status(served)
    assert code == 1 and any("does not answer" in p for p in found["problems"])

    step = waiting(shown)[0]
    served.cli(
        "step", "done", incident, step["step"], "--by", owner_email(step), *answer_for(step, playbook),
        timeout=300,
    )  # fmt: skip
    served.wait_for(
        incident,
        lambda s: (
            s["flow_state"] == "Completed"
            or (suspended_with_waiting(s) and all(w["step"] != step["step"] for w in waiting(s)))
        ),
        timeout=240,
        what="the playbook to go on after the server came back",
    )
    again = json.loads((served.path / "prefect" / "server.json").read_text())
    assert again["api_url"] == record["api_url"] and again["pid"] != record["pid"]
    eventually(lambda: _status(served)[0] == 0, timeout=120, what="a healthy status again")

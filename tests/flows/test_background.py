"""The background processes' housekeeping, without a Prefect server: the serve lock, the workspace
watch, the watchdog (with a stand-in for the server), `stop`, the settings record, the API's retries,
and the reconciliation of incidents left without a flow run (with a stand-in Prefect API)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.deadlines.models import load_facts
from breachops.errors import ServiceUnavailable
from breachops.flows.launcher import wake_run
from breachops.flows.prefect_api import PrefectAPI, PrefectAPIError
from breachops.flows.procinfo import alive, process_info
from breachops.flows.reconcile import reconcile_flow_runs
from breachops.flows.runtime import PrefectRuntime, ensure_prefect, server_record, stop_local_server
from breachops.flows.serve_record import (
    AlreadyServing,
    acquire_serve_lock,
    settings_differences,
    shell_settings,
)
from breachops.flows.stopping import stop_workspace
from breachops.flows.workspace_watch import WorkspaceWatch
from breachops.playbooks import load_playbook
from breachops.services.incidents import open_incident
from breachops.store import Repository

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def eventually(check: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


# ---- the serve lock ---------------------------------------------------------------------------


def test_a_second_serve_on_one_folder_is_refused_naming_the_first(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path;"
         "from breachops.flows.serve_record import acquire_serve_lock;"
         "h = acquire_serve_lock(Path(sys.argv[1])); print('held', flush=True); time.sleep(120)",
         str(tmp_path)],
        env=ENV, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyServing) as refused:
            acquire_serve_lock(tmp_path)
        assert refused.value.pid == holder.pid
        assert f"pid {holder.pid}" in str(refused.value)
    finally:
        holder.kill()
        holder.wait()
    handle = acquire_serve_lock(tmp_path)  # the lock went with its process
    handle.close()


def test_the_lock_is_per_folder_not_per_database(tmp_path: Path) -> None:
    first = acquire_serve_lock(tmp_path / "machine-a")
    second = acquire_serve_lock(tmp_path / "machine-b")  # same database elsewhere: allowed
    first.close()
    second.close()


# ---- the workspace watch ------------------------------------------------------------------------


def test_workspace_watch_sees_the_folder_deleted_or_replaced(tmp_path: Path) -> None:
    folder = tmp_path / ".breachops"
    folder.mkdir()
    watch = WorkspaceWatch(folder)
    assert not watch.gone
    shutil.rmtree(folder)
    assert watch.gone
    folder.mkdir()  # a new workspace of the same name is not the one this process served
    assert watch.gone


# ---- the watchdog, with a stand-in server -------------------------------------------------------

STAND_IN = [sys.executable, "-c", "import time\nwhile True: time.sleep(1)"]


def _watchdog(workspace: Path) -> subprocess.Popen[bytes]:
    (workspace / "prefect").mkdir(parents=True)
    return subprocess.Popen(
        [sys.executable, "-m", "breachops.flows.watchdog", str(workspace), "4999", *STAND_IN],
        env=ENV, start_new_session=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def _server_pid(workspace: Path) -> int:
    return int((server_record(workspace) or {}).get("pid") or 0)


def test_watchdog_restarts_a_killed_server_and_ends_it_with_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / ".breachops"
    watchdog = _watchdog(workspace)
    try:
        assert eventually(lambda: alive(_server_pid(workspace)))
        first = _server_pid(workspace)
        assert server_record(workspace)["watchdog"] == watchdog.pid  # type: ignore[index]
        os.kill(first, signal.SIGKILL)
        assert eventually(lambda: _server_pid(workspace) not in (0, first) and alive(_server_pid(workspace)))
        second = _server_pid(workspace)
        assert server_record(workspace)["restarts"] == 1  # type: ignore[index]
        assert server_record(workspace)["port"] == 4999  # type: ignore[index]  # the same address

        shutil.rmtree(workspace)
        assert eventually(lambda: watchdog.poll() is not None, timeout=30)
        assert watchdog.returncode == 0
        assert eventually(lambda: not alive(second), timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(watchdog.pid, signal.SIGKILL)
        watchdog.wait()


def test_the_server_dies_with_a_killed_watchdog(tmp_path: Path) -> None:
    workspace = tmp_path / ".breachops"
    watchdog = _watchdog(workspace)
    try:
        assert eventually(lambda: alive(_server_pid(workspace)))
        server = _server_pid(workspace)
        watchdog.kill()  # SIGKILL: no handler runs; the kernel's parent-death signal ends the server
        watchdog.wait()
        assert eventually(lambda: not alive(server), timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(watchdog.pid, signal.SIGKILL)


def test_stop_ends_serve_then_server_and_says_what_it_stopped(tmp_path: Path) -> None:
    workspace = tmp_path / ".breachops"
    watchdog = _watchdog(workspace)
    # A stand-in serve that ignores SIGTERM: `stop` must kill it after the grace period.
    serve = subprocess.Popen(
        [sys.executable, "-c",
         "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True);"
         "time.sleep(300)"],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert serve.stdout is not None and serve.stdout.readline().strip() == "up"
        (workspace / "serve.json").write_text(json.dumps({"pid": serve.pid}))
        assert eventually(lambda: alive(_server_pid(workspace)))
        server = _server_pid(workspace)
        info = process_info(server)
        assert info is not None and info.rss_bytes and info.uptime_seconds is not None

        started = time.monotonic()
        stopped = stop_workspace(workspace, grace=1.0)
        assert stopped == [
            f"`breachops serve` (pid {serve.pid}, killed after 1 s)",
            f"the local Prefect server (pid {server}) and its watchdog",
        ]
        assert time.monotonic() - started < 30
        assert serve.wait(timeout=10) == -signal.SIGKILL
        assert watchdog.wait(timeout=10) is not None
        assert not alive(server)
        assert server_record(workspace) is None
        assert stop_workspace(workspace, grace=1.0) == []  # nothing left to stop
        assert stop_local_server(workspace) is None
    finally:
        serve.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(watchdog.pid, signal.SIGKILL)


# ---- the settings serve records -----------------------------------------------------------------


def test_recorded_settings_name_channel_sender_and_database_never_a_secret() -> None:
    env = {
        "BREACHOPS_MAIL_CHANNEL": "smtp",
        "BREACHOPS_MAIL_FROM": "Incident desk <desk@example.com>",
        "BREACHOPS_SMTP_HOST": "relay.example.com",
        "BREACHOPS_SMTP_USER": "desk",
        "BREACHOPS_SMTP_PASSWORD": "hunter2-smtp",
        "SENDGRID_API_KEY": "SG.secret-key",
    }
    recorded = shell_settings("postgresql+psycopg://ops:db-secret@db.example.com/breachops", env)
    text = json.dumps(recorded)
    for secret in ("hunter2-smtp", "SG.secret-key", "db-secret"):
        assert secret not in text
    assert recorded["mail_channel"] == "smtp"
    assert recorded["mail_from"] == "Incident desk <desk@example.com>"
    assert recorded["database_url"] == "postgresql+psycopg://ops:***@db.example.com/breachops"

    shell = shell_settings("postgresql+psycopg://ops:db-secret@db.example.com/breachops", {})
    assert "mail_channel outbox → outbox" not in settings_differences(recorded, shell)
    assert "mail_channel smtp → outbox" in settings_differences(recorded, shell)
    assert settings_differences(recorded, recorded) == []


# ---- a Prefect API that refuses, then answers ---------------------------------------------------


class StandInPrefect:
    """Answers the few calls the CLI and `serve` make; refuses the first ``refuse`` attempts to create
    a flow run with 503, and keeps runs by idempotency key as Prefect does."""

    def __init__(self, refuse: int = 0):
        self.refuse = refuse
        self.create_attempts = 0
        self.runs: dict[str, dict[str, Any]] = {}  # idempotency key → run
        self.resume_statuses: list[int] = []  # what each resume is answered, in turn (then 200)
        self.resumes = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _send(self, status: int, body: Any = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.startswith("/api/deployments/name/"):
                    return self._send(200, {"id": "dep-" + self.path.rsplit("/", 1)[-1]})
                if self.path.startswith("/api/flow_runs/"):
                    run_id = self.path.rsplit("/", 1)[-1]
                    for run in stand_in.runs.values():
                        if run["id"] == run_id:
                            return self._send(200, run)
                return self._send(404, {"detail": "not found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/api/flow_runs/filter":
                    wanted = set(body["flow_runs"]["id"]["any_"])
                    return self._send(200, [r for r in stand_in.runs.values() if r["id"] in wanted])
                if self.path.endswith("/resume"):
                    stand_in.resumes += 1
                    status = stand_in.resume_statuses.pop(0) if stand_in.resume_statuses else 200
                    run_id = self.path.split("/")[-2]
                    for run in stand_in.runs.values():
                        if run["id"] == run_id and status in (200, 409):  # resumed, by us or another
                            run["state"] = {"type": "RUNNING", "name": "Running", "state_details": {}}
                    if status == 409:
                        return self._send(409, {"detail": "Data integrity conflict."})
                    return self._send(status, {"status": "ACCEPT", "details": {}})
                if self.path.endswith("/create_flow_run"):
                    stand_in.create_attempts += 1
                    if stand_in.create_attempts <= stand_in.refuse:
                        return self._send(503, {"detail": "busy"})
                    key = body["idempotency_key"]
                    run = stand_in.runs.setdefault(
                        key,
                        {"id": f"run-{len(stand_in.runs) + 1}", "parameters": body["parameters"],
                         "state": {"type": "SCHEDULED", "name": "Scheduled", "state_details": {}}},
                    )  # fmt: skip
                    return self._send(201, run)
                return self._send(404, {"detail": "not found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prefect_stand_in() -> Iterator[Callable[[int], StandInPrefect]]:
    made: list[StandInPrefect] = []

    def make(refuse: int) -> StandInPrefect:
        made.append(StandInPrefect(refuse))
        return made[-1]

    yield make
    for stand_in in made:
        stand_in.close()


def test_api_calls_retry_on_503_and_a_retried_create_makes_one_run(
    prefect_stand_in: Callable[[int], StandInPrefect], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("breachops.flows.prefect_api._backoff", lambda attempt: 0.01)
    stand_in = prefect_stand_in(3)
    with PrefectAPI(stand_in.url) as api:
        run = api.create_flow_run("dep", {"incident_id": "INC-1"}, ["breachops"], "incident:INC-1")
        again = api.create_flow_run("dep", {"incident_id": "INC-1"}, ["breachops"], "incident:INC-1")
    assert run == again == "run-1"
    assert stand_in.create_attempts == 5  # three refused, one created, one answered from the key
    assert len(stand_in.runs) == 1


def test_api_calls_retry_on_a_refused_connection_then_say_so_in_one_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("breachops.flows.prefect_api._backoff", lambda attempt: 0.01)
    with PrefectAPI("http://127.0.0.1:9/api", attempts=3) as api, pytest.raises(PrefectAPIError) as failed:
        api.state("some-run")
    assert "Prefect API GET flow_runs/some-run" in str(failed.value)


def test_a_teams_prefect_api_counts_as_there_when_it_answers_anything_at_all(
    prefect_stand_in: Callable[[int], StandInPrefect], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Prefect Cloud answers its health URL only with the key; the stand-in answers it 404. Either is
    # a server there. Nothing listening is not, and is said before anything is recorded.
    monkeypatch.setattr("breachops.flows.runtime.configure_prefect_env", lambda *a, **k: None)
    monkeypatch.delenv("BREACHOPS_LOCAL_PREFECT", raising=False)
    stand_in = prefect_stand_in(0)
    monkeypatch.setenv("PREFECT_API_URL", stand_in.url + "/")
    expected = PrefectRuntime(stand_in.url, "team", (tmp_path / "ws" / "prefect").resolve())
    assert ensure_prefect(tmp_path / "ws") == expected
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    with pytest.raises(ServiceUnavailable, match=r"127.0.0.1:9/api \(PREFECT_API_URL\) does not answer"):
        ensure_prefect(tmp_path / "ws")


def _paused_run(stand_in: StandInPrefect) -> str:
    paused = {"type": "PAUSED", "name": "Suspended", "state_details": {}}
    stand_in.runs["incident:INC-1"] = {"id": "run-1", "parameters": {}, "state": paused}
    return "run-1"


def test_a_resume_that_loses_the_race_to_another_caller_says_the_playbook_goes_on(
    prefect_stand_in: Callable[[int], StandInPrefect],
) -> None:
    # `step done` and `serve` (or two `serve`s) resuming one run at once: a Prefect server on
    # PostgreSQL answers the second 409 (its run input is already stored). The answer is in the
    # store and the run goes on, so the person who answered must not see an error.
    stand_in = prefect_stand_in(0)
    run_id = _paused_run(stand_in)
    stand_in.resume_statuses = [409]
    with PrefectAPI(stand_in.url) as api:
        assert api.resume(run_id, None)[0] == "CONFLICT"
    stand_in.runs["incident:INC-1"]["state"]["type"] = "PAUSED"
    stand_in.resume_statuses = [409]
    with PrefectAPI(stand_in.url) as api:
        assert wake_run(api, run_id, "freeze-access", "a@b.example", timeout=5) == (
            "the playbook goes on",
            True,
        )
    assert stand_in.resumes == 2


def test_a_suspension_whose_form_vanished_was_resumed_by_another_caller(
    prefect_stand_in: Callable[[int], StandInPrefect],
) -> None:
    # Read paused, then its form's schema is gone (404) before we resume: `serve` resumed it between.
    stand_in = prefect_stand_in(0)
    run_id = _paused_run(stand_in)
    stand_in.runs["incident:INC-1"]["state"]["state_details"] = {"run_input_keyset": {"schema": "gone"}}
    with PrefectAPI(stand_in.url) as api:
        assert wake_run(api, run_id, "freeze-access", "a@b.example", timeout=5) == (
            "the playbook goes on",
            True,
        )
    assert stand_in.resumes == 0


def test_a_resume_refused_for_another_reason_is_still_an_error(
    prefect_stand_in: Callable[[int], StandInPrefect],
) -> None:
    stand_in = prefect_stand_in(0)
    run_id = _paused_run(stand_in)
    stand_in.resume_statuses = [422]
    with PrefectAPI(stand_in.url) as api, pytest.raises(PrefectAPIError) as refused:
        wake_run(api, run_id, "freeze-access", "a@b.example", timeout=5)
    assert refused.value.status == 422 and "resume: 422" in str(refused.value)


# ---- reconciliation: every open incident has its one flow run -----------------------------------

OPENED = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def _open_incident(app: App) -> str:
    return open_incident(
        app,
        facts=load_facts(ROOT / "examples" / "facts.yaml"),
        agreement=load_agreement(ROOT / "examples" / "agreement.yaml"),
        playbook=load_playbook("confidential-information-leak"),
        title="Licensed source code on a public repository",
        actor="rafael.costa@horizonte.example",
    )


def test_serve_starts_the_playbook_of_an_incident_whose_run_was_never_created(
    tmp_path: Path, prefect_stand_in: Callable[[int], StandInPrefect], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("breachops.flows.prefect_api._backoff", lambda attempt: 0.01)
    clock = ManualClock(OPENED)
    app = App(Settings(workspace=tmp_path / "ws"), clock=clock)
    incident = _open_incident(app)  # recorded; the CLI's create never reached Prefect
    stand_in = prefect_stand_in(2)  # and Prefect refuses twice more
    runtime = PrefectRuntime(api_url=stand_in.url, mode="team", home=tmp_path)

    assert reconcile_flow_runs(app, runtime) == []  # too young: the CLI may still be creating it
    clock.advance(timedelta(seconds=30))
    assert reconcile_flow_runs(app, runtime) == [incident]
    assert reconcile_flow_runs(app, runtime) == []  # once: it has its run now
    assert len(stand_in.runs) == 1
    key, run = next(iter(stand_in.runs.items()))
    assert key == f"incident:{incident}" and run["parameters"] == {"incident_id": incident}
    with app.transaction() as session:
        assert Repository(session).get_incident(incident).flow_run_id == run["id"]


def test_a_run_prefect_lost_is_created_again_under_a_new_key(
    tmp_path: Path, prefect_stand_in: Callable[[int], StandInPrefect]
) -> None:
    clock = ManualClock(OPENED)
    app = App(Settings(workspace=tmp_path / "ws"), clock=clock)
    incident = _open_incident(app)
    with app.transaction() as session:
        repo = Repository(session)
        repo.attach_flow_run(repo.get_incident(incident), "run-from-a-reset-server", "cli", OPENED)
    stand_in = prefect_stand_in(0)
    clock.advance(timedelta(minutes=5))
    runtime = PrefectRuntime(api_url=stand_in.url, mode="team", home=tmp_path)
    assert reconcile_flow_runs(app, runtime) == [incident]
    assert list(stand_in.runs) == [f"incident:{incident}:run-from-a-reset-server"]
    assert reconcile_flow_runs(app, runtime) == []


# ---- status, from the records and /proc ---------------------------------------------------------


def test_status_names_a_stalled_serve_an_unreachable_prefect_and_open_work_without_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from breachops.flows.status import workspace_status

    for key in [k for k in os.environ if k.startswith(("PREFECT_", "BREACHOPS_"))]:
        monkeypatch.delenv(key)
    app = App(Settings(workspace=tmp_path / "ws"), clock=ManualClock(OPENED))
    incident = _open_incident(app)
    found = workspace_status(app)
    assert found["open_incidents"] == [incident] and found["serve"] is None
    assert found["next_reminder_due"] is not None  # the example's obligations have reminders ahead
    assert any("`breachops serve` is not running" in p for p in found["problems"])

    # A serve whose process lives but whose heartbeat is two minutes old, and which lost Prefect.
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        now = time.time()
        (app.workspace / "serve.json").write_text(
            json.dumps({"pid": stand_in.pid, "api_url": "http://127.0.0.1:9/api", "settings": {}})
        )
        (app.workspace / "serve.heartbeat").write_text(
            json.dumps(
                {"at": now - 120, "prefect_ok_at": now - 150, "prefect_error": "ConnectError: refused"}
            )
        )
        found = workspace_status(app, now=now)
        assert found["serve"]["pid"] == stand_in.pid
        assert found["serve"]["last_tick_seconds_ago"] == 120
        problems = "\n".join(found["problems"])
        assert f"serve (pid {stand_in.pid}) has not ticked for 2 min: stalled" in problems
        assert "serve cannot reach Prefect (last reached 2 min ago): ConnectError: refused" in problems
        assert "other settings than this shell" in problems  # it recorded none; the shell has some
        assert not found["healthy"]
    finally:
        stand_in.kill()
        stand_in.wait()

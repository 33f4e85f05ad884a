"""Scale-out, run as the README's scale-out section says: a Prefect server on PostgreSQL, the application
database on PostgreSQL, two Prefect workers running the playbooks from the `breachops` work pool, and two
`breachops serve` sending the mail to an SMTP sink.

Twenty incidents open; while every one waits at its gate one worker and one `serve` are killed with
SIGKILL; the gates are answered from another machine's workspace, and the flows go on on the worker left. Every incident must finish, no
step may run twice, and every message must reach the sink exactly once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from breachops.flows.prefect_api import PrefectAPI
from breachops.flows.runtime import healthy
from breachops.store.models import AuditEvent, Message, StepRow
from tests.reminders.conftest import Smtp, free_port
from tests.store.conftest import postgres_admin_url

from .conftest import EXAMPLES, ROOT, Workspace

# About 6 CPU-minutes (a process per CLI command and per flow run), 5 minutes of wall time on two
# shared cores: it runs with the others (pytest -n spreads them), wherever PostgreSQL answers.
# `-m 'not scaleout'` or BREACHOPS_SCALEOUT=0 leaves it out.
pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.postgres,
    pytest.mark.prefect,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        os.environ.get("BREACHOPS_SCALEOUT") == "0", reason="scale-out run turned off (BREACHOPS_SCALEOUT=0)"
    ),
]

INCIDENTS = 20
PLAYBOOK = Path(__file__).with_name("scale_out_playbook.yaml")
GATE = "freeze-access"
STEPS = ("open-case-file", GATE, "file-case-summary")
LEAD = "rafael.costa@horizonte.example"  # the receiving party's incident lead may confirm its steps
KEY_BLOCK = "breachops-audit-key"
# The README's command for the audit key every process seals with (a Prefect Secret block).
MAKE_KEY_BLOCK = (
    "import secrets; from prefect.blocks.system import Secret; "
    f"Secret(value=secrets.token_hex(32)).save('{KEY_BLOCK}')"
)


def eventually(what: str, check: Callable[[], Any], timeout: float, every: float = 0.5) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` and its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result and not isinstance(result, Waiting):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: {result}")
        time.sleep(every)


class Waiting(str):
    """A reason still to wait (true as text, but not an answer)."""


@dataclass
class Processes:
    """Processes started for the test, each in its own session (its group is what a machine is)."""

    folder: Path
    env: dict[str, str]
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("ab")
        process = subprocess.Popen(
            list(argv), env=env or self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.running[name] = process
        return process

    def run(self, *argv: str, timeout: float = 120) -> str:
        result = subprocess.run(
            list(argv), env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
        assert result.returncode == 0, (
            f"{' '.join(argv)} exited {result.returncode}:\n{result.stderr[-3000:]}"
        )
        return result.stdout

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.running.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop_all(self) -> None:
        for name in list(self.running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.running[name].pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name in list(self.running):
            process = self.running.pop(name)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@contextlib.contextmanager
def fresh_databases(*purposes: str) -> Iterator[dict[str, str]]:
    """One new PostgreSQL database per purpose (``breachops_scale_<random>_<purpose>``), dropped after."""
    admin_url = postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    run = uuid.uuid4().hex[:10]
    names = {purpose: f"breachops_scale_{run}_{purpose}" for purpose in purposes}
    made: list[str] = []
    try:
        try:
            with admin.connect() as connection:
                for name in names.values():
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                    made.append(name)
        except Exception as exc:  # no server, no such role, no permission: nothing to run against
            shown = make_url(admin_url).render_as_string(hide_password=True)
            pytest.skip(
                f"PostgreSQL not reachable at {shown}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            )
        base = make_url(admin_url)
        yield {
            purpose: base.set(database=name).render_as_string(hide_password=False)
            for purpose, name in names.items()
        }
    finally:
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Cluster:
    processes: Processes
    api_url: str
    app_db: Engine
    smtp: Smtp
    desk: Workspace  # where people run the CLI: neither a worker nor a serve
    serves: list[Workspace]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    for driver in ("asyncpg", "psycopg"):
        pytest.importorskip(driver, reason=f"the scale-out test needs the {driver} driver (dev extras)")
    with fresh_databases("prefect", "app") as urls, contextlib.ExitStack() as stack:
        smtp = Smtp()
        smtp.controller.start()
        stack.callback(smtp.controller.stop)
        port = free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        app_url = make_url(urls["app"]).set(drivername="postgresql+psycopg")
        prefect_url = make_url(urls["prefect"]).set(drivername="postgresql+asyncpg")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "COLUMNS": "200",
                "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_HOME": str(tmp_path / "prefect"),  # results too: one folder every worker reads
                "PREFECT_API_URL": api_url,
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "BREACHOPS_DATABASE_URL": app_url.render_as_string(hide_password=False),
                "BREACHOPS_AUDIT_KEY_BLOCK": KEY_BLOCK,
                "BREACHOPS_INCIDENT_DEPLOYMENT": "incident-response/workers",
                "BREACHOPS_MAIL_CHANNEL": "smtp",
                "BREACHOPS_MAIL_FROM": "incidents@horizonte.example",
                "BREACHOPS_SMTP_HOST": smtp.host,
                "BREACHOPS_SMTP_PORT": str(smtp.port),
                "BREACHOPS_SMTP_TLS": "none",
            }
        )
        processes = Processes(tmp_path, env)
        stack.callback(processes.stop_all)
        server_env = env | {
            "PREFECT_API_DATABASE_CONNECTION_URL": prefect_url.render_as_string(hide_password=False)
        }
        bin_dir = Path(sys.executable).parent
        prefect = str(bin_dir / "prefect")
        processes.start(
            "prefect-server", prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port),
            env=server_env,
        )  # fmt: skip
        eventually(
            "the Prefect server", lambda: healthy(api_url) or _exited(processes, "prefect-server"), 120
        )
        processes.run(prefect, "work-pool", "create", "breachops", "--type", "process")
        processes.run(prefect, "--no-prompt", "deploy", "--all")
        processes.run(sys.executable, "-c", MAKE_KEY_BLOCK)

        def workspace(name: str) -> Workspace:
            path = tmp_path / name / ".breachops"
            path.parent.mkdir()
            ws = Workspace(path=path, env=env | {"BREACHOPS_WORKSPACE": str(path)})
            ws.cli("init")
            return ws

        for n in (1, 2):
            worker = workspace(f"worker-{n}")
            processes.start(f"worker-{n}", prefect, "worker", "start", "--pool", "breachops", env=worker.env)
        serves = [workspace(f"serve-{n}") for n in (1, 2)]
        for ws in serves:
            stack.callback(_stop_serve, ws)
            ws.start_serve(poll=None)
        engine = create_engine(app_url.render_as_string(hide_password=False))
        stack.callback(engine.dispose)
        # The logs' tails, on stderr: pytest shows them when the test fails.
        stack.callback(_show_logs, tmp_path)
        yield Cluster(processes, api_url, engine, smtp, workspace("desk"), serves)


def _exited(processes: Processes, name: str) -> Waiting | None:
    process = processes.running[name]
    if process.poll() is not None:
        raise AssertionError(f"{name} exited {process.returncode}:\n{processes.log(name)}")
    return Waiting(f"{name} not answering yet")


def _show_logs(folder: Path) -> None:
    for log in sorted(folder.glob("*.log")) + sorted(folder.glob("*/.breachops/serve-test.log")):
        print(f"---- {log.relative_to(folder)}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)


def _stop_serve(ws: Workspace) -> None:
    if ws.serve is not None:
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            ws.kill_serve(signal.SIGKILL)


# ---- what the application database and Prefect say ---------------------------------------------


def step_statuses(cluster: Cluster) -> dict[str, dict[str, str]]:
    with cluster.app_db.connect() as connection:
        rows = connection.execute(select(StepRow.incident_id, StepRow.step_id, StepRow.status))
        out: dict[str, dict[str, str]] = {}
        for incident, step, status in rows:
            out.setdefault(incident, {})[step] = status
    return out


def run_states(cluster: Cluster, runs: dict[str, str]) -> dict[str, str]:
    with PrefectAPI(cluster.api_url) as api:
        states = api.states(list(runs.values()))
    return {incident: (s.type if (s := states.get(run)) else "?") for incident, run in runs.items()}


def all_at(cluster: Cluster, runs: dict[str, str], gate: str) -> Callable[[], Any]:
    """Every incident suspended with ``gate`` waiting (and the steps before it done)."""

    def check() -> Any:
        steps, states = step_statuses(cluster), run_states(cluster, runs)
        behind = {
            incident: (states[incident], steps.get(incident))
            for incident in runs
            if states[incident] != "PAUSED" or steps.get(incident, {}).get(gate) != "waiting"
        }
        return Waiting(f"{len(behind)} not there yet, e.g. {next(iter(behind.items()))}") if behind else True

    return check


def outbox_quiet(cluster: Cluster) -> Any:
    """Every message in the outbox sent (none queued, being sent or failed)."""
    with cluster.app_db.connect() as connection:
        pending = Counter(
            status for (status,) in connection.execute(select(Message.status).where(Message.status != "sent"))
        )
    return Waiting(f"messages not yet sent: {dict(pending)}") if pending else True


def in_parallel(calls: list[Callable[[], Any]], threads: int = 4) -> list[Any]:
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda call: call(), calls))


# ---- the test -----------------------------------------------------------------------------------


def test_twenty_incidents_survive_a_killed_worker_and_serve_with_no_step_or_message_twice(cluster):
    started = time.monotonic()
    desk = cluster.desk

    def lap(what: str) -> None:  # shown with -s: where the time goes
        print(f"scale-out: {what} after {time.monotonic() - started:.0f} s", flush=True)

    def open_one(n: int) -> tuple[str, str]:
        opened = desk.json(
            "incident", "open", str(EXAMPLES / "facts.yaml"), "--playbook", str(PLAYBOOK),
            "--title", f"Scale-out incident {n}", "--by", LEAD,
        )  # fmt: skip
        assert opened["flow_run_id"], opened
        return opened["incident"], opened["flow_run_id"]

    runs = dict(in_parallel([lambda n=n: open_one(n) for n in range(INCIDENTS)]))
    assert len(runs) == INCIDENTS
    eventually("every incident at its gate", all_at(cluster, runs, GATE), timeout=300, every=1)
    lap("opened, each at its gate")
    # The mail of the openings (both parties' teams, the steps' owners, reminders due) is out first, so
    # that the kill below tests the flows and the sharing of work, not a message half sent.
    eventually("the outbox to empty", lambda: outbox_quiet(cluster), timeout=120)

    # One worker machine and one `serve` machine die while every incident waits for a person.
    cluster.processes.kill("worker-1")
    cluster.serves[0].kill_serve(signal.SIGKILL)

    # People answer from their own machine; the runs resume wherever a worker is left.
    in_parallel([lambda i=i: desk.cli("step", "done", i, GATE, "--by", LEAD) for i in sorted(runs)])
    lap("answered")

    def completed() -> Any:
        states = run_states(cluster, runs)
        unfinished = {i: s for i, s in states.items() if s != "COMPLETED"}
        return Waiting(f"not completed: {unfinished}") if unfinished else True

    eventually("every flow run to complete", completed, timeout=300, every=1)
    lap("every flow run completed")
    eventually("the outbox to empty", lambda: outbox_quiet(cluster), timeout=120)

    # Every step of every incident done, and each completed exactly once in the audit log.
    steps = step_statuses(cluster)
    assert steps == {incident: dict.fromkeys(STEPS, "done") for incident in runs}
    with cluster.app_db.connect() as connection:
        events = connection.execute(
            select(AuditEvent.incident_id, AuditEvent.payload).where(AuditEvent.kind == "step.completed")
        ).all()
    completions = Counter((incident, json.loads(payload)["step_id"]) for incident, payload in events)
    assert completions == Counter({(incident, step): 1 for incident in runs for step in STEPS})
    assert desk.cli("audit", "verify", "--all").returncode == 0

    # Every message the outbox sent reached the sink exactly once, and nothing else did.
    with cluster.app_db.connect() as connection:
        sent = set(connection.scalars(select(Message.idempotency_key)))
    delivered = cluster.smtp.recorder.keys()
    twice = {key: n for key, n in delivered.items() if n > 1}
    assert not twice, f"delivered more than once: {twice}"
    assert set(delivered) == sent
    kinds = Counter(str(m["X-Breachops-Kind"]) for m in cluster.smtp.recorder.messages)
    assert kinds["incident_opened"] >= INCIDENTS and kinds["step_assigned"] >= INCIDENTS
    print(f"scale-out: {INCIDENTS} incidents, {len(sent)} messages, {time.monotonic() - started:.0f} s")

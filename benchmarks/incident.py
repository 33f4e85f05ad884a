"""How quickly an incident's playbook starts, and whether 100 incidents opened at once all progress.

    .venv/bin/python benchmarks/incident.py [--runs 10] [--burst 100] [--open 1000]

Uses a throwaway workspace with its own local Prefect server and `breachops serve`, warmed by one
incident first. Prints:
  - `incident open` wall time (the CLI process, start to exit), median of --runs;
  - time from the start of `incident open` until the playbook's first step is running (the flow has
    reached its first gate and marked it waiting), median and max (target: median <= 1 s);
  - time from the start of `incident open` until the first alert (the "incident opened" notice to
    both parties' incident teams) reaches an SMTP sink on loopback, median and max;
  - where that time goes, median of each phase: the CLI until Prefect has the flow run, the run
    waiting until `serve` claims it, the claim until the flow runs, the flow until its first step;
  - a burst of --burst incidents opened at once (in-process, as a script would): how long until every
    one has its first step running;
  - the memory (RSS) `serve` used after the burst, and with --open incidents open, each at its first
    gate, with what a reminder tick then costs the planner (first, then median of 10).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from breachops.bootstrap import App

ROOT = Path(__file__).resolve().parents[1]
FACTS = ROOT / "examples" / "facts.yaml"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument(
        "--open", type=int, default=1000, help="then open incidents until this many are open (0: skip)"
    )
    args = parser.parse_args()

    workspace = Path(tempfile.mkdtemp(prefix="breachops-bench-")) / "ws"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: each CLI process reads cached bytecode
    env["BREACHOPS_WORKSPACE"] = str(workspace)
    os.environ.update({"BREACHOPS_WORKSPACE": str(workspace)})
    for key in [k for k in os.environ if k.startswith("PREFECT_")]:
        del os.environ[key]

    def cli(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breachops", *a], env=env, capture_output=True, text=True, check=True
        )

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reminders import Sink  # the SMTP sink of the reminder benchmark, in a process of its own

    sink = Sink(workspace.parent / "sink.log")
    env.update(
        {
            "BREACHOPS_MAIL_CHANNEL": "smtp",
            "BREACHOPS_MAIL_FROM": "breachops <incidents@bench.example>",
            "BREACHOPS_SMTP_HOST": "127.0.0.1",
            "BREACHOPS_SMTP_PORT": str(sink.start()),
            "BREACHOPS_SMTP_TLS": "none",
        }
    )
    cli("init")
    print("starting a local Prefect server and `breachops serve` (first use: 10-20 s)...", flush=True)
    serve = subprocess.Popen(
        [sys.executable, "-m", "breachops", "serve", "--poll", "0.25"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    while not (workspace / "serve.json").exists():
        time.sleep(0.2)

    from breachops.bootstrap import bootstrap
    from breachops.store import Repository

    app = bootstrap()

    def first_step_running(incident: str) -> bool:
        with app.transaction() as session:
            return any(r.status != "pending" for r in Repository(session).steps(incident))

    api_url = json.loads((workspace / "prefect" / "server.json").read_text())["api_url"]

    def first_alert(incident: str) -> float | None:
        arrived = [at for key, at in sink.arrivals()[0].items() if key.startswith(f"{incident}|")]
        return min(arrived).timestamp() if arrived else None

    def run_times(run_id: str) -> tuple[float, float, float]:
        """When Prefect created the run, when `serve` claimed it (Pending), when it set it Running."""
        run = httpx.get(f"{api_url}/flow_runs/{run_id}", timeout=30).json()
        states = httpx.get(f"{api_url}/flow_run_states/", params={"flow_run_id": run_id}, timeout=30).json()
        first: dict[str, float] = {}
        for state in sorted(states, key=lambda s: s["timestamp"]):
            first.setdefault(state["type"], _epoch(state["timestamp"]))
        nan = float("nan")
        return _epoch(run["created"]), first.get("PENDING", nan), first.get("RUNNING", nan)

    def open_and_time() -> dict[str, float]:
        wall, started = time.time(), time.perf_counter()
        out = cli("incident", "open", str(FACTS), "--format", "json")
        cli_done = time.perf_counter() - started
        opened = json.loads(out.stdout)
        incident = opened["incident"]
        while not first_step_running(incident):
            time.sleep(0.02)
        step = time.perf_counter() - started
        deadline = time.monotonic() + 120
        while (alert := first_alert(incident)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        created, claimed, running = run_times(opened["flow_run_id"])
        return {
            "cli": cli_done,
            "first step": step,
            "first alert": (alert - wall) if alert else float("nan"),
            "cli until run created": created - wall,
            "run created until claimed": claimed - created,
            "claimed until running": running - claimed,
            "running until first step": step - (running - wall),
        }

    open_and_time()  # warm the server, serve's imports and the deployment
    rows = [open_and_time() for _ in range(args.runs)]

    def med(name: str) -> float:
        return statistics.median(r[name] for r in rows)

    print(f"incident open (CLI wall): median {med('cli'):.2f} s over {args.runs} runs")
    print(
        f"open -> first step running: median {med('first step'):.2f} s, "
        f"max {max(r['first step'] for r in rows):.2f} s (target: median <= 1 s)"
    )
    print(
        f"open -> first alert at the SMTP sink: median {med('first alert'):.2f} s, "
        f"max {max(r['first alert'] for r in rows):.2f} s"
    )
    print("where the time to the first step goes (medians):")
    for phase in ("cli until run created", "run created until claimed", "claimed until running",
                  "running until first step"):  # fmt: skip
        print(f"  {phase:<28} {med(phase):6.2f} s")

    # A burst: incidents opened at once, each creating its flow run; all must reach their first gate.
    from breachops.config.agreements import load_agreement
    from breachops.deadlines.models import load_facts
    from breachops.errors import ServiceUnavailable
    from breachops.flows.launcher import start_incident_flow
    from breachops.playbooks import load_playbook
    from breachops.services.incidents import open_incident

    agreement = load_agreement(workspace / "agreement.yaml")
    playbook = load_playbook("confidential-information-leak", app.playbook_search)
    facts = load_facts(FACTS)

    left_to_serve: list[str] = []

    def open_one(i: int) -> str:
        incident = open_incident(
            app, facts=facts, agreement=agreement, playbook=playbook, title=f"burst {i}", actor="bench"
        )
        try:
            start_incident_flow(app, incident)
        except ServiceUnavailable:  # as `incident open` does: recorded, and `serve` starts it
            left_to_serve.append(incident)
        return incident

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        incidents = list(pool.map(open_one, range(args.burst)))
    opened = time.perf_counter() - started
    pending = set(incidents)
    deadline = time.monotonic() + 600
    while pending and time.monotonic() < deadline:
        pending = {i for i in pending if not first_step_running(i)}
        time.sleep(0.2)
    all_running = time.perf_counter() - started
    print(
        f"burst: {args.burst} incidents opened in {opened:.1f} s; "
        f"{args.burst - len(pending)}/{args.burst} had their first step running after {all_running:.1f} s "
        f"(target: 15 s); {len(left_to_serve)} flow run(s) Prefect refused at once, started by `serve`"
    )
    print(f"serve memory (RSS) after the burst: {rss_mb(serve.pid):.0f} MB")
    if args.open:
        _many_open(app, serve.pid, args.open, open_one, first_step_running)

    os.kill(serve.pid, signal.SIGTERM)
    serve.wait(timeout=30)
    from breachops.flows.runtime import stop_local_server

    stop_local_server(workspace)
    sink.stop()


def _many_open(
    app: App,
    serve_pid: int,
    total: int,
    open_one: Callable[[int], str],
    first_step_running: Callable[[str], bool],
) -> None:
    """Open incidents until ``total`` are open, each with its playbook at its first gate; then
    `serve`'s memory, and what a reminder tick costs the planner over all of them."""
    from datetime import UTC, datetime

    from breachops.notifications.outbox import next_due, queue_due_reminders
    from breachops.notifications.planner import ReminderPlanner
    from breachops.store import Repository

    with app.transaction() as session:
        already = len(Repository(session).list_incidents(status="open"))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        incidents = list(pool.map(open_one, range(already, total)))
    pending = set(incidents)
    deadline = time.monotonic() + 1800
    while pending and time.monotonic() < deadline:
        pending = {i for i in pending if not first_step_running(i)}
        time.sleep(1)
    print(
        f"{total} open incidents: {total - len(pending)} at their first gate "
        f"{time.perf_counter() - started:.0f} s after opening {len(incidents)} more; "
        f"serve memory (RSS) {rss_mb(serve_pid):.0f} MB (target: 1 GiB)"
    )
    planner = ReminderPlanner(app)
    costs = []
    for _ in range(11):  # the first derives every incident; the rest only what changed
        begun = time.perf_counter()
        now = datetime.now(UTC)
        queue_due_reminders(app, now, planner=planner)
        next_due(app, now, planner=planner)
        costs.append(time.perf_counter() - begun)
    print(
        f"reminder tick over {total} open incidents (due reminders queued, next due found): first "
        f"{costs[0] * 1000:.0f} ms, then median {statistics.median(costs[1:]) * 1000:.0f} ms "
        "(target: 100 ms)"
    )


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    main()

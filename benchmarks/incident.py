"""How quickly an incident's playbook starts, and whether 100 incidents opened at once all progress.

    .venv/bin/python benchmarks/incident.py [--runs 10] [--burst 100]

Uses a throwaway workspace with its own local Prefect server and `breachops serve`, warmed by one
incident first. Prints:
  - `incident open` wall time (the CLI process, start to exit), median of --runs;
  - time from the start of `incident open` until the playbook's first step is running (the flow has
    reached its first gate and marked it waiting), median and max (target: median <= 2 s);
  - a burst of --burst incidents opened at once (in-process, as a script would): how long until every
    one has its first step running;
  - the memory (RSS) `serve` used at the end.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
    args = parser.parse_args()

    workspace = Path(tempfile.mkdtemp(prefix="breachops-bench-")) / "ws"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env["BREACHOPS_WORKSPACE"] = str(workspace)
    os.environ.update({"BREACHOPS_WORKSPACE": str(workspace)})
    for key in [k for k in os.environ if k.startswith("PREFECT_")]:
        del os.environ[key]

    def cli(*a: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breachops", *a], env=env, capture_output=True, text=True, check=True
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

    def open_and_time() -> tuple[float, float]:
        started = time.perf_counter()
        out = cli("incident", "open", str(FACTS), "--format", "json")
        cli_done = time.perf_counter() - started
        incident = json.loads(out.stdout)["incident"]
        while not first_step_running(incident):
            time.sleep(0.02)
        return cli_done, time.perf_counter() - started

    open_and_time()  # warm the server, serve's imports and the deployment
    cli_times, first_step = zip(*(open_and_time() for _ in range(args.runs)), strict=True)
    print(f"incident open (CLI wall): median {statistics.median(cli_times):.2f} s over {args.runs} runs")
    print(
        f"open -> first step running: median {statistics.median(first_step):.2f} s, "
        f"max {max(first_step):.2f} s (target: median <= 2 s)"
    )

    # A burst: incidents opened at once, each creating its flow run; all must reach their first gate.
    from breachops.config.agreements import load_agreement
    from breachops.deadlines.models import load_facts
    from breachops.flows import service
    from breachops.flows.launcher import start_incident_flow
    from breachops.playbooks import load_playbook

    agreement = load_agreement(workspace / "agreement.yaml")
    playbook = load_playbook("confidential-information-leak", app.playbook_search)
    facts = load_facts(FACTS)

    def open_one(i: int) -> str:
        incident = service.open_incident(
            app, facts=facts, agreement=agreement, playbook=playbook, title=f"burst {i}", actor="bench"
        )
        start_incident_flow(app, incident)
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
        f"{args.burst - len(pending)}/{args.burst} had their first step running after {all_running:.1f} s"
    )
    print(f"serve memory (RSS) after the burst: {rss_mb(serve.pid):.0f} MB")

    os.kill(serve.pid, signal.SIGTERM)
    serve.wait(timeout=30)
    from breachops.flows.runtime import stop_local_server

    stop_local_server(workspace)


if __name__ == "__main__":
    main()

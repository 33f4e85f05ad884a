"""How fast the web console answers: the board with 1,000 open incidents, and 50 people reading at once.

    .venv/bin/python benchmarks/web.py [--incidents 1000] [--renders 20] [--readers 50] [--reads 10]

Opens copies of the example incident (examples/) in a throwaway SQLite workspace, marks a step of each
waiting for a person, starts the console as ``breachops serve`` does (uvicorn in a thread, loopback,
a free port) and signs one contact in (a session written straight to the store). Then it measures,
through real HTTP:

- the board: the median and p95 time of ``--renders`` sequential loads (target: median <= 200 ms);
- ``--readers`` threads each loading ``--reads`` pages (the board and incident pages, alternately)
  at once: median and p99 latency and pages per second.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from breachops.bootstrap import App  # noqa: E402
from breachops.config.agreements import load_agreement  # noqa: E402
from breachops.config.settings import Settings  # noqa: E402
from breachops.deadlines.models import load_facts  # noqa: E402
from breachops.playbooks import load_playbook  # noqa: E402
from breachops.services.incidents import open_incident  # noqa: E402
from breachops.services.steps import mark_waiting  # noqa: E402
from breachops.store import web_tokens  # noqa: E402
from breachops.web.app import start_web  # noqa: E402
from breachops.web.auth import SESSION_COOKIE  # noqa: E402

TARGET_MEDIAN_MS = 200
READER = "lars.hoffmann@nordlicht.example"  # security at the licensor: owns a step of every incident


def open_incidents(app: App, count: int) -> list[str]:
    facts = load_facts(ROOT / "examples" / "facts.yaml")
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    playbook = load_playbook("confidential-information-leak")
    opened = []
    for n in range(count):
        incident = open_incident(
            app, facts=facts, agreement=agreement, playbook=playbook, title=f"bench {n}", actor="bench"
        )
        mark_waiting(app, incident, ["preserve-evidence"])
        opened.append(incident)
        print(f"\ropening incidents: {n + 1:,}/{count:,}", end="", flush=True)
    print()
    return opened


def timed_get(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"GET {path} answered {answer.status_code}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=1_000)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--reads", type=int, default=10)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="breachops-web-bench-") as folder:
        workspace = Path(folder) / "ws"
        app = App(Settings(workspace=workspace))
        incidents = open_incidents(app, args.incidents)
        server = start_web(app, wake=None, environ={"BREACHOPS_WEB_BIND": "127.0.0.1:0"})
        token = secrets.token_urlsafe(32)
        now = app.clock.now()
        with app.transaction() as session:
            web_tokens.issue(
                session, token, kind="session", email=READER, at=now, expires_at=now + timedelta(hours=2)
            )
        cookies = {SESSION_COOKIE: token}
        try:
            with httpx.Client(base_url=server.url, cookies=cookies, timeout=120) as client:
                board = client.get("/")
                shown = board.text.count('<tr class="overdue">') + board.text.count("<tr>\n    <th")
                size = len(board.text) / 1024
                print(f"board of {args.incidents:,} incidents: {size:.0f} KiB, {shown:,} rows")
                times = [timed_get(client, "/") for _ in range(args.renders)]
            median = statistics.median(times) * 1000
            p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)] * 1000
            verdict = "ok" if median <= TARGET_MEDIAN_MS else f"over the {TARGET_MEDIAN_MS} ms target"
            print(f"board render: median {median:.0f} ms, p95 {p95:.0f} ms ({verdict})")

            latencies: list[float] = []
            failed: list[str] = []
            lock = threading.Lock()

            def reader(n: int) -> None:
                with httpx.Client(base_url=server.url, cookies=cookies, timeout=300) as client:
                    for i in range(args.reads):
                        path = "/" if i % 2 == 0 else f"/incidents/{incidents[(n * 7 + i) % len(incidents)]}"
                        started = time.perf_counter()
                        status = client.get(path).status_code
                        with lock:
                            latencies.append(time.perf_counter() - started)
                            if status != 200:
                                failed.append(f"{path}: {status}")

            started = time.perf_counter()
            threads = [threading.Thread(target=reader, args=(n,)) for n in range(args.readers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            ordered = sorted(latencies)
            middle = statistics.median(ordered) * 1000
            p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
            print(
                f"{args.readers} readers x {args.reads} pages: median {middle:.0f} ms, p99 {p99:.0f} ms, "
                f"{len(ordered) / wall:.1f} pages/s; {len(failed)} failed"
                + (f" (first: {failed[0]})" if failed else "")
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()

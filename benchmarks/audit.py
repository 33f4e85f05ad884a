"""What sealing and the ledger cost: append and verify 100,000 audit events, sealed and unsealed.

    .venv/bin/python benchmarks/audit.py [--events 100000] [--single 2000] [--baseline main]
                                         [--database-url URL]

Each variant runs in its own process on a fresh database (a SQLite file in a temporary folder, or
the PostgreSQL database given, whose tables are dropped first):
  - ``sealed``: this checkout, with an audit key: a MAC per event and one ledger entry per stream per
    transaction (what every breachops process does);
  - ``unsealed``: this checkout without a key (the ledger is still written);
  - ``baseline``: the code at git revision ``--baseline`` (default ``main``): the unkeyed chain
    without a ledger, as it was.
Appends come as reminder bursts do: transactions of 100 events over 10 incidents (10 each, through
``append_streams``), 100 incidents in all; then ``--single`` events one per transaction (as the CLI
appends). Verify checks every event: ``verify_all`` (streams and ledger in one pass) where it exists,
else ``verify`` of each stream; and one incident's ``verify`` (its stream and the whole ledger).
Prints events per second for each, and the sealed variant's cost against the baseline (target: at
most 20 % slower).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
STREAMS = 100
PER_TX_STREAMS = 10
PER_STREAM = 10


def child(mode: str, events: int, single: int, url: str) -> dict[str, Any]:
    from sqlalchemy import text

    from breachops.store import audit
    from breachops.store.database import make_engine, session_factory, upgrade

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    if mode == "sealed":
        from breachops.config.audit_key import AuditKey

        factory = session_factory(engine, audit_key=AuditKey(os.urandom(32)))
    else:
        factory = session_factory(engine)
    streams = [f"INC-2026-{n:04d}" for n in range(1, STREAMS + 1)]
    payload = {"message_id": 0, "idempotency_key": "INC-2026-0001|reminder|step|24h|alice@example.org"}

    started = time.perf_counter()
    written = 0
    tx = 0
    while written < events:
        group = [streams[(tx * PER_TX_STREAMS + i) % STREAMS] for i in range(PER_TX_STREAMS)]
        at = T0 + timedelta(seconds=tx)
        batch = {
            s: [
                audit.Entry("message.sent", payload | {"message_id": written + j}, "breachops", at)
                for j in range(PER_STREAM)
            ]
            for s in group
        }
        with factory.begin() as session:
            audit.append_streams(session, batch)
        written += PER_TX_STREAMS * PER_STREAM
        tx += 1
    bulk = time.perf_counter() - started

    started = time.perf_counter()
    for i in range(single):
        with factory.begin() as session:
            audit.append(
                session,
                streams[i % STREAMS],
                "fact.changed",
                {"i": i},
                "alice",
                T0 + timedelta(hours=1, seconds=i),
            )
    one_by_one = time.perf_counter() - started

    started = time.perf_counter()
    with factory() as session:
        if hasattr(audit, "verify_all"):
            results, ledger = audit.verify_all(session)
            assert ledger.ok
        else:
            results = [audit.verify(session, s) for s in streams]
        assert all(r.ok for r in results), [str(r) for r in results if not r.ok][:3]
        checked = sum(r.events for r in results)
    verify_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with factory() as session:
        assert audit.verify(session, streams[0]).ok
    verify_one = time.perf_counter() - started
    engine.dispose()
    return {
        "mode": mode,
        "events": written,
        "append_bulk_per_s": written / bulk,
        "append_single_per_s": single / one_by_one if single else None,
        "verify_events": checked,
        "verify_per_s": checked / verify_seconds,
        "verify_one_s": verify_one,
    }


def baseline_tree(revision: str) -> Path:
    """The package as it was at ``revision``, unpacked into a temporary folder."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "breachops"], capture_output=True, check=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="breachops-baseline-"))
    with tarfile.open(fileobj=BytesIO(data)) as archive:
        archive.extractall(folder, filter="data")
    return folder


def run(mode: str, path: Path, args: argparse.Namespace) -> dict[str, Any]:
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='breachops-bench-')) / 'audit.db'}"
    env = dict(os.environ, PYTHONPATH=str(path))
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--events",
        str(args.events),
        "--single",
        str(args.single),
    ]
    out = subprocess.run([*command, "--database-url", url], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=2_000)
    parser.add_argument(
        "--baseline", default="main", help="git revision of the unkeyed chain to compare with"
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url = args.database_url
        print(json.dumps(child(args.child, args.events, args.single, url)))
        return

    results = [
        run("baseline", baseline_tree(args.baseline), args),
        run("unsealed", ROOT, args),
        run("sealed", ROOT, args),
    ]
    print(
        f"{'variant':<10} {'append (bursts)':>17} {'append (one/tx)':>16} {'verify':>14} {'verify one':>11}"
    )
    for r in results:
        single = f"{r['append_single_per_s']:,.0f}/s" if r["append_single_per_s"] else "-"
        print(
            f"{r['mode']:<10} {r['append_bulk_per_s']:>15,.0f}/s {single:>16} {r['verify_per_s']:>12,.0f}/s "
            f"{r['verify_one_s'] * 1000:>9,.0f}ms"
        )
    base, sealed = results[0], results[-1]
    for label, key in (
        ("append (bursts)", "append_bulk_per_s"),
        ("append (one/tx)", "append_single_per_s"),
        ("verify", "verify_per_s"),
    ):
        if base[key] and sealed[key]:
            slower = (base[key] / sealed[key] - 1) * 100
            print(f"sealed vs baseline, {label}: {slower:+.1f} % time per event (target <= +20 %)")


if __name__ == "__main__":
    main()

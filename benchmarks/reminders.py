"""How late reminders go out when 10,000 of them fall due within one minute.

    .venv/bin/python benchmarks/reminders.py [--reminders 10000] [--window 60] [--channel smtp|outbox]
                                             [--senders 4] [--reply-delay MS] [--trace FILE]

Opens enough copies of the example incident (examples/) in a throwaway SQLite workspace, then moves
every step's and obligation's due time (as a recomputation would) so that the "1 h before" reminder of
each falls at a random instant of the next ``--window`` seconds; the "24 h" and "4 h" ones fall before
the incident opened and are dropped, as they would be. Then it starts the ``ReminderService`` that
``breachops serve`` hosts (APScheduler, the real clock) with an SMTP channel pointed at a local sink
(aiosmtpd on 127.0.0.1, recording when each message arrived), or with the outbox folder channel.
``--reply-delay`` makes the sink take that long to accept each message, as a relay across a network
that scans what it gets does; that is where ``--senders`` (connections at once) shows.

Prints the lateness (arrival at the sink minus the reminder's due time) median and p99, and the
messages per second from the first due time to the last arrival. Target: p99 lateness <= 2 s.
"""

from __future__ import annotations

import argparse
import email.policy
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from breachops.bootstrap import App  # noqa: E402
from breachops.config.agreements import load_agreement  # noqa: E402
from breachops.config.settings import Settings  # noqa: E402
from breachops.deadlines.models import load_facts  # noqa: E402
from breachops.deadlines.reminders import ReminderPolicy, derive_reminders  # noqa: E402
from breachops.flows.scheduler import ReminderService  # noqa: E402
from breachops.notifications.channels.base import Channel  # noqa: E402
from breachops.notifications.models import key_from_message_id  # noqa: E402
from breachops.notifications.outbox import message_key  # noqa: E402
from breachops.notifications.senders import DEFAULT_SENDERS  # noqa: E402
from breachops.playbooks import load_playbook  # noqa: E402
from breachops.services.incidents import agreement_of, open_incident  # noqa: E402
from breachops.store import Repository  # noqa: E402
from breachops.store.models import Message  # noqa: E402

TARGET_P99 = 2.0
LEAD = timedelta(hours=1)  # the default policy's last reminder before a due time


class Sink:
    """An SMTP server on loopback, in a process of its own as a real relay would be, that writes the
    key and arrival time (wall clock) of every message it accepts to a file, duplicates included."""

    def __init__(self, log: Path, delay: float = 0.0) -> None:
        self.log = log
        self.delay = delay
        with socket.socket() as probe:  # a free port on loopback
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> int:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(self.port), str(self.log), str(self.delay)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "ready"
        return self.port

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def arrivals(self) -> tuple[dict[str, datetime], int]:
        """Key -> first arrival, and how many arrivals were repeats."""
        found: dict[str, datetime] = {}
        repeats = 0
        if self.log.exists():
            for line in self.log.read_text().splitlines():
                key, _, stamp = line.rpartition("\t")
                if key in found:
                    repeats += 1
                else:
                    found[key] = datetime.fromtimestamp(float(stamp), UTC)
        return found, repeats

    def count(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


def run_sink(port: int, log: Path, delay: float) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    with log.open("a") as out:

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if delay:  # a relay that checks each message before it answers
                    await asyncio.sleep(delay)
                at = time.time()
                headers = BytesHeaderParser(policy=email.policy.default).parsebytes(envelope.content)
                out.write(f"{key_from_message_id(str(headers['Message-ID'])) or '?'}\t{at}\n")
                out.flush()
                return "250 Message accepted for delivery"

        controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        controller.start()
        print("ready", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()
        controller.stop()


def progress(label: str, done: int, total: int) -> None:
    print(f"\r{label}: {done:,}/{total:,}", end="", flush=True)


def open_incidents(app: App, count: int) -> list[str]:
    facts = load_facts(ROOT / "examples" / "facts.yaml")
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    playbook = load_playbook("confidential-information-leak")
    opened = []
    for n in range(count):
        opened.append(
            open_incident(
                app, facts=facts, agreement=agreement, playbook=playbook, title=f"bench {n}", actor="bench"
            )
        )
        progress("opening incidents", n + 1, count)
    print()
    return opened


def align(app: App, incidents: list[str], wanted: int, start: datetime, window: float, seed: int) -> dict:
    """Move due times so each item's 1 h reminder falls in [start, start + window); stop at ``wanted``
    messages (later items get no due time). Returns message key -> due time of its reminder."""
    rng = random.Random(seed)
    policy = ReminderPolicy()
    due: dict[str, datetime] = {}
    with app.transaction() as session:  # the opening messages went out long ago, as far as we care
        session.execute(delete(Message))
    for incident_id in incidents:
        with app.transaction() as session:
            repo = Repository(session)
            incident = repo.get_incident(incident_id)
            agreement = agreement_of(app, incident)
            for item in [*repo.steps(incident_id), *repo.obligations(incident_id)]:
                item.due = start + LEAD + timedelta(seconds=rng.uniform(0, window))
            session.flush()
            for item in [*repo.steps(incident_id), *repo.obligations(incident_id)]:
                one = derive_reminders(
                    incident_id, [item] if hasattr(item, "rule_id") else [],
                    [] if hasattr(item, "rule_id") else [item], agreement, policy, since=incident.opened_at,
                )  # fmt: skip
                first = [r for r in one if r.kind == "reminder" and r.due_at >= start]
                keys = {message_key(r.key, str(p)): r.due_at for r in first for p in r.recipients}
                if not keys or len(due) + len(keys) > wanted:
                    item.due = None
                    continue
                due.update(keys)
    return due


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the due times spread over")
    parser.add_argument("--channel", choices=("smtp", "outbox"), default="smtp")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--senders", type=int, default=DEFAULT_SENDERS, help="sender threads (connections)")
    parser.add_argument("--trace", type=Path, help="write due time, arrival and lateness per message (TSV)")
    parser.add_argument(
        "--reply-delay", type=float, default=0.0, metavar="MS",
        help="milliseconds the SMTP sink takes to accept each message, as a distant relay would",
    )  # fmt: skip
    parser.add_argument("--sink", nargs=3, metavar=("PORT", "LOG", "DELAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(int(args.sink[0]), Path(args.sink[1]), float(args.sink[2]))
        return

    workspace = Path(tempfile.mkdtemp(prefix="breachops-bench-")) / "ws"
    app = App(Settings(workspace=workspace))
    per_incident = 41  # the example incident's "1 h before" messages; a spare incident or two is harmless
    incidents = open_incidents(app, args.reminders // per_incident + 2)

    sink = Sink(workspace.parent / "arrivals.tsv", args.reply_delay / 1000)
    channel: Channel
    if args.channel == "smtp":
        from breachops.notifications.channels.smtp import SmtpChannel

        channel = SmtpChannel("127.0.0.1", sink.start(), tls="none", timeout=10)
    else:
        from breachops.notifications.channels.outbox import OutboxChannel

        channel = OutboxChannel(workspace)

    start = datetime.now(UTC) + timedelta(seconds=5)
    due = align(app, incidents, args.reminders, start, args.window, args.seed)
    print(f"{len(due):,} reminders due from {start:%H:%M:%S} UTC over {args.window:.0f} s", flush=True)
    reminders = ReminderService(app, channel, senders=args.senders)
    reminders.start()
    try:
        deadline = time.monotonic() + args.window + 600
        while time.monotonic() < deadline:
            done = sink.count() if args.channel == "smtp" else _sent(app)
            progress("delivered", done, len(due))
            if done >= len(due):
                break
            time.sleep(1)
        print()
    finally:
        reminders.stop()
        sink.stop()

    arrived, repeats = sink.arrivals() if args.channel == "smtp" else (_sent_times(app), 0)
    late = sorted((arrived[k] - at).total_seconds() for k, at in due.items() if k in arrived)
    if args.trace:
        rows = sorted((at, arrived[k], k) for k, at in due.items() if k in arrived)
        args.trace.write_text(
            "due\tarrived\tlateness_s\tkey\n"
            + "".join(
                f"{d.isoformat()}\t{a.isoformat()}\t{(a - d).total_seconds():.3f}\t{k}\n" for d, a, k in rows
            )
        )
    missing = len(due) - len(late)
    last = max(arrived[k] for k in due if k in arrived)
    rate = len(late) / max((last - min(due.values())).total_seconds(), 1e-9)
    p99 = late[max(0, int(len(late) * 0.99) - 1)]
    print(
        f"channel: {args.channel}; senders: {args.senders}; sink reply delay: {args.reply_delay:g} ms; "
        f"incidents: {len(incidents)}; messages delivered: {len(late):,}"
    )
    print(f"lateness: median {statistics.median(late):.3f} s, p99 {p99:.3f} s, max {late[-1]:.3f} s")
    print(f"rate: {rate:,.0f} messages/s (first due time to last arrival)")
    if missing or repeats:
        print(f"NOT DELIVERED: {missing}; delivered twice: {repeats}")
    print(f"target (p99 <= {TARGET_P99:.0f} s) met: {'yes' if p99 <= TARGET_P99 and not missing else 'NO'}")


def _sent(app: App) -> int:
    with app.transaction() as session:
        return int(session.scalar(select(func.count()).where(Message.status == "sent")) or 0)


def _sent_times(app: App) -> dict[str, datetime]:
    """The outbox channel writes each message's file at once; its mtime is the arrival."""
    with app.transaction() as session:
        rows = session.execute(select(Message.idempotency_key, Message.provider_message_id)).all()
    folder = app.workspace / "outbox"
    found = {}
    for key, name in rows:
        if name and (folder / name).exists():
            found[key] = datetime.fromtimestamp((folder / name).stat().st_mtime, UTC)
    return found


if __name__ == "__main__":
    main()

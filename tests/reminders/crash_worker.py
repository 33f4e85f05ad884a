"""The dispatcher loop as a separate process, for test_crash_safety: recover, say ready, send until done.

Usage: python -m tests.reminders.crash_worker WORKSPACE SMTP_PORT [SENDERS]
"""

from __future__ import annotations

import sys
from pathlib import Path

from breachops.bootstrap import App
from breachops.config.settings import Settings
from breachops.notifications.channels.smtp import SmtpChannel
from breachops.notifications.outbox import dispatch, recover_stuck
from breachops.notifications.senders import SenderPool

CLAIMANT = "crash-worker"


def main(workspace: str, port: int, senders: int = 1) -> None:
    app = App(Settings(workspace=Path(workspace)))
    channel = SmtpChannel("127.0.0.1", port, tls="none", timeout=5)
    # The same name as the killed worker: whatever it held in `sending` is orphaned, taken back at once.
    report = recover_stuck(app, claimant=CLAIMANT)
    print(f"ready recovered={len(report.recovered)} in_doubt={len(report.in_doubt)}", flush=True)
    pool = SenderPool(senders) if senders > 1 else None  # several connections, one message on each
    while True:
        done = dispatch(
            app, channel, limit=5 if pool is None else 2 * senders, senders=pool, claimant=CLAIMANT
        )
        if not (done.sent or done.retrying or done.recovered):
            break
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *(int(a) for a in sys.argv[3:4]))

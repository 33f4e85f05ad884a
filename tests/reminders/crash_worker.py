"""The dispatcher loop as a separate process, for test_crash_safety: recover, say ready, send until done.

Usage: python -m tests.reminders.crash_worker WORKSPACE SMTP_PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

from breachops.bootstrap import App
from breachops.config.settings import Settings
from breachops.notifications.channels.smtp import SmtpChannel
from breachops.notifications.outbox import dispatch, recover_stuck


def main(workspace: str, port: int) -> None:
    app = App(Settings(workspace=Path(workspace)))
    channel = SmtpChannel("127.0.0.1", port, tls="none", timeout=5)
    report = recover_stuck(app, everything=True)  # the only dispatcher: whatever is `sending` is orphaned
    print(f"ready recovered={len(report.recovered)} in_doubt={len(report.in_doubt)}", flush=True)
    while True:
        done = dispatch(app, channel, limit=5)
        if not (done.sent or done.retrying or done.recovered):
            break
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

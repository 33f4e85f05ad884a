"""`breachops web`: the console alone, for development (``breachops serve`` runs it in team mode)."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Annotated

import typer

from breachops.commands.common import make_app, say

__all__ = ["web"]


def web(
    bind: Annotated[
        str | None,
        typer.Option(
            "--bind", help="host:port (default: BREACHOPS_WEB_BIND, else 127.0.0.1 on a free port)."
        ),
    ] = None,
) -> None:
    """Run the web console in the foreground until stopped. Sign-in mail goes out through the
    workspace's mail settings at once; other messages are sent by `breachops serve`."""
    from breachops.notifications.outbox import dispatch
    from breachops.web.app import start_web

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = make_app()
    channel, sender = app.channel(), app.mail_settings.mail_from
    environ = dict(os.environ)
    if bind:
        environ["BREACHOPS_WEB_BIND"] = bind
    server = start_web(app, send_now=lambda: dispatch(app, channel, sender=sender), environ=environ)
    say(f"web console at {server.url}; Ctrl-C stops")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop()

"""Fixtures for reminders and the dispatcher: a SQLite workspace, a ManualClock, a real SMTP server.

The SMTP server (aiosmtpd on 127.0.0.1, random port) keeps every message it accepts, duplicates
included: the tests count Message-IDs at the server, so a duplicate delivery is seen, never hidden.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.deadlines.models import load_facts
from breachops.notifications.models import key_from_message_id
from breachops.playbooks import load_playbook
from breachops.services.incidents import open_incident

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Recorder:
    """An aiosmtpd handler that keeps every accepted message (no dedupe) and can be told to refuse."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.peers: list[tuple[str, int]] = []  # the client end of the connection each came over
        self.data_reply: str | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(parsed)  # type: ignore[arg-type]
            self.peers.append(tuple(session.peer))
        return "250 Message accepted for delivery"

    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(key_from_message_id(str(m["Message-ID"])) or "?" for m in self.messages)

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


class Smtp:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.recorder = Recorder()
        self.host, self.port = "127.0.0.1", free_port()
        self.controller = Controller(self.recorder, hostname=self.host, port=self.port)


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> App:
    return App(Settings(workspace=tmp_path / "ws"), clock=clock)


def open_example(app: App, *, drill: bool = False) -> str:
    return open_incident(
        app,
        facts=load_facts(ROOT / "examples" / "facts.yaml"),
        agreement=load_agreement(ROOT / "examples" / "agreement.yaml"),
        playbook=load_playbook("confidential-information-leak"),
        title="Licensed source code on a public repository",
        actor="rafael.costa@horizonte.example",
        drill=drill,
    )

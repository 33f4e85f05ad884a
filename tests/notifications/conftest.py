"""Fixtures for the mail tests: a fake clock, message factory, and loopback-only servers.

No test here reaches beyond 127.0.0.1: ``_loopback_only`` fails any other socket connect.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from breachops.clock import ManualClock
from breachops.notifications.models import OutgoingMessage
from breachops.notifications.render import render
from breachops.notifications.samples import sample_context

# SendGrid's official OpenAPI description of the Mail API, kept with the tests (tests/reference/README.md).
SPEC = Path(__file__).resolve().parents[1] / "reference" / "sendgrid" / "tsg_mail_v3.json"
SPEC_SHA256 = "4ba24d0feb8a6b347f60528161d1cf0e7591987d2b3a64a6533685dc2b39d19f"  # sendgrid-oai at dbe0e0d
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
_LOOPBACK = ("127.0.0.1", "::1")


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOOPBACK:
            raise AssertionError(f"a mail test tried to reach {address!r}; only 127.0.0.1 is allowed")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


def make_message(**overrides: Any) -> OutgoingMessage:
    """A rendered ``test`` message; keyword arguments override message fields or (``context``) values."""
    context = sample_context("test") | overrides.pop("context", {})
    drill = overrides.get("drill", False)
    rendered = render(overrides.pop("template_kind", "test"), context, drill=drill)
    fields: dict[str, Any] = {
        "idempotency_key": "INC-2026-0007:test:aiko:2026-11-25T10:00Z",
        "sender": ("Breachops (Discloser GmbH)", "breachops@discloser.example"),
        "recipients": [("Aiko Tanaka", "aiko.tanaka@receiver.example")],
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "incident_id": "INC-2026-0007",
        "kind": "test",
    }
    return OutgoingMessage(**(fields | overrides))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- SMTP ---------------------------------------------------------------------------------------


class SmtpRecorder:
    """An aiosmtpd handler that keeps what it accepted and can be told to refuse."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: SmtpRecorder
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)


def _smtp(**params: Any) -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller

    recorder = SmtpRecorder()
    server = SmtpServer("127.0.0.1", free_port(), recorder)
    if params.pop("with_auth", False):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        def authenticator(srv: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
                b"breachops",
                b"s3cret-pw",
            )
            if isinstance(data, LoginPassword):
                server.logins.append((data.login, data.password))
            return AuthResult(success=ok, handled=False)

        # handled=False: aiosmtpd then answers 535 itself (with the default True it stays silent).
        params |= {"authenticator": authenticator, "auth_require_tls": False}
    controller = Controller(recorder, hostname=server.host, port=server.port, **params)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    yield from _smtp()


@pytest.fixture
def smtp_auth_server() -> Iterator[SmtpServer]:
    yield from _smtp(with_auth=True)


# ---- SendGrid -----------------------------------------------------------------------------------


def _sendgrid_validator() -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    uri = "urn:sendgrid:tsg_mail_v3"
    registry = Registry().with_resource(uri, Resource.from_contents(spec, default_specification=DRAFT202012))
    pointer = "/components/requestBodies/PostMailSend/content/application~1json/schema"
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": f"{uri}#{pointer}"}
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="session")
def sendgrid_validator() -> Any:
    return _sendgrid_validator()


@dataclass
class Scripted:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    hang: bool = False
    echo: str | None = None  # answer with this prefix and the request's Authorization header (status as set)


@dataclass
class SendGridServer:
    url: str
    script: list[Scripted]
    requests: list[dict[str, Any]]
    invalid: list[str]
    release: threading.Event


@pytest.fixture
def sendgrid_server(sendgrid_validator: Any) -> Iterator[SendGridServer]:
    """Stands in for api.sendgrid.com: validates every POST /v3/mail/send body against the official spec
    and answers from ``script`` (202 when empty). Invalid bodies get 400 and are listed in ``invalid``;
    the fixture fails the test if there are any."""
    state = SendGridServer("", [], [], [], threading.Event())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw)
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            errors = sorted(sendgrid_validator.iter_errors(body), key=lambda e: list(e.path))
            if self.path != "/v3/mail/send" or errors:
                state.invalid.extend(f"{list(e.path)}: {e.message}" for e in errors)
                self._answer(Scripted(400, body=json.dumps({"errors": [{"message": "invalid"}]}).encode()))
                return
            step = state.script.pop(0) if state.script else Scripted()
            if step.hang:
                state.release.wait(10)
                return
            if step.echo is not None:  # some gateways echo the request in their error body
                echoed = f"{step.echo}Authorization: {self.headers.get('Authorization')}; body {raw[:200]!r}"
                step = Scripted(
                    step.status, step.headers, json.dumps({"errors": [{"message": echoed}]}).encode()
                )
            self._answer(step)

        def _answer(self, step: Scripted) -> None:
            self.send_response(step.status)
            headers = {"X-Message-Id": "sg-abc123"} if step.status == 202 else {}
            for name, value in (headers | step.headers).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(step.body)))
            self.end_headers()
            self.wfile.write(step.body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()
    assert not state.invalid, f"request bodies that break the SendGrid spec: {state.invalid}"

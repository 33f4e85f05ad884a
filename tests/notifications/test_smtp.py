from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
import traceback

import pytest

from breachops.clock import ManualClock
from breachops.notifications.channels.base import DeliveryError, connection_batch, on_handover
from breachops.notifications.channels.smtp import SmtpChannel
from breachops.notifications.models import OutgoingMessage, key_from_message_id
from breachops.notifications.render import render
from breachops.notifications.samples import sample_context

from .conftest import SmtpServer, free_port, make_message


def _channel(server: SmtpServer, clock: ManualClock, **kwargs: object) -> SmtpChannel:
    return SmtpChannel(server.host, server.port, tls="none", timeout=5, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_message_arrives_with_both_parts_key_and_escaping(
    smtp_server: SmtpServer, clock: ManualClock
) -> None:
    context = sample_context("step_assigned")
    context["step"]["title"] = "<script>alert('x')</script>"
    rendered = render("step_assigned", context)
    message = make_message(
        kind="step_assigned", subject=rendered.subject, text=rendered.text, html=rendered.html,
        recipients=[("Aiko Tanaka", "aiko.tanaka@receiver.example"), ("Jonas", "legal@discloser.example")],
    )  # fmt: skip
    delivery = _channel(smtp_server, clock).send(message)

    [envelope] = smtp_server.recorder.envelopes
    assert envelope.mail_from == "breachops@discloser.example"
    assert sorted(envelope.rcpt_tos) == ["aiko.tanaka@receiver.example", "legal@discloser.example"]
    parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    assert parsed.get_content_type() == "multipart/alternative"
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert('x')</script>" in text
    assert key_from_message_id(parsed["Message-ID"]) == message.idempotency_key
    assert delivery.provider_id == parsed["Message-ID"] == message.message_id
    assert parsed["Auto-Submitted"] == "auto-generated"


def test_credentials_are_used_and_bad_ones_are_not_retryable(
    smtp_auth_server: SmtpServer, clock: ManualClock
) -> None:
    _channel(smtp_auth_server, clock, username="breachops", password="s3cret-pw").send(make_message())
    assert smtp_auth_server.logins[-1] == (b"breachops", b"s3cret-pw")
    assert len(smtp_auth_server.recorder.envelopes) == 1

    channel = _channel(smtp_auth_server, clock, username="breachops", password="wrong-pw-123")
    with pytest.raises(DeliveryError) as caught:
        channel.send(make_message())
    assert caught.value.retryable is False
    shown = "".join(traceback.format_exception(caught.value)) + repr(channel)
    assert "wrong-pw-123" not in shown


def test_4xx_is_retryable_and_5xx_is_not(smtp_server: SmtpServer, clock: ManualClock) -> None:
    channel = _channel(smtp_server, clock)
    smtp_server.recorder.data_reply = "451 4.3.0 Try again later"
    with pytest.raises(DeliveryError) as caught:
        channel.send(make_message())
    assert caught.value.retryable is True and "451" in caught.value.reason

    smtp_server.recorder.data_reply = "554 5.7.1 Rejected as spam"
    with pytest.raises(DeliveryError) as caught:
        channel.send(make_message())
    assert caught.value.retryable is False and "554" in caught.value.reason


def test_all_recipients_refused_is_not_retryable(smtp_server: SmtpServer, clock: ManualClock) -> None:
    smtp_server.recorder.rcpt_replies["aiko.tanaka@receiver.example"] = "550 5.1.1 No such user"
    with pytest.raises(DeliveryError) as caught:
        _channel(smtp_server, clock).send(make_message())
    assert caught.value.retryable is False
    assert "aiko.tanaka@receiver.example (550)" in caught.value.reason


def test_partly_refused_recipients_are_reported_not_retried(
    smtp_server: SmtpServer, clock: ManualClock
) -> None:
    smtp_server.recorder.rcpt_replies["gone@receiver.example"] = "550 5.1.1 No such user"
    message = make_message(recipients=[("A", "aiko.tanaka@receiver.example"), ("G", "gone@receiver.example")])
    delivery = _channel(smtp_server, clock).send(message)
    assert delivery.refused == ("gone@receiver.example",)
    assert smtp_server.recorder.envelopes[0].rcpt_tos == ["aiko.tanaka@receiver.example"]


def test_connection_refused_is_retryable(clock: ManualClock) -> None:
    channel = SmtpChannel("127.0.0.1", free_port(), tls="none", timeout=2, clock=clock)
    with pytest.raises(DeliveryError) as caught:
        channel.send(make_message())
    assert caught.value.retryable is True


def test_silent_server_times_out_as_retryable(clock: ManualClock) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the TCP connection but never sends a greeting
        channel = SmtpChannel("127.0.0.1", listener.getsockname()[1], tls="none", timeout=0.5, clock=clock)
        with pytest.raises(DeliveryError) as caught:
            channel.send(make_message())
    assert caught.value.retryable is True


def test_starttls_unsupported_is_a_configuration_error(smtp_server: SmtpServer, clock: ManualClock) -> None:
    channel = SmtpChannel(smtp_server.host, smtp_server.port, tls="starttls", timeout=5, clock=clock)
    with pytest.raises(DeliveryError) as caught:
        channel.send(make_message())
    assert caught.value.retryable is False
    assert "STARTTLS" in caught.value.reason.upper()


def _record_connections(server: SmtpServer) -> list[object]:
    """The client address of each accepted message, in order (one per connection it came over)."""
    peers: list[object] = []
    accept = server.recorder.handle_DATA

    async def handle_DATA(srv: object, session: object, envelope: object) -> str:
        peers.append(getattr(session, "peer", None))
        return await accept(srv, session, envelope)

    server.recorder.handle_DATA = handle_DATA  # type: ignore[method-assign,assignment]
    return peers


def _numbered(n: int) -> OutgoingMessage:
    return make_message(idempotency_key=f"INC-2026-0007:test:aiko:{n}")


def test_a_connection_batch_sends_every_message_over_one_connection_with_a_handover_each(
    smtp_server: SmtpServer, clock: ManualClock
) -> None:
    peers = _record_connections(smtp_server)
    channel = _channel(smtp_server, clock)
    handovers: list[int] = []
    with connection_batch(), on_handover(lambda: handovers.append(len(smtp_server.recorder.envelopes))):
        for n in range(3):
            channel.send(_numbered(n))
    # Each hand-over happens before its own message is accepted: the terminator was still to go.
    assert handovers == [0, 1, 2]
    assert len(peers) == 3 and len(set(peers)) == 1
    channel.send(_numbered(3))
    assert len(set(peers)) == 2  # outside a batch: a connection of its own


def test_a_kept_connection_the_server_dropped_is_replaced_before_the_next_message(
    smtp_server: SmtpServer, clock: ManualClock
) -> None:
    peers = _record_connections(smtp_server)
    accept = smtp_server.recorder.handle_DATA

    async def accept_then_hang_up(srv: object, session: object, envelope: object) -> str:
        reply = await accept(srv, session, envelope)
        asyncio.get_running_loop().call_later(0.05, srv.transport.close)  # type: ignore[attr-defined]
        return reply

    smtp_server.recorder.handle_DATA = accept_then_hang_up  # type: ignore[method-assign,assignment]
    channel = _channel(smtp_server, clock)
    with connection_batch():
        for n in range(3):
            channel.send(_numbered(n))
            time.sleep(0.2)
    assert len(smtp_server.recorder.envelopes) == 3
    assert len(set(peers)) == 3

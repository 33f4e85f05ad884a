from __future__ import annotations

import base64
import hashlib
import logging
import traceback
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from breachops.clock import ManualClock
from breachops.notifications.channels.base import DeliveryError
from breachops.notifications.channels.sendgrid import SendGridChannel, sendgrid_body
from breachops.notifications.models import IcsAttachment, key_from_message_id

from .conftest import SPEC, SPEC_SHA256, Scripted, SendGridServer, make_message

API_KEY = "SG.unit-test-key.Zx81kQ"


def _channel(server: SendGridServer, clock: ManualClock, timeout: float = 5) -> SendGridChannel:
    return SendGridChannel(API_KEY, host=server.url, timeout=timeout, clock=clock)


def _assert_no_key(*texts: str) -> None:
    for text in texts:
        assert API_KEY not in text
        assert "unit-test-key" not in text


def test_accepted_message_carries_key_in_custom_args_and_message_id(
    sendgrid_server: SendGridServer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    message = make_message(headers={"X-Ticket": "T-42"})
    channel = _channel(sendgrid_server, clock)
    delivery = channel.send(message)

    assert delivery.provider_id == "sg-abc123"
    assert delivery.accepted_at == clock.now()
    [request] = sendgrid_server.requests
    assert request["headers"]["Authorization"] == f"Bearer {API_KEY}"
    body = request["body"]
    personalization = body["personalizations"][0]
    assert personalization["custom_args"]["breachops_key"] == message.idempotency_key
    assert key_from_message_id(body["headers"]["Message-ID"]) == message.idempotency_key
    assert body["headers"]["X-Ticket"] == "T-42"
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert personalization["to"] == [{"email": "aiko.tanaka@receiver.example", "name": "Aiko Tanaka"}]
    # python_http_client logs request headers at DEBUG; the key must not reach any log record.
    assert any("HEADERS" in r.getMessage() for r in caplog.records)
    _assert_no_key(*(r.getMessage() for r in caplog.records), repr(channel), str(channel))


def test_drill_and_invitation_bodies_match_the_spec(
    sendgrid_server: SendGridServer, clock: ManualClock
) -> None:
    ics = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    message = make_message(drill=True, ics=IcsAttachment(content=ics))
    _channel(sendgrid_server, clock).send(message)
    body = sendgrid_server.requests[0]["body"]
    assert body["subject"].startswith("[DRILL]")
    assert body["headers"]["X-Breachops-Drill"] == "yes"
    assert body["personalizations"][0]["custom_args"]["breachops_drill"] == "yes"
    [attachment] = body["attachments"]
    assert base64.b64decode(attachment["content"]) == ics
    assert attachment["type"] == "text/calendar; method=REQUEST"


def test_the_spec_is_the_official_description_unchanged() -> None:
    assert hashlib.sha256(SPEC.read_bytes()).hexdigest() == SPEC_SHA256
    shared = Path(__file__).resolve().parents[3] / "shared" / "reference" / "sendgrid" / SPEC.name
    if shared.exists():  # the copy the project was given, where the checkout lies beside it
        assert shared.read_bytes() == SPEC.read_bytes()


def test_the_spec_check_catches_a_bad_body(sendgrid_validator: Any) -> None:
    """Guards the guard: a message-level custom_args object (the spec says string) is caught."""
    body = sendgrid_body(make_message())
    assert not list(sendgrid_validator.iter_errors(body))
    bad = body | {"custom_args": {"breachops_key": "x"}}
    assert list(sendgrid_validator.iter_errors(bad))
    assert list(sendgrid_validator.iter_errors({k: v for k, v in body.items() if k != "from"}))


def test_429_is_retryable_and_honours_retry_after(
    sendgrid_server: SendGridServer, clock: ManualClock
) -> None:
    sendgrid_server.script.append(
        Scripted(429, {"Retry-After": "17"}, b'{"errors":[{"message":"too many"}]}')
    )
    with pytest.raises(DeliveryError) as caught:
        _channel(sendgrid_server, clock).send(make_message())
    assert caught.value.retryable is True
    assert caught.value.retry_after == 17.0
    assert "429" in caught.value.reason and "too many" in caught.value.reason
    _assert_no_key(str(caught.value), repr(caught.value), "".join(traceback.format_exception(caught.value)))


def test_retry_after_as_http_date(sendgrid_server: SendGridServer, clock: ManualClock) -> None:
    later = format_datetime(clock.now() + timedelta(seconds=90), usegmt=True)
    sendgrid_server.script.append(Scripted(429, {"Retry-After": later}))
    with pytest.raises(DeliveryError) as caught:
        _channel(sendgrid_server, clock).send(make_message())
    assert caught.value.retry_after == 90.0


def test_500_is_retryable(sendgrid_server: SendGridServer, clock: ManualClock) -> None:
    sendgrid_server.script.append(Scripted(500, body=b"upstream trouble"))
    with pytest.raises(DeliveryError) as caught:
        _channel(sendgrid_server, clock).send(make_message())
    assert caught.value.retryable is True and caught.value.retry_after is None


def test_401_is_not_retryable_and_does_not_show_the_key(
    sendgrid_server: SendGridServer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sendgrid_server.script.append(Scripted(401, body=b'{"errors":[{"message":"bad key"}]}'))
    with pytest.raises(DeliveryError) as caught:
        _channel(sendgrid_server, clock).send(make_message())
    assert caught.value.retryable is False
    assert "API key" in caught.value.reason
    _assert_no_key(
        str(caught.value), repr(caught.value), "".join(traceback.format_exception(caught.value)),
        *(r.getMessage() for r in caplog.records),
    )  # fmt: skip


def test_hanging_server_times_out_as_retryable(
    sendgrid_server: SendGridServer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sendgrid_server.script.append(Scripted(hang=True))
    with pytest.raises(DeliveryError) as caught:
        _channel(sendgrid_server, clock, timeout=0.5).send(make_message())
    assert caught.value.retryable is True
    _assert_no_key(
        str(caught.value), "".join(traceback.format_exception(caught.value)),
        *(r.getMessage() for r in caplog.records),
    )  # fmt: skip


def test_unreachable_host_is_retryable(clock: ManualClock) -> None:
    from .conftest import free_port

    channel = SendGridChannel(API_KEY, host=f"http://127.0.0.1:{free_port()}", timeout=2, clock=clock)
    with pytest.raises(DeliveryError) as caught:
        channel.send(make_message())
    assert caught.value.retryable is True
    _assert_no_key(str(caught.value), "".join(traceback.format_exception(caught.value)))

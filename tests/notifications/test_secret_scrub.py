"""A provider's error text never carries the API key or password, however it spells it or cuts it."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from breachops.clock import ManualClock
from breachops.notifications.channels.base import DeliveryError
from breachops.notifications.channels.sendgrid import SendGridChannel
from breachops.notifications.secret import Secret, scrub

from .conftest import Scripted, SendGridServer, make_message

# 71 characters, the length of a real SendGrid key (SG. + 22 + . + 43)
KEY = "SG." + "fake-key-for-tests-xyz" + "." + "made-up-for-tests-never-issued-by-sendgrid-00"


def _fragments(text: str, secret: str, size: int = 8) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1) if secret[i : i + size] in text]


def test_the_key_is_redacted_in_plain_url_encoded_and_base64_forms() -> None:
    assert len(KEY) == 71
    basic = base64.b64encode(f"apikey:{KEY}".encode()).decode()
    text = (
        f"key {KEY}, url {quote(KEY, safe='')}, basic {basic}, b64 {base64.b64encode(KEY.encode()).decode()}"
    )
    cleaned = scrub(text, Secret(KEY))
    assert not _fragments(cleaned, KEY)
    for form in (quote(KEY, safe=""), basic, base64.b64encode(KEY.encode()).decode()):
        assert not _fragments(cleaned, form[4:-4])
    assert cleaned.startswith("key [redacted], url [redacted], basic ")


def test_a_cut_key_is_still_redacted_and_other_text_is_kept() -> None:
    assert scrub(f"Bearer {KEY[:40]}", KEY) == "Bearer [redacted]"
    assert scrub(f"…{KEY[-9:]} end", KEY) == "…[redacted] end"
    assert scrub("nothing secret here", KEY) == "nothing secret here"
    assert scrub("short pw in text: pw123!", "pw123!") == "short pw in text: [redacted]"


@pytest.mark.parametrize("status", [400, 503])
def test_an_error_body_that_echoes_the_request_keeps_no_piece_of_the_key(
    sendgrid_server: SendGridServer, clock: ManualClock, status: int
) -> None:
    # The echo starts 250 characters in, so the 300-character cut of the detail falls inside the key.
    sendgrid_server.script.append(Scripted(status, echo="x" * 250 + " "))
    channel = SendGridChannel(KEY, host=sendgrid_server.url, timeout=5, clock=clock)
    with pytest.raises(DeliveryError) as caught:
        channel.send(make_message())
    reason = caught.value.reason
    assert "[redacted]" in reason and "Authorization: Bearer" in reason
    assert not _fragments(reason, KEY), reason
    assert not _fragments(repr(caught.value), KEY)

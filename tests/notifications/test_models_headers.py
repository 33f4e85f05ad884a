from __future__ import annotations

import dataclasses

import pytest

from breachops.errors import InputError
from breachops.notifications.headers import HeaderError
from breachops.notifications.models import (
    IcsAttachment,
    OutgoingMessage,
    key_from_message_id,
    key_to_name,
    message_id,
)

from .conftest import make_message


@pytest.mark.parametrize("bad", ["Hello\r\nBcc: outsider@evil.example", "Hello\nthere", "Hello\rthere"])
def test_line_break_in_subject_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(HeaderError) as caught:
        make_message(subject=bad)
    assert isinstance(caught.value, InputError)
    assert caught.value.field == "subject"
    assert caught.value.value == bad
    assert "line break" in str(caught.value)


def test_line_break_in_display_name_is_refused() -> None:
    with pytest.raises(HeaderError) as caught:
        make_message(recipients=[("Aiko\r\nBcc: x@evil.example", "aiko@receiver.example")])
    assert caught.value.field == "recipients[0].name"


def test_line_break_in_sender_name_is_refused() -> None:
    with pytest.raises(HeaderError, match=r"sender\.name"):
        make_message(sender=("Ops\n", "ops@discloser.example"))


@pytest.mark.parametrize(
    "address",
    [
        "aiko@receiver.example\r\nBcc: x@evil.example",
        "aiko@receiver.example\n",
        "Aiko <aiko@receiver.example>",
        "aiko@localhost",
        "no-at-sign.example",
        "a b@receiver.example",
        "aiko@receiver..example",
        "",
    ],
)
def test_bad_or_injected_address_is_refused(address: str) -> None:
    with pytest.raises(HeaderError) as caught:
        make_message(recipients=[("Aiko", address)])
    assert caught.value.field == "recipients[0].email"


def test_extra_headers_cannot_inject_or_override() -> None:
    with pytest.raises(HeaderError, match="line break"):
        make_message(headers={"X-Ticket": "1\r\nBcc: x@evil.example"})
    with pytest.raises(HeaderError, match="set by breachops"):
        make_message(headers={"Bcc": "x@evil.example"})
    with pytest.raises(HeaderError, match="header name"):
        make_message(headers={"X Bad": "1"})


def test_dataclasses_replace_cannot_bypass_the_checks() -> None:
    message = make_message()
    with pytest.raises(HeaderError):
        dataclasses.replace(message, subject="a\nb")
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.subject = "changed"  # type: ignore[misc]


def test_recipients_are_deduplicated_case_insensitively() -> None:
    message = make_message(
        recipients=[("A", "a@x.example"), ("A again", "A@X.example"), ("B", "b@x.example")]
    )
    assert message.recipients == (("A", "a@x.example"), ("B", "b@x.example"))


def test_message_id_is_deterministic_and_carries_the_key() -> None:
    key = "INC-2026-0007:reminder:step-3/legal@2026-11-25T10:00Z"
    first, second = message_id(key, "discloser.example"), message_id(key, "discloser.example")
    assert first == second
    assert first.startswith("<breachops.") and first.endswith("@discloser.example>")
    assert " " not in first and ":" not in first
    assert key_from_message_id(first) == key
    assert key_from_message_id("<something@else.example>") is None
    # Every byte outside letters, digits, - and _ as =XX: the spelling stored ids were made with.
    assert message_id("INC-1|a.b=c_d", "x.example") == "<breachops.INC-1=7Ca=2Eb=3Dc_d@x.example>"


def test_message_id_follows_a_replaced_key() -> None:
    message = make_message(idempotency_key="first")
    assert key_from_message_id(message.message_id) == "first"
    again = dataclasses.replace(message, idempotency_key="second")
    assert key_from_message_id(again.message_id) == "second"


def test_file_names_of_keys_differing_in_case_differ() -> None:
    assert key_to_name("INC-1:a").lower() != key_to_name("INC-1:A").lower()


def test_key_must_be_visible_ascii() -> None:
    with pytest.raises(HeaderError, match="idempotency_key"):
        make_message(idempotency_key="has space")


def test_ics_attachment_is_checked() -> None:
    with pytest.raises(HeaderError, match=r"ics\.method"):
        IcsAttachment(content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", method="SEND")
    with pytest.raises(HeaderError, match=r"ics\.filename"):
        IcsAttachment(content=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", filename="../x.ics")


def test_message_is_an_outgoing_message() -> None:
    assert isinstance(make_message(), OutgoingMessage)

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from pathlib import Path

from breachops.clock import ManualClock
from breachops.notifications.channels.outbox import OutboxChannel
from breachops.notifications.models import IcsAttachment, key_from_message_id

from .conftest import T0, make_message


def _parse(path: Path) -> email.message.EmailMessage:
    with path.open("rb") as handle:
        parsed = email.message_from_binary_file(handle, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def test_outbox_writes_a_multipart_alternative_eml(tmp_path: Path, clock: ManualClock) -> None:
    message = make_message()
    delivery = OutboxChannel(tmp_path, clock=clock).send(message)
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert [f.name for f in files] == [delivery.provider_id]
    parsed = _parse(files[0])
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert key_from_message_id(parsed["Message-ID"]) == message.idempotency_key
    assert parsed["From"].addresses[0].addr_spec == "breachops@discloser.example"
    assert parsed["To"].addresses[0].display_name == "Aiko Tanaka"
    assert parsed["Date"].datetime == T0
    assert parsed["X-Breachops-Drill"] is None
    plain = parsed.get_body(("plain",))
    assert plain is not None and "test message from breachops" in plain.get_content()
    assert delivery.accepted_at == T0
    assert b"\r\n" in files[0].read_bytes()  # RFC 5322 line ends


def test_same_key_twice_leaves_one_file_and_the_first_delivery_time(
    tmp_path: Path, clock: ManualClock
) -> None:
    channel = OutboxChannel(tmp_path, clock=clock)
    first = channel.send(make_message())
    clock.advance(timedelta(minutes=5))
    second = channel.send(make_message(subject="a different subject, same key"))
    assert len(list((tmp_path / "outbox").iterdir())) == 1
    assert second.provider_id == first.provider_id
    assert second.accepted_at == first.accepted_at == T0
    assert _parse(tmp_path / "outbox" / first.provider_id)["Subject"] != "a different subject, same key"


def test_different_keys_make_different_files(tmp_path: Path, clock: ManualClock) -> None:
    channel = OutboxChannel(tmp_path, clock=clock)
    channel.send(make_message(idempotency_key="INC-1:a"))
    channel.send(make_message(idempotency_key="INC-1:A"))
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_drill_message_carries_the_drill_header(tmp_path: Path, clock: ManualClock) -> None:
    delivery = OutboxChannel(tmp_path, clock=clock).send(make_message(drill=True))
    parsed = _parse(tmp_path / "outbox" / delivery.provider_id)
    assert parsed["X-Breachops-Drill"] == "yes"
    assert parsed["Subject"].startswith("[DRILL] ")


def test_invitation_carries_the_ics_attachment(tmp_path: Path, clock: ManualClock) -> None:
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    message = make_message(ics=IcsAttachment(content=ics, method="REQUEST"))
    delivery = OutboxChannel(tmp_path, clock=clock).send(message)
    parsed = _parse(tmp_path / "outbox" / delivery.provider_id)
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(("html", "plain"))
    assert body is not None and body.get_content_type() == "text/html"
    attachments = list(parsed.iter_attachments())
    assert len(attachments) == 1
    part = attachments[0]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "invite.ics"
    assert part.get_payload(decode=True) == ics


def test_no_temporary_files_are_left_behind(tmp_path: Path, clock: ManualClock) -> None:
    channel = OutboxChannel(tmp_path, clock=clock)
    channel.send(make_message())
    channel.send(make_message())
    assert [p.name for p in (tmp_path / "outbox").iterdir() if p.name.startswith(".tmp-")] == []

"""Every message carries its record's head (a witness): on the wire, in SendGrid's body, back from a file."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest

from breachops.errors import InputError
from breachops.notifications.channels.outbox import OutboxChannel
from breachops.notifications.channels.sendgrid import sendgrid_body
from breachops.notifications.headers import HeaderError
from breachops.notifications.mime import mime_bytes
from breachops.notifications.witness import outbox_witnesses, parse_head, read_witness

from .conftest import make_message

HEAD = "1234:" + "ab" * 32


def test_the_audit_head_travels_folded_within_78_characters_and_reads_back(clock: Any) -> None:
    data = mime_bytes(make_message(audit_head=HEAD), now=clock.now())
    lines = data.split(b"\r\n")
    at = lines.index(b"X-Breachops-Audit-Head:")
    assert lines[at + 1] == b" " + HEAD.encode() and len(lines[at + 1]) <= 78
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert str(parsed["X-Breachops-Audit-Head"]).strip() == HEAD


def test_a_message_without_a_head_has_no_header(clock: Any) -> None:
    assert b"X-Breachops-Audit-Head" not in mime_bytes(make_message(), now=clock.now())


@pytest.mark.parametrize(
    "bad", ["12:short", "ab" * 32, "1:" + "AB" * 32, "1:" + "ab" * 32 + "\r\nBcc: x@y.example"]
)
def test_a_malformed_head_is_refused(bad: str) -> None:
    with pytest.raises(HeaderError, match="audit_head"):
        make_message(audit_head=bad)


def test_the_head_cannot_be_given_as_an_extra_header() -> None:
    with pytest.raises(HeaderError, match="set by breachops"):
        make_message(headers={"X-Breachops-Audit-Head": HEAD})


def test_sendgrid_carries_the_head_as_a_header_and_a_custom_arg_valid_against_the_spec(
    sendgrid_validator: Any,
) -> None:
    body = sendgrid_body(make_message(audit_head=HEAD))
    assert not list(sendgrid_validator.iter_errors(body))
    assert body["headers"]["X-Breachops-Audit-Head"] == HEAD
    assert body["personalizations"][0]["custom_args"]["breachops_audit_head"] == HEAD


def test_a_witness_is_read_from_an_outbox_file_and_found_by_incident(tmp_path: Path, clock: Any) -> None:
    channel = OutboxChannel(tmp_path, clock=clock)
    channel.send(make_message(audit_head=HEAD))
    channel.send(make_message(idempotency_key="other", incident_id="INC-2026-0008", audit_head=HEAD))
    channel.send(make_message(idempotency_key="no-head"))
    [file] = [p for p in channel.folder.glob("*.eml") if "other" not in p.name and "no-head" not in p.name]
    witness = read_witness(file)
    assert (witness.incident_id, witness.seq, witness.digest) == ("INC-2026-0007", 1234, "ab" * 32)
    assert witness.message_id and witness.message_id.startswith("<breachops.")
    assert [w.source for w in outbox_witnesses(channel.folder, "INC-2026-0007")] == [str(file)]
    assert (channel.folder.stat().st_mode & 0o777, file.stat().st_mode & 0o777) == (0o700, 0o600)


def test_a_head_is_parsed_with_or_without_its_seq_and_refused_otherwise() -> None:
    assert parse_head(HEAD) == (1234, "ab" * 32)
    assert parse_head("ab" * 32) == (None, "ab" * 32)
    with pytest.raises(InputError, match="not an audit head"):
        parse_head("1234:xyz")

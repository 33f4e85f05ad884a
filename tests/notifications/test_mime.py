"""The message bytes read back, through the stdlib's strict parser, to exactly what was given."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from breachops.notifications.mime import mime_bytes
from breachops.notifications.models import IcsAttachment, OutgoingMessage

NOW = datetime(2026, 11, 25, 9, 30, 15, tzinfo=timezone(timedelta(hours=1)))
AWKWARD_TEXT = (
    "Dear Zoë,\n"
    ".a line starting with a dot\n"
    ".\n"
    "From the start of a line\n"
    "trailing spaces   \n"
    "a tab\tinside and at the end\t\n"
    "--==not a boundary==\n"
    "=?utf-8?q?not_an_encoded_word?= and 100% = sign\n"
    + "long " * 60
    + "\n"
    + "ü" * 120
    + "\r\nold-style CRLF\rand a lone CR\n"
    "emoji 🚨 and CJK 漏洩\n"
    "no final newline"
)


def _parse(data: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.strict)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _message(**overrides: object) -> OutgoingMessage:
    fields: dict[str, object] = {
        "idempotency_key": "INC-2026-0001|reminder|step:contain|1h|disclosing.incident_lead",
        "sender": ("breachops", "breachops@acme.example"),
        "recipients": [("Ada Lovelace", "ada@acme.example")],
        "subject": "Reminder: contain the leak is due in 1 h",
        "text": "Plain body\n",
        "html": "<html><body><p>HTML body</p></body></html>\n",
        "incident_id": "INC-2026-0001",
        "kind": "reminder",
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)  # type: ignore[arg-type]


def _content(part: object) -> str:
    """What a mail client shows: the stdlib keeps the wire's CRLF in decoded quoted-printable text."""
    return str(part.get_content()).replace("\r\n", "\n")  # type: ignore[attr-defined]


def _normalised(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") else text + "\n"


def _assert_wire_safe(data: bytes) -> None:
    assert data.isascii()
    assert data.endswith(b"\r\n")
    lines = data.split(b"\r\n")
    assert all(b"\r" not in line and b"\n" not in line for line in lines)  # CRLF line ends only
    assert max(len(line) for line in lines) <= 998  # RFC 5322's hard limit
    # Every line but the two that carry the key (one unbreakable token) keeps to 78 characters.
    unbreakable = (b"Message-ID: ", b"X-Breachops-Key: ")
    assert max(len(line) for line in lines if not line.startswith(unbreakable)) <= 78


def test_plain_message_reads_back_header_by_header_and_part_by_part() -> None:
    message = _message()
    data = mime_bytes(message, now=NOW)
    _assert_wire_safe(data)
    parsed = _parse(data)
    assert parsed["Message-ID"] == message.message_id
    assert parsed["Date"].datetime == NOW
    assert parsed["Date"].datetime.utcoffset() == timedelta(0)  # written in UTC
    assert str(parsed["From"]) == "breachops <breachops@acme.example>"
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == [
        ("Ada Lovelace", "ada@acme.example")
    ]
    assert parsed["Subject"] == message.subject
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["X-Breachops-Key"] == message.idempotency_key
    assert parsed["X-Breachops-Incident"] == "INC-2026-0001"
    assert parsed["X-Breachops-Kind"] == "reminder"
    assert parsed["X-Breachops-Drill"] is None
    assert parsed["MIME-Version"] == "1.0"
    assert parsed.get_content_type() == "multipart/alternative"
    plain, html = parsed.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert _content(plain) == message.text
    assert _content(html) == message.html
    assert not parsed.defects and not plain.defects and not html.defects


def test_awkward_text_and_names_survive_exactly() -> None:
    message = _message(
        sender=("Sicherheit – Acme GmbH", "security@acme.example"),
        recipients=[
            ("Zoë Müller", "zoe@acme.example"),
            ('Doe, "JJ" Jane', "jane@beta.example"),
            ("=?utf-8?q?Mallory?=", "mallory@beta.example"),
        ],
        subject="Vertraulich: Quellcode-Leck – Ärger 🚨 " + "sehr lang " * 20,
        text=AWKWARD_TEXT,
        html=f"<html><body><pre>{AWKWARD_TEXT}</pre></body></html>",
        headers={"X-Ticket": "Überprüfung =?x?= " + "y" * 90},
    )
    data = mime_bytes(message, now=NOW)
    _assert_wire_safe(data)
    parsed = _parse(data)
    assert parsed["Subject"] == message.subject
    assert parsed["X-Ticket"] == message.headers["X-Ticket"]
    assert parsed["From"].addresses[0].display_name == "Sicherheit – Acme GmbH"
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == list(message.recipients)
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert _content(plain) == _normalised(AWKWARD_TEXT)
    assert _content(html) == _normalised(message.html)
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert b"Dear Zo=C3=AB," in data  # ASCII stays readable, the rest is escaped
    assert not any(part.defects for part in parsed.walk())


def test_long_ascii_values_fold_and_unfold_to_the_same_text() -> None:
    recipients = [(f"Responder {n}", f"responder{n}@beta.example") for n in range(12)]
    subject = "Overdue: " + " ".join(f"word{n}" for n in range(40))
    message = _message(recipients=recipients, subject=subject)
    data = mime_bytes(message, now=NOW)
    _assert_wire_safe(data)
    parsed = _parse(data)
    assert parsed["Subject"] == subject
    assert b"=?" not in data.split(b"\r\n\r\n", 1)[0]  # plain ASCII is folded, not encoded
    assert [(a.display_name, a.addr_spec) for a in parsed["To"].addresses] == recipients


def test_drill_messages_say_so_in_a_header() -> None:
    parsed = _parse(mime_bytes(_message(drill=True, subject="[DRILL] Inject 1"), now=NOW))
    assert parsed["X-Breachops-Drill"] == "yes"


def test_calendar_attachment_is_carried_byte_for_byte_beside_the_bodies() -> None:
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        + "SUMMARY:Übung – Tabletop\r\n".encode()
        + b"DESCRIPTION:"
        + b"x" * 200
        + b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    message = _message(ics=IcsAttachment(content=ics, method="REQUEST", filename="drill-invite.ics"))
    data = mime_bytes(message, now=NOW)
    _assert_wire_safe(data)
    parsed = _parse(data)
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(("html", "plain"))
    assert body is not None and body.get_content_type() == "text/html"
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "drill-invite.ics"
    assert attachment.get_payload(decode=True) == ics
    assert not any(part.defects for part in parsed.walk())


@pytest.mark.parametrize("at", [NOW, NOW.astimezone(UTC) + timedelta(microseconds=1)])
def test_the_same_message_at_the_same_instant_gives_the_same_bytes(at: datetime) -> None:
    """A retry rebuilds the message; only its Date (the attempt's time) may differ."""
    assert mime_bytes(_message(), now=at) == mime_bytes(_message(), now=at)
    other = mime_bytes(_message(), now=at + timedelta(seconds=1))
    assert other != mime_bytes(_message(), now=at)
    assert _parse(other)["Message-ID"] == _parse(mime_bytes(_message(), now=at))["Message-ID"]

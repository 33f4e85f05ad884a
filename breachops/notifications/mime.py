"""An OutgoingMessage as the bytes of an RFC 5322 message: multipart/alternative (text, HTML), inside
multipart/mixed with an iCalendar attachment when there is one. The outbox and SMTP channels both send
exactly these bytes: 7-bit, CRLF, lines of at most 78 characters, written directly rather than through
``email.message`` for speed (docs/mail.md says why, and what keeps a parser reading them back the same).
"""

from __future__ import annotations

import binascii
import hashlib
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, formataddr

from breachops.notifications.models import Mailbox, OutgoingMessage

__all__ = ["mime_bytes"]

CRLF = "\r\n"
_MAX_LINE = 78  # RFC 5322 §2.1.1: "SHOULD be no more than 78 characters"


def mime_bytes(message: OutgoingMessage, *, now: datetime) -> bytes:
    """The message with Message-ID (from the idempotency key), Date (``now``), From, To and Subject.

    A drill message carries ``X-Breachops-Drill: yes``; a message sent from an audit stream its head
    (``X-Breachops-Audit-Head: <seq>:<hash>``, a witness: ``notifications/witness.py``); every message
    says ``Auto-Submitted: auto-generated`` (RFC 3834) so out-of-office replies do not answer it.
    """
    headers = [
        ("Message-ID", message.message_id),
        ("Date", format_datetime(now.astimezone(UTC))),
        ("From", _mailbox(message.sender)),
        ("To", _address_list([_mailbox(box) for box in message.recipients])),
        ("Subject", _unstructured("Subject", message.subject)),
        ("Auto-Submitted", "auto-generated"),
        ("X-Breachops-Key", message.idempotency_key),
        ("X-Breachops-Incident", _unstructured("X-Breachops-Incident", message.incident_id)),
        ("X-Breachops-Kind", message.kind),
    ]
    if message.drill:
        headers.append(("X-Breachops-Drill", "yes"))
    if message.audit_head is not None:
        # One unbreakable token: folded right after the colon, the line keeps to 78 characters.
        headers.append(("X-Breachops-Audit-Head", f"{CRLF} {message.audit_head}"))
    headers += [(name, _unstructured(name, value)) for name, value in message.headers.items()]
    headers.append(("MIME-Version", "1.0"))
    seed = hashlib.sha256(f"{message.idempotency_key}|{now.isoformat()}".encode()).hexdigest()[:24]
    alternative = _multipart(
        "alternative", f"=={seed}.a", [_text_part("plain", message.text), _text_part("html", message.html)]
    )
    if message.ics is None:
        body = alternative
    else:
        ics = message.ics
        calendar = (
            [
                ("Content-Type", f'text/calendar; charset="utf-8"; method="{ics.method}"'),
                ("Content-Transfer-Encoding", "base64"),
                ("Content-Disposition", f'attachment; filename="{ics.filename}"'),
            ],
            _base64(ics.content),
        )
        body = _multipart("mixed", f"=={seed}.m", [alternative, calendar])
    part_headers, payload = body
    return (_header_block(headers + part_headers) + CRLF + payload).encode("ascii")


_Part = tuple[list[tuple[str, str]], str]  # a MIME entity: its headers and its encoded body (CRLF lines)


def _header_block(headers: list[tuple[str, str]]) -> str:
    return "".join(f"{name}:{'' if value.startswith(CRLF) else ' '}{value}{CRLF}" for name, value in headers)


def _text_part(subtype: str, text: str) -> _Part:
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    if not normalised.endswith("\n"):
        normalised += "\n"
    encoded = binascii.b2a_qp(normalised.encode("utf-8"), quotetabs=False, istext=True)
    return (
        [
            ("Content-Type", f'text/{subtype}; charset="utf-8"'),
            ("Content-Transfer-Encoding", "quoted-printable"),
        ],
        encoded.decode("ascii").replace("\n", CRLF),
    )


def _base64(data: bytes) -> str:
    encoded = binascii.b2a_base64(data, newline=False).decode("ascii")
    return "".join(encoded[i : i + 76] + CRLF for i in range(0, len(encoded), 76))


def _multipart(subtype: str, boundary: str, parts: list[_Part]) -> _Part:
    """A multipart entity. The boundary starts with ``==``, which no quoted-printable line holds (an
    ``=`` there is always followed by two hex digits or the line end) and no base64 line starts with."""
    # The CRLF before each delimiter belongs to the delimiter (RFC 2046 §5.1.1), not to the part.
    body = "".join(
        f"--{boundary}{CRLF}{_header_block(headers)}{CRLF}{payload}{CRLF}" for headers, payload in parts
    )
    return (
        [("Content-Type", f'multipart/{subtype}; boundary="{boundary}"')],
        f"{body}--{boundary}--{CRLF}",
    )


def _needs_encoding(value: str) -> bool:
    return not value.isascii() or "=?" in value


def _mailbox(box: Mailbox) -> str:
    name, address = box
    if name and _needs_encoding(name):
        return f"{Header(name, 'utf-8').encode(linesep=CRLF)} <{address}>"
    return formataddr((name, address))  # quotes a name holding specials such as commas


def _address_list(addresses: list[str]) -> str:
    joined = ", ".join(addresses)
    return joined if len(joined) + len("To: ") <= _MAX_LINE else f",{CRLF} ".join(addresses)


def _unstructured(name: str, value: str) -> str:
    """A header value as it may stand, or folded, or as encoded words (RFC 2047)."""
    if not _needs_encoding(value) and len(name) + 2 + len(value) <= _MAX_LINE:
        return value
    charset = "utf-8" if _needs_encoding(value) else "us-ascii"
    return Header(value, charset, maxlinelen=_MAX_LINE, header_name=name).encode(linesep=CRLF)

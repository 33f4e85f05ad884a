"""Header safety: every value that ends up in a mail header passes through here first.

A line break in a subject, a display name or an address would let a value start a header of its own
(``Bcc:`` to an outsider) or end the headers early. Such values are refused, never cleaned, so the
person who typed them learns about it. :class:`~breachops.notifications.models.OutgoingMessage` calls
these checks when it is built, and every channel only accepts an ``OutgoingMessage``.
"""

from __future__ import annotations

import re

from breachops.errors import InputError

__all__ = [
    "RESERVED_HEADERS",
    "HeaderError",
    "check_address",
    "check_display_name",
    "check_header_name",
    "check_header_value",
]

_SOURCE = "mail message"
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # every C0 control except TAB, and DEL
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")

# Headers the message builder owns, plus those SendGrid refuses to take from the caller.
RESERVED_HEADERS = frozenset(
    h.lower()
    for h in (
        "From", "To", "Cc", "Bcc", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version",
        "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "Received", "DKIM-Signature",
        "Return-Path", "Sender", "Auto-Submitted", "X-SG-ID", "X-SG-EID",
        "X-Breachops-Drill", "X-Breachops-Key", "X-Breachops-Incident", "X-Breachops-Kind",
        "X-Breachops-Audit-Head",
    )
)  # fmt: skip


class HeaderError(InputError):
    """A value that cannot go into a mail header; ``field`` names which one."""


def _refuse(field: str, value: object, problem: str, hint: str | None = None) -> HeaderError:
    return HeaderError(_SOURCE, field, value, problem, hint)


def check_header_value(field: str, value: object) -> str:
    """Return ``value`` if it is a one-line string; refuse CR, LF and other control characters."""
    if not isinstance(value, str):
        raise _refuse(field, value, f"must be text, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise _refuse(
            field, value, "contains a line break (CR or LF), which could inject mail headers; refused",
            "Remove the line break from the value.",
        )  # fmt: skip
    if _CONTROL.search(value):
        raise _refuse(field, value, "contains a control character; refused")
    return value


def check_display_name(field: str, value: object) -> str:
    """A display name may be empty; it may hold commas or quotes (the builder quotes them)."""
    return check_header_value(field, value)


def check_address(field: str, value: object) -> str:
    """A plain ASCII addr-spec (``local@example.org``), without a display name or angle brackets."""
    text = check_header_value(field, value)
    if text != text.strip() or not text:
        raise _refuse(field, value, "is not an email address (empty, or spaces around it)")
    if len(text) > 254:
        raise _refuse(field, value, "is longer than 254 characters, the limit for an email address")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise _refuse(field, value, "is not an email address (expected local-part@domain)")
    if len(local) > 64 or not _LOCAL.match(local):
        raise _refuse(
            field, value, "has a local part (before @) that is not a plain RFC 5322 dot-atom",
            "Use letters, digits and . _ + - only; quoted local parts are not accepted.",
        )  # fmt: skip
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise _refuse(
            field, value, "has a domain that is not a fully qualified ASCII host name",
            "Write an internationalised domain in its xn-- form.",
        )  # fmt: skip
    return text


def check_header_name(field: str, name: object) -> str:
    """An extra header's name: letters, digits and hyphens, and not one the builder owns."""
    if not isinstance(name, str) or not _HEADER_NAME.match(name):
        raise _refuse(field, name, "is not a valid header name (letters, digits and hyphens only)")
    if name.lower() in RESERVED_HEADERS:
        raise _refuse(field, name, "is set by breachops itself and cannot be given as an extra header")
    return name

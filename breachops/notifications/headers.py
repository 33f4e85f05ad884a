"""Header safety: every value that ends up in a mail header passes through here first.

A line break in a subject, a display name or an address would let a value start a header of its own
(``Bcc:`` to an outsider) or end the headers early. Such values are refused, never cleaned, so the
person who typed them learns about it. :class:`~breachops.notifications.models.OutgoingMessage` calls
these checks when it is built, and every channel only accepts an ``OutgoingMessage``.
"""

from __future__ import annotations

import re

from breachops.config.addresses import address_problem, name_problem
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
    problem = name_problem(value)
    if problem is not None:
        raise _refuse(field, value, problem.problem, problem.hint)
    assert isinstance(value, str)
    return value


def check_address(field: str, value: object, *, recipient: bool = True) -> str:
    """A plain ASCII addr-spec (``local@example.org``), without a display name or angle brackets.

    The rules are those of :mod:`breachops.config.addresses`, which the agreement loader applies to
    contacts too. ``recipient=False`` for a sender, which may use a special-use domain.
    """
    problem = address_problem(value, recipient=recipient)
    if problem is not None:
        raise _refuse(field, value, problem.problem, problem.hint)
    assert isinstance(value, str)
    return value


def check_header_name(field: str, name: object) -> str:
    """An extra header's name: letters, digits and hyphens, and not one the builder owns."""
    if not isinstance(name, str) or not _HEADER_NAME.match(name):
        raise _refuse(field, name, "is not a valid header name (letters, digits and hyphens only)")
    if name.lower() in RESERVED_HEADERS:
        raise _refuse(field, name, "is set by breachops itself and cannot be given as an extra header")
    return name

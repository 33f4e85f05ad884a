"""The one shape every channel sends: an already rendered, already checked message.

Building an :class:`OutgoingMessage` runs the header checks, so a channel never sees an unchecked
subject, name or address. The idempotency key is chosen by the caller from what the message is about
(incident, step, reminder time, recipient …), so the same intent always yields the same key; it travels
in the Message-ID, which lets a later attempt or a recipient's mail client recognise a repeat.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from breachops.notifications.headers import (
    HeaderError,
    check_address,
    check_display_name,
    check_header_name,
    check_header_value,
)

__all__ = [
    "ICS_METHODS",
    "IcsAttachment",
    "Mailbox",
    "OutgoingMessage",
    "key_from_message_id",
    "key_to_name",
    "message_id",
]

Mailbox = tuple[str, str]
"""(display name, address); the name may be empty."""

ICS_METHODS = frozenset(
    {"PUBLISH", "REQUEST", "REPLY", "ADD", "CANCEL", "REFRESH", "COUNTER", "DECLINECOUNTER"}
)
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, no spaces: safe in headers and custom args
_AUDIT_HEAD = re.compile(r"^\d{1,12}:[0-9a-f]{64}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ICS_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.ics$")
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_PREFIX = "breachops."


@dataclass(frozen=True, kw_only=True)
class IcsAttachment:
    """An iCalendar file sent along, e.g. a drill invitation (``method`` REQUEST) or its cancellation."""

    content: bytes
    method: str = "REQUEST"
    filename: str = "invite.ics"

    def __post_init__(self) -> None:
        if not isinstance(self.content, bytes) or b"BEGIN:VCALENDAR" not in self.content:
            raise HeaderError("mail message", "ics.content", None, "must be the bytes of an iCalendar file")
        if self.method not in ICS_METHODS:
            raise HeaderError(
                "mail message", "ics.method", self.method, f"must be one of {', '.join(sorted(ICS_METHODS))}"
            )
        if not isinstance(self.filename, str) or not _ICS_NAME.match(self.filename):
            raise HeaderError(
                "mail message", "ics.filename", self.filename, "must be a plain file name ending in .ics"
            )


@dataclass(frozen=True, kw_only=True)
class OutgoingMessage:
    """One rendered email. Constructing it checks every header-bound value (see ``headers.py``).

    ``recipients`` is stored as a tuple with duplicate addresses (case-insensitive) removed, keeping the
    first; ``headers`` (extra headers) as a read-only mapping.
    """

    idempotency_key: str
    sender: Mailbox
    recipients: Sequence[Mailbox]
    subject: str
    text: str
    html: str
    incident_id: str
    kind: str
    drill: bool = False
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    ics: IcsAttachment | None = None
    # ``<seq>:<hash>``: the head of the incident's audit record when the message left (a witness).
    audit_head: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.idempotency_key, str) or not _KEY.match(self.idempotency_key):
            raise HeaderError(
                "mail message", "idempotency_key", self.idempotency_key,
                "must be 1 to 200 visible ASCII characters without spaces",
            )  # fmt: skip
        object.__setattr__(self, "sender", _mailbox("sender", self.sender, recipient=False))
        if isinstance(self.recipients, str | bytes) or not self.recipients:
            raise HeaderError("mail message", "recipients", None, "needs at least one (name, email) pair")
        unique: dict[str, Mailbox] = {}
        for index, recipient in enumerate(self.recipients):
            box = _mailbox(f"recipients[{index}]", recipient)
            unique.setdefault(box[1].lower(), box)
        object.__setattr__(self, "recipients", tuple(unique.values()))
        if not check_header_value("subject", self.subject).strip():
            raise HeaderError("mail message", "subject", self.subject, "is empty")
        for name in ("text", "html"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise HeaderError("mail message", name, None, "needs a non-empty body")
        if not check_header_value("incident_id", self.incident_id):
            raise HeaderError("mail message", "incident_id", self.incident_id, "is empty")
        if not isinstance(self.kind, str) or not _KIND.match(self.kind):
            raise HeaderError("mail message", "kind", self.kind, "must be a lower-case template kind")
        if not isinstance(self.drill, bool):
            raise HeaderError("mail message", "drill", self.drill, "must be True or False")
        extra: dict[str, str] = {}
        for header, value in dict(self.headers).items():
            check_header_name(f"headers[{header!r}]", header)
            extra[header] = check_header_value(f"headers[{header!r}]", value)
        object.__setattr__(self, "headers", MappingProxyType(extra))
        if self.audit_head is not None and (
            not isinstance(self.audit_head, str) or not _AUDIT_HEAD.match(self.audit_head)
        ):
            raise HeaderError("mail message", "audit_head", self.audit_head, "must be <seq>:<64 hex digits>")
        if self.ics is not None and not isinstance(self.ics, IcsAttachment):
            raise HeaderError("mail message", "ics", None, "must be an IcsAttachment")

    @property
    def domain(self) -> str:
        """The sender's domain, used on the right of the Message-ID."""
        return self.sender[1].rpartition("@")[2]

    @cached_property
    def message_id(self) -> str:  # worked out once: every channel and the hand-over mark ask for it
        return message_id(self.idempotency_key, self.domain)

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(email for _, email in self.recipients)


def _mailbox(where: str, value: object, *, recipient: bool = True) -> Mailbox:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise HeaderError("mail message", where, value, "must be a (name, email) pair")
    name, email = value
    return (
        check_display_name(f"{where}.name", name),
        check_address(f"{where}.email", email, recipient=recipient),
    )


def _encode(key: str) -> str:
    """Letters, digits, ``-`` and ``_`` stay; every other byte becomes ``=XX``. Reversible, and the result
    is a valid dot-atom (Message-ID left part) and a portable file name."""
    return _UNSAFE.sub(lambda run: "".join(f"={b:02X}" for b in run.group().encode()), key)


def message_id(key: str, domain: str) -> str:
    """The RFC 5322 Message-ID for an idempotency key: ``<breachops.<encoded key>@<domain>>``.

    Deterministic, so every attempt to send the same message carries the same id;
    :func:`key_from_message_id` gives the key back.
    """
    if not isinstance(key, str) or not _KEY.match(key):
        raise HeaderError("mail message", "idempotency_key", key, "must be 1 to 200 visible ASCII characters")
    check_address("message_id.domain", f"x@{domain}", recipient=False)
    return f"<{_PREFIX}{_encode(key)}@{domain}>"


def key_from_message_id(value: str) -> str | None:
    """The idempotency key carried by a Message-ID made by :func:`message_id`, else None."""
    text = value.strip()
    if not (text.startswith(f"<{_PREFIX}") and text.endswith(">") and "@" in text):
        return None
    encoded = text[1 + len(_PREFIX) : text.rindex("@")]
    out = bytearray()
    i = 0
    try:
        while i < len(encoded):
            if encoded[i] == "=":
                out.append(int(encoded[i + 1 : i + 3], 16))
                i += 3
            elif encoded[i] in _SAFE:
                out += encoded[i].encode()
                i += 1
            else:
                return None
        return out.decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None


def key_to_name(key: str) -> str:
    """A file name stem for a key: the readable encoding (shortened if long) plus a short hash, so keys
    that differ only in letter case stay distinct on case-insensitive file systems."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    return f"{_encode(key)[:120]}.{digest}"

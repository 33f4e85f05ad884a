"""An OutgoingMessage as an RFC 5322 message: multipart/alternative (text, HTML), plus an iCalendar
attachment when there is one. The outbox and SMTP channels both send exactly this."""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from breachops.notifications.models import OutgoingMessage

__all__ = ["build_mime"]


def build_mime(message: OutgoingMessage, *, now: datetime) -> EmailMessage:
    """The message with Message-ID (from the idempotency key), Date (``now``), From, To and Subject.

    A drill message carries ``X-Breachops-Drill: yes``; every message says ``Auto-Submitted:
    auto-generated`` (RFC 3834) so out-of-office replies do not answer it.
    """
    mime = EmailMessage()
    mime["Message-ID"] = message.message_id
    mime["Date"] = format_datetime(now.astimezone(UTC))
    mime["From"] = _address(*message.sender)
    mime["To"] = [_address(name, email) for name, email in message.recipients]
    mime["Subject"] = message.subject
    mime["Auto-Submitted"] = "auto-generated"
    mime["X-Breachops-Key"] = message.idempotency_key
    mime["X-Breachops-Incident"] = message.incident_id
    mime["X-Breachops-Kind"] = message.kind
    if message.drill:
        mime["X-Breachops-Drill"] = "yes"
    for name, value in message.headers.items():
        mime[name] = value
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    if message.ics is not None:
        mime.add_attachment(
            message.ics.content,
            maintype="text",
            subtype="calendar",
            filename=message.ics.filename,
            params={"method": message.ics.method, "charset": "utf-8"},
        )
    return mime


def _address(name: str, email: str) -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=name, username=local, domain=domain)

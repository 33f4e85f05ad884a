"""What the outbox's readers ask of it: listings, one message, counts per status, the next wake-up.

The writers (queue, claim, mark) are :class:`~breachops.store.messages.MessageRecords`; these only read.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from breachops.store.base import aware, chunks
from breachops.store.models import Incident, Message

__all__ = ["find_message", "incident_heads", "list_messages", "message_counts", "next_waiting"]


def list_messages(session: Session, incident_id: str | None = None) -> list[Message]:
    """Every message (of one incident, if given) in the order it was queued."""
    query = select(Message).order_by(Message.created_at, Message.id)
    if incident_id is not None:
        query = query.where(Message.incident_id == incident_id)
    return list(session.scalars(query))


def find_message(session: Session, *, number: int | None = None, key: str | None = None) -> Message | None:
    """The message with this number, or else with this idempotency key."""
    if number is not None:
        return session.get(Message, number)
    return session.scalars(select(Message).where(Message.idempotency_key == key)).one_or_none()


def message_counts(session: Session) -> dict[str, int]:
    """How many messages stand in each status (statuses without one are absent)."""
    query = select(Message.status, func.count()).group_by(Message.status)
    return {status: int(count) for status, count in session.execute(query)}


def next_waiting(session: Session, now: datetime, before: datetime) -> datetime | None:
    """The earliest ``not_before`` after ``now`` and before ``before`` of a message still to be sent
    (a retry) or held (a lease); None if there is none."""
    now, before = aware(now, "now"), aware(before, "before")
    return session.scalar(
        select(Message.not_before)
        .where(
            Message.status.in_(("queued", "failed", "sending")),
            Message.not_before > now,
            Message.not_before < before,
        )
        .order_by(Message.not_before)
        .limit(1)
    )


def incident_heads(session: Session, incident_ids: Collection[str]) -> dict[str, Any]:
    """Per incident id, its ``id, title, drill`` (not the whole row, whose agreement snapshot is big)."""
    found: dict[str, Any] = {}
    for chunk in chunks(list(incident_ids)):
        query = select(Incident.id, Incident.title, Incident.drill).where(Incident.id.in_(chunk))
        found.update((row.id, row) for row in session.execute(query))
    return found

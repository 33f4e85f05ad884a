"""The outbox table: messages queued under a deterministic idempotency key, claimed and marked.

A key is stored once: a second caller with the same key gets the stored message back. A claim is one
compare-and-set UPDATE, so two dispatchers never both send a message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple

from sqlalchemy import Engine, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.util import identity_key

from breachops.errors import InputError
from breachops.store import audit
from breachops.store.base import RepositoryBase, aware, chunks
from breachops.store.incidents import UnknownIncident
from breachops.store.models import SYSTEM_STREAM, Incident, Message

__all__ = ["MESSAGE_STATUSES", "MessageDraft", "MessageRecords", "Queued", "mark_handed_over"]

MESSAGE_STATUSES: Final = ("queued", "sending", "sent", "failed", "fallback")
_SENDABLE = ("queued", "failed")

# Built once for every batch the dispatcher records (see mark_sent_many).
_MARK_SENT = (
    update(Message)
    .where(Message.id == bindparam("row"))
    .values(
        status="sent",
        sent_at=bindparam("at"),
        channel=bindparam("channel"),
        provider_message_id=bindparam("provider"),
        last_error=None,
    )
)

# Built once: building and compiling the statement per message cost more than the commit itself.
_HANDED_OVER = (
    update(Message)
    .where(Message.id == bindparam("row"), Message.status == "sending")
    .values(provider_message_id=bindparam("provider_id"), channel=bindparam("channel"))
)


def mark_handed_over(engine: Engine, message_id: int, channel: str, provider_id: str) -> None:
    """The durable mark a channel makes before its point of no return (docs/exactly-once.md): one
    UPDATE of a message still ``sending``, committed at once in its own transaction."""
    with engine.begin() as connection:
        connection.execute(_HANDED_OVER, {"row": message_id, "provider_id": provider_id, "channel": channel})


@dataclass(frozen=True)
class MessageDraft:
    """A message to queue: what :meth:`MessageRecords.queue_message` takes, for ``queue_messages``."""

    idempotency_key: str
    kind: str
    template: str
    recipients: Sequence[str]
    subject: str
    body_text: str
    body_html: str | None = None
    incident_id: str | None = None
    drill: bool = False
    not_before: datetime | None = None
    attachment: Mapping[str, Any] | None = None


class Queued(NamedTuple):
    message: Message
    created: bool  # False: the idempotency key was already in the outbox, nothing new was written


class MessageRecords(RepositoryBase):
    """Queues (``message.queued``), claims and marks messages (``message.sent``, ``.failed``, …)."""

    def queue_message(
        self,
        *,
        idempotency_key: str,
        kind: str,
        template: str,
        recipients: Sequence[str],
        subject: str,
        body_text: str,
        at: datetime,
        body_html: str | None = None,
        incident_id: str | None = None,
        drill: bool = False,
        not_before: datetime | None = None,
        actor: str = "breachops",
        attachment: Mapping[str, Any] | None = None,
    ) -> Queued:
        """Put a message in the outbox unless its idempotency key is already there.

        The second caller with the same key (a retried task, another process) gets the stored message
        back with ``created=False``; nothing is written twice. A message of a drill incident is a
        drill message whatever ``drill`` says.
        """
        draft = MessageDraft(
            idempotency_key=idempotency_key, kind=kind, template=template, recipients=recipients,
            subject=subject, body_text=body_text, body_html=body_html, incident_id=incident_id,
            drill=drill, not_before=not_before, attachment=attachment,
        )  # fmt: skip
        return self.queue_messages([draft], at, actor)[0]

    def queue_messages(
        self, drafts: Sequence[MessageDraft], at: datetime, actor: str = "breachops"
    ) -> list[Queued]:
        """:meth:`queue_message` for each draft, in order, with one lookup of the keys, one insert and
        one audit append per stream for all of them (the reminders of an incident are queued so)."""
        for draft in drafts:
            if not draft.idempotency_key:
                raise ValueError("a message needs an idempotency key")
            recipients = draft.recipients
            if (
                isinstance(recipients, str)
                or not recipients
                or not all(isinstance(r, str) and r for r in recipients)
            ):
                raise InputError(
                    None, "recipients", list(recipients), "expected a non-empty list of addresses"
                )
        keys = list(dict.fromkeys(d.idempotency_key for d in drafts))
        stored = {
            m.idempotency_key: m
            for chunk in chunks(keys)
            for m in self.session.scalars(select(Message).where(Message.idempotency_key.in_(chunk)))
        }
        incident_ids = {d.incident_id for d in drafts if d.incident_id is not None}
        drills = {
            incident_id: drill
            for incident_id, drill in self.session.execute(
                select(Incident.id, Incident.drill).where(Incident.id.in_(incident_ids))
            )
        }
        results: list[Queued] = []
        fresh: list[Message] = []
        for draft in drafts:
            if draft.idempotency_key in stored:
                results.append(Queued(stored[draft.idempotency_key], False))
                continue
            drill = draft.drill
            if draft.incident_id is not None:
                if draft.incident_id not in drills:
                    raise UnknownIncident(draft.incident_id)
                drill = drill or drills[draft.incident_id]
            message = Message(
                idempotency_key=draft.idempotency_key,
                incident_id=draft.incident_id,
                kind=draft.kind,
                template=draft.template,
                recipients=list(draft.recipients),
                subject=draft.subject,
                body_text=draft.body_text,
                body_html=draft.body_html,
                status="queued",
                attempts=0,
                not_before=None if draft.not_before is None else aware(draft.not_before, "not_before"),
                created_at=aware(at, "at"),
                drill=drill,
                attachment=None if draft.attachment is None else dict(draft.attachment),
            )
            stored[draft.idempotency_key] = message
            fresh.append(message)
            results.append(Queued(message, True))
        if not fresh:
            return results
        try:
            with self.session.begin_nested():
                self.session.add_all(fresh)
                self.session.flush()
        except IntegrityError:
            # Another writer queued one of these keys meanwhile: one at a time, as a single call does.
            if len(drafts) > 1:
                return [self.queue_messages([draft], at, actor)[0] for draft in drafts]
            existing = self.get_message_by_key(drafts[0].idempotency_key)
            if existing is None:
                raise
            return [Queued(existing, False)]
        streams: dict[str, list[audit.Entry]] = {}
        for message in fresh:
            payload = {
                "message_id": message.id,
                "idempotency_key": message.idempotency_key,
                "kind": message.kind,
                "template": message.template,
                "recipients": list(message.recipients),
                "subject": message.subject,
                "drill": message.drill,
                "not_before": message.not_before,
            }
            entry = audit.Entry("message.queued", payload, actor, at)
            streams.setdefault(message.incident_id or SYSTEM_STREAM, []).append(entry)
        audit.append_streams(self.session, streams)
        return results

    def stored_message_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are in the outbox."""
        return {
            key
            for chunk in chunks(keys)
            for key in self.session.scalars(
                select(Message.idempotency_key).where(Message.idempotency_key.in_(chunk))
            )
        }

    def message(self, message_id: int) -> Message:
        """The message with this id; it must exist (the caller claimed it)."""
        row = self.session.get(Message, message_id)
        if row is None:
            raise LookupError(f"message {message_id} is not in the outbox")
        return row

    def stuck_messages(self, now: datetime, *, claimant: str | None = None) -> list[Message]:
        """Messages left ``sending`` whose lease ran out by ``now``, and those ``claimant`` holds (a
        dispatcher starting again takes back what its dead predecessor of that name held)."""
        expired = Message.not_before <= aware(now, "now")
        held = expired if claimant is None else or_(expired, Message.claimed_by == claimant)
        return list(self.session.scalars(select(Message).where(Message.status == "sending", held)))

    def get_message_by_key(self, idempotency_key: str) -> Message | None:
        return self.session.execute(
            select(Message).where(Message.idempotency_key == idempotency_key)
        ).scalar_one_or_none()

    def due_messages(self, now: datetime, limit: int = 100) -> list[Message]:
        """Messages ready for an attempt: queued or failed, and their ``not_before`` has passed."""
        now = aware(now, "now")
        query = (
            select(Message)
            .where(
                Message.status.in_(_SENDABLE), or_(Message.not_before.is_(None), Message.not_before <= now)
            )
            .order_by(Message.created_at, Message.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def due_message_ids(
        self, now: datetime, limit: int = 100, keys: Collection[str] | None = None
    ) -> list[int]:
        """The ids of :meth:`due_messages` (only those with one of ``keys``, if given), without loading
        the messages: a dispatcher claims the ids and loads only what it won."""
        now = aware(now, "now")
        query = select(Message.id).where(
            Message.status.in_(_SENDABLE), or_(Message.not_before.is_(None), Message.not_before <= now)
        )
        if keys is not None:
            query = query.where(Message.idempotency_key.in_(list(keys)))
        return list(self.session.scalars(query.order_by(Message.created_at, Message.id).limit(limit)))

    def claim_message(self, message_id: int, now: datetime) -> Message | None:
        """Mark a sendable message ``sending`` and count the attempt; None if someone else has it or it is
        not due. One atomic UPDATE, so two dispatchers never both claim it."""
        claimed = self.claim_messages([message_id], now)
        return claimed[0] if claimed else None

    def claim_messages(
        self, message_ids: Sequence[int], now: datetime, claimant: str | None = None
    ) -> list[Message]:
        """:meth:`claim_message` for each id in one UPDATE (each row still moved by its own
        compare-and-set), recorded as held by ``claimant``; returns the messages this call claimed, in
        the order of ``message_ids``."""
        now = aware(now, "now")
        if not message_ids:
            return []
        result = self.session.execute(
            update(Message)
            .where(
                Message.id.in_(message_ids),
                Message.status.in_(_SENDABLE),
                or_(Message.not_before.is_(None), Message.not_before <= now),
            )
            .values(status="sending", attempts=Message.attempts + 1, claimed_by=claimant)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
        won = set(result.scalars())
        if not won:
            return []
        rows = {
            row.id: row
            for row in self.session.scalars(
                select(Message).where(Message.id.in_(won)).execution_options(populate_existing=True)
            )
        }
        return [rows[i] for i in dict.fromkeys(message_ids) if i in rows]

    def mark_sent(
        self,
        message: Message,
        at: datetime,
        channel: str,
        provider_message_id: str | None = None,
        actor: str = "breachops",
    ) -> Message:
        """Record one message as sent (see :meth:`mark_sent_many`); one already sent is left alone."""
        self.mark_sent_many([(message.id, channel, provider_message_id)], at, actor)
        return message

    def mark_sent_many(
        self, sent: Sequence[tuple[int, str, str | None]], at: datetime, actor: str = "breachops"
    ) -> list[int]:
        """:meth:`mark_sent` for each (message id, channel, provider message id), in this order, with one
        read, one UPDATE and one audit append per stream for all of them (the dispatcher records a
        batch this way); returns the ids it marked. A message already sent, or missing, is left alone.

        Only the few columns it needs are read (locked on PostgreSQL, as SQLite's write lock does), not
        the bodies; loaded copies of the rows in this session are expired so they read the new state.
        """
        at = aware(at, "sent_at")
        found = {
            row.id: row
            for chunk in chunks([message_id for message_id, _, _ in sent])
            for row in self.session.execute(
                select(Message.id, Message.incident_id, Message.idempotency_key, Message.status)
                .where(Message.id.in_(chunk))
                .with_for_update()
            )
        }
        changes: list[dict[str, Any]] = []
        streams: dict[str, list[audit.Entry]] = {}
        for message_id, channel, provider_message_id in sent:
            row = found.pop(message_id, None)  # popped: a repeated id is marked once
            if row is None or row.status == "sent":
                continue
            changes.append({"row": message_id, "at": at, "channel": channel, "provider": provider_message_id})
            payload = {
                "message_id": message_id,
                "idempotency_key": row.idempotency_key,
                "channel": channel,
                "provider_message_id": provider_message_id,
            }
            entry = audit.Entry("message.sent", payload, actor, at)
            streams.setdefault(row.incident_id or SYSTEM_STREAM, []).append(entry)
        if changes:
            self.session.connection().execute(_MARK_SENT, changes)
            for change in changes:
                loaded = self.session.identity_map.get(identity_key(Message, change["row"]))
                if loaded is not None:
                    self.session.expire(loaded)
        audit.append_streams(self.session, streams)
        return [change["row"] for change in changes]

    def mark_failed(
        self,
        message: Message,
        error: str,
        at: datetime,
        retry_at: datetime | None = None,
        channel: str | None = None,
        actor: str = "breachops",
    ) -> Message:
        """Record a failed attempt; with ``retry_at`` the message becomes due again then."""
        if message.status == "sent":
            raise ValueError(f"message {message.id} was already sent")
        message.status, message.last_error = "failed", error
        message.channel = channel or message.channel
        message.not_before = None if retry_at is None else aware(retry_at, "retry_at")
        self._audit_message(
            message,
            "message.failed",
            {"channel": message.channel, "error": error, "attempts": message.attempts, "retry_at": retry_at},
            actor,
            at,
        )
        return message

    def mark_fallback(
        self, message: Message, at: datetime, channel: str, error: str | None = None, actor: str = "breachops"
    ) -> Message:
        """Record that the message went to a fallback channel (e.g. the outbox folder) for a person."""
        message.status, message.channel = "fallback", channel
        message.last_error = error or message.last_error
        self._audit_message(message, "message.fallback", {"channel": channel, "error": error}, actor, at)
        return message

    def _audit_message(
        self, message: Message, kind: str, extra: dict[str, Any], actor: str, at: datetime
    ) -> None:
        payload = {"message_id": message.id, "idempotency_key": message.idempotency_key, **extra}
        audit.append(self.session, message.incident_id or SYSTEM_STREAM, kind, payload, actor, at)

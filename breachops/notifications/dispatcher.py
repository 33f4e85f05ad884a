"""Due messages go to a channel, each once as seen by its recipients; rows a dead dispatcher left in
``sending`` are settled by ``recover_stuck``. How "once" holds, and the one window where it cannot, is
told in docs/exactly-once.md.

Drills and audiences: a drill message goes through a :class:`DrillGuard` whose participants are the
drill's; a message of an incident may only go to that incident's agreement contacts, so a regulator or an
affected person is never emailed from here (drafts go to internal people).
"""

from __future__ import annotations

import logging
import random
import smtplib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from markupsafe import escape

from breachops.bootstrap import App
from breachops.config.agreements import Contact
from breachops.errors import InputError
from breachops.notifications.channels.base import (
    Channel,
    Delivery,
    DeliveryError,
    connection_batch,
    on_handover,
)
from breachops.notifications.channels.guard import DrillGuard
from breachops.notifications.delivery_alerts import queue_delivery_alert
from breachops.notifications.models import IcsAttachment, Mailbox, OutgoingMessage
from breachops.notifications.recipients import agreement_contacts, drill_participants
from breachops.notifications.retry import next_delay
from breachops.notifications.senders import SenderPool
from breachops.notifications.witness import format_head
from breachops.store import Repository
from breachops.store.audit import heads_of
from breachops.store.messages import mark_handed_over
from breachops.store.models import SYSTEM_STREAM, Message

__all__ = [
    "DEFAULT_SENDER",
    "IN_DOUBT_PREFIX",
    "PARKED",
    "SENT_MARKS_PER_COMMIT",
    "DispatchReport",
    "dispatch",
    "recover_stuck",
]

log = logging.getLogger("breachops.outbox")

DEFAULT_SENDER: Mailbox = ("breachops", "breachops@outbox.invalid")
IN_DOUBT_PREFIX = "in-doubt:"
SENT_MARKS_PER_COMMIT = 20
"""Deliveries past their hand-over mark recorded ``sent`` per transaction. A crash before that commit
leaves them for ``recover_stuck`` to record as sent in doubt, so this also bounds how many rows one
crash can leave in doubt for a person to check."""
PARKED = datetime(9999, 1, 1, tzinfo=UTC)
"""``not_before`` of a message that failed for good: ``failed`` is a sendable status in the repository,
so a permanent failure is parked far in the future until a person retries it."""


@dataclass
class DispatchReport:
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    fallback: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    in_doubt: list[str] = field(default_factory=list)
    claimed: int = 0

    def add(self, other: DispatchReport) -> None:
        for name in ("sent", "retrying", "fallback", "failed", "recovered", "in_doubt"):
            getattr(self, name).extend(getattr(other, name))
        self.claimed += other.claimed


@dataclass(frozen=True)
class _Claimed:
    id: int
    key: str
    incident_id: str | None
    attempts: int
    kind: str
    message: OutgoingMessage | None
    problem: str | None  # why it cannot be sent at all (bad address, outsider), if so


def recover_stuck(
    app: App,
    now: datetime | None = None,
    *,
    claimant: str | None = None,
    report: DispatchReport | None = None,
) -> DispatchReport:
    """Rows left in ``sending`` by a dead dispatcher: those whose lease ran out, and those ``claimant``
    held (a dispatcher starting again, whose predecessor of that name is dead).
    See docs/exactly-once.md."""
    now = now or app.clock.now()
    report = report or DispatchReport()
    with app.transaction() as session:
        repo = Repository(session)
        for row in repo.stuck_messages(now, claimant=claimant):
            if row.provider_message_id:
                repo.mark_sent(
                    row, now, row.channel or "unknown", f"{IN_DOUBT_PREFIX}{row.provider_message_id}",
                    actor="dispatcher-recovery",
                )  # fmt: skip
                report.in_doubt.append(row.idempotency_key)
            else:
                repo.mark_failed(
                    row, "the dispatcher stopped before the provider had the message; resending", now,
                    retry_at=None, actor="dispatcher-recovery",
                )  # fmt: skip
                report.recovered.append(row.idempotency_key)
    return report


def dispatch(
    app: App,
    channel: Channel,
    now: datetime | None = None,
    *,
    fallback: Channel | None = None,
    max_attempts: int = 5,
    sender: Mailbox | None = None,
    limit: int = 100,
    keys: Collection[str] | None = None,
    lease: timedelta = timedelta(minutes=10),
    rng: Callable[[], float] = random.random,
    senders: SenderPool | None = None,
    claimant: str | None = None,
) -> DispatchReport:
    """Send up to ``limit`` due messages once each (``keys``: only those). Retryable failures come back
    after ``next_delay``; after ``max_attempts`` the message goes through ``fallback`` and the incident
    lead is alerted; a permanent failure is parked and alerted at once. ``report.claimed`` counts the
    messages attempted: fewer than ``limit`` means nothing else was due. ``claimant`` names the holder of
    the claims, for :func:`recover_stuck` after a restart.

    With ``senders``, the batch is shared among its threads, each on its own connection (see
    ``notifications/senders.py``); messages of one batch may then arrive in any order among themselves.
    Without, they go one after another over one connection, in the order they fell due."""
    now = now or app.clock.now()
    report = recover_stuck(app, now)
    lookup = drill_participants(app)
    guarded = DrillGuard(channel, lookup)
    guarded_fallback = DrillGuard(fallback, lookup) if fallback is not None else None
    claimed = _claim_due(app, now, limit, keys, lease, sender or DEFAULT_SENDER, claimant)
    report.claimed += len(claimed)

    def send(part: list[_Claimed]) -> DispatchReport:
        return _send_all(app, part, guarded, guarded_fallback, now, max_attempts, rng)

    if senders is None:
        with connection_batch():  # one SMTP connection for the batch
            report.add(send(claimed))
        return report
    if not claimed:
        return report
    # Messages claimed together fall due together: dealt round-robin, in claim order, to the threads,
    # whose connections stay open between batches (a lone message too goes over a kept connection).
    ways = min(senders.size, len(claimed))
    for part in senders.run([partial(send, claimed[i::ways]) for i in range(ways)]):
        report.add(part)
    return report


def _send_all(
    app: App,
    claimed: list[_Claimed],
    channel: Channel,
    fallback: Channel | None,
    now: datetime,
    max_attempts: int,
    rng: Callable[[], float],
) -> DispatchReport:
    """Attempt each message in turn on the current thread's connection."""
    report = DispatchReport()
    handed_over: list[tuple[_Claimed, Delivery]] = []
    try:
        for one in claimed:
            _attempt(app, one, channel, fallback, now, max_attempts, rng, report, handed_over)
            if len(handed_over) >= SENT_MARKS_PER_COMMIT:
                _mark_sent(app, handed_over, now, report)
    finally:
        _mark_sent(app, handed_over, now, report)
    return report


def _mark_sent(
    app: App, handed_over: list[tuple[_Claimed, Delivery]], now: datetime, report: DispatchReport
) -> None:
    """Record the deliveries whose hand-over mark is committed (or that are safe to repeat) as sent, in
    one transaction; empties ``handed_over``. Until then a crash leaves them to ``recover_stuck``,
    which records a marked one as sent (in doubt) and never sends it again, and sends an unmarked
    repeat-safe one again, which the channel recognises (the outbox finds its file)."""
    if not handed_over:
        return
    with app.transaction() as session:
        Repository(session).mark_sent_many([(c.id, d.channel, d.provider_id) for c, d in handed_over], now)
    report.sent.extend(c.key for c, _ in handed_over)
    handed_over.clear()


def _claim_due(
    app: App,
    now: datetime,
    limit: int,
    keys: Collection[str] | None,
    lease: timedelta,
    sender: Mailbox,
    claimant: str | None = None,
) -> list[_Claimed]:
    """Claim up to ``limit`` due messages in one transaction and one UPDATE, each row still moved by its
    own compare-and-set, so a row another dispatcher holds (or sent meanwhile) is simply skipped."""
    with app.transaction() as session:
        repo = Repository(session)
        won = repo.claim_messages(repo.due_message_ids(now, limit, keys), now, claimant)  # skips others' rows
        incident_ids = {row.incident_id for row in won if row.incident_id is not None}
        agreements = app.agreements.of(session, incident_ids)
        contacts = {
            incident_id: agreement_contacts(agreement) for incident_id, agreement in agreements.items()
        }
        # Each message carries its stream's head as it stands now: a witness in every mailbox.
        heads = heads_of(session, {row.incident_id or SYSTEM_STREAM for row in won})
        # A message of an incident whose record is missing gets no contacts, so nobody passes the check.
        return [
            _claim(
                row,
                now,
                lease,
                sender,
                None if row.incident_id is None else contacts.get(row.incident_id, {}),
                heads.get(row.incident_id or SYSTEM_STREAM),
            )
            for row in won
        ]


def _claim(
    row: Message,
    now: datetime,
    lease: timedelta,
    sender: Mailbox,
    contacts: dict[str, tuple[str, Contact]] | None,
    head: tuple[int, str] | None = None,
) -> _Claimed:
    row.not_before = now + lease  # the lease: recover_stuck may take it over once it has run out
    row.provider_message_id = None
    names: dict[str, str] = {}
    problem = None
    if contacts is not None:
        names = {email: contact.name for email, (_, contact) in contacts.items()}
        outsiders = [r for r in row.recipients if r.lower() not in contacts]
        if outsiders:  # never to a regulator, an affected person or anyone outside the agreement
            problem = f"recipients outside the agreement of {row.incident_id}: {', '.join(outsiders)}"
    message = None
    if problem is None:
        try:
            message = OutgoingMessage(
                idempotency_key=row.idempotency_key,
                sender=sender,
                recipients=[(names.get(r.lower(), ""), r) for r in row.recipients],
                subject=row.subject,
                text=row.body_text,
                html=row.body_html or f"<pre>{escape(row.body_text)}</pre>",
                incident_id=row.incident_id or SYSTEM_STREAM,
                kind=row.kind,
                drill=row.drill,
                ics=_ics(row.attachment),
                audit_head=None if head is None else format_head(*head),
            )
        except InputError as exc:
            problem = f"cannot build the message: {exc}"
    return _Claimed(row.id, row.idempotency_key, row.incident_id, row.attempts, row.kind, message, problem)


def _ics(attachment: dict[str, Any] | None) -> IcsAttachment | None:
    """The calendar part stored with a message (a drill invitation), as the channels send it."""
    if not attachment:
        return None
    return IcsAttachment(
        content=str(attachment.get("content", "")).encode("utf-8"),
        method=str(attachment.get("method", "REQUEST")),
        filename=str(attachment.get("filename", "invite.ics")),
    )


def _attempt(
    app: App,
    claimed: _Claimed,
    channel: Channel,
    fallback: Channel | None,
    now: datetime,
    max_attempts: int,
    rng: Callable[[], float],
    report: DispatchReport,
    handed_over: list[tuple[_Claimed, Delivery]],
) -> None:
    if claimed.message is None:
        _fail_for_good(app, claimed, claimed.problem or "cannot be sent", channel.name, now, report)
        return
    message = claimed.message
    delivery: Delivery | None = None
    handed: list[bool] = []

    def hook() -> None:
        mark_handed_over(app.engine, claimed.id, channel.name, message.message_id)
        handed.append(True)

    try:
        with on_handover(hook):
            delivery = channel.send(message)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # the hand-over commit failed, or a bug: before the point of no return
        log.exception("sending %s failed unexpectedly", claimed.key)
        error = DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True)
    if delivery is not None and (handed or delivery.repeat_safe):
        handed_over.append((claimed, delivery))  # marked sent with others of the batch; see _mark_sent
        return
    if delivery is not None:  # a channel without a hand-over point: recorded at once, on its own
        with app.transaction() as session:
            Repository(session).mark_sent_many([(claimed.id, delivery.channel, delivery.provider_id)], now)
        report.sent.append(claimed.key)
        return
    if handed and not isinstance(error.__cause__, smtplib.SMTPResponseException):
        # The terminator went out and the answer never came: the server may have the message. Same
        # decision as recover_stuck: in doubt, recorded as sent, never sent twice.
        with app.transaction() as session:
            row = Repository(session).message(claimed.id)
            Repository(session).mark_sent(row, now, channel.name, f"{IN_DOUBT_PREFIX}{message.message_id}")
        report.in_doubt.append(claimed.key)
        return
    delay = next_delay(claimed.attempts, error, max_attempts=max_attempts, rng=rng)
    if delay is not None:
        with app.transaction() as session:
            row = Repository(session).message(claimed.id)
            row.provider_message_id = None
            Repository(session).mark_failed(
                row, error.reason, now, retry_at=now + timedelta(seconds=delay), channel=channel.name
            )
        report.retrying.append(claimed.key)
        return
    if error.retryable and fallback is not None:
        try:
            delivery = fallback.send(message)
        except DeliveryError as second:
            error = DeliveryError(
                f"{error.reason}; fallback {fallback.name}: {second.reason}", retryable=False
            )
        else:
            with app.transaction() as session:
                repo = Repository(session)
                row = repo.message(claimed.id)
                repo.mark_fallback(row, now, fallback.name, error.reason)
                reason = (
                    f"delivery through {channel.name} failed {claimed.attempts} times ({error.reason}); "
                    f"the message went to the fallback {fallback.name}"
                )
                queue_delivery_alert(app, repo, row, reason, now)
            report.fallback.append(claimed.key)
            return
    _fail_for_good(app, claimed, error.reason, channel.name, now, report)


def _fail_for_good(
    app: App, claimed: _Claimed, reason: str, channel: str, now: datetime, report: DispatchReport
) -> None:
    with app.transaction() as session:
        repo = Repository(session)
        row = repo.message(claimed.id)
        row.provider_message_id = None
        repo.mark_failed(row, reason, now, retry_at=PARKED, channel=channel)
        queue_delivery_alert(app, repo, row, f"the message could not be delivered: {reason}", now)
    report.failed.append(claimed.key)

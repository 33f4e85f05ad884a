"""The dispatcher: the one place that sends mail. Reminders become outbox rows, outbox rows become mail.

    queue_due_reminders(app, now)          # reminders whose time has come → messages (idempotent by key)
    dispatch(app, channel, now, fallback=) # due messages → the channel, exactly once as seen by recipients
    recover_stuck(app, now)                # after a crash: rows left in ``sending``

Exactly once, and where it stops being exact
-------------------------------------------
1. *Queue before send.* A message is written with a deterministic key (reminder key + recipient) before
   any attempt; queueing the same key again writes nothing.
2. *Claim.* ``Repository.claim_message`` is one compare-and-set UPDATE from ``queued``/``failed`` to
   ``sending``: two dispatchers never both hold a message, and a ``sent`` (or ``fallback``) row can never
   be claimed again, which is the "was it already sent?" check made before every attempt. The claim also
   writes a lease (``not_before`` = now + ``lease``; meaningless otherwise while ``sending``).
3. *Hand-over mark.* A channel that can tell its point of no return calls ``handover_point``
   (``channels/base.py``). The SMTP channel does it after the whole message body has gone out
   and *before* the final ``<CRLF>.<CRLF>``: an SMTP server that never received the terminator discards
   the message (RFC 5321 §4.1.1.4, and aiosmtpd does), so until then a resend is safe. The dispatcher
   commits ``provider_message_id = <Message-ID>`` (and an audit event) at that point.
4. *mark_sent* after the channel returns. A message past its hand-over mark is recorded with others of
   its batch, ``SENT_MARKS_PER_COMMIT`` per transaction; a message without one, at once. The batch's
   messages share one SMTP connection (``connection_batch``), each still with its own hand-over mark,
   or, given a ``SenderPool``, a few connections, one per sender thread: a crash then can leave one
   message per thread in the in-doubt window, and nothing else changes.

A process killed between 2 and 4 leaves the row in ``sending``. ``recover_stuck`` then decides:
no hand-over mark → the server cannot have the complete message → back to ``failed``, due now (resend).
Hand-over mark → the message is treated as delivered and recorded ``sent`` with
``provider_message_id = "in-doubt:<Message-ID>"``. It is *in doubt* only in the tiny window between that
commit and the server processing the terminator (microseconds to a fraction of a millisecond); a kill
exactly there loses that one message instead of sending it twice. We chose loss-in-a-window-we-can-name
over duplicates because SMTP offers no way to ask a server "did you take Message-ID X?". Every such row is
visible (``breachops outbox list`` shows ``in-doubt:``), so a person can check.

Channels without a hand-over point: the outbox folder is idempotent by key itself (a resend finds the
file), so a resend is exact; SendGrid (HTTP) can accept a request whose answer never arrives, so a stuck
row sent through it is resent (at least once; SendGrid's Email Activity API, searchable by the
``breachops_key`` custom arg, would close that gap and is not wired yet).

Drills and audiences: a drill message goes through a :class:`DrillGuard` whose participants are the
drill incident's agreement contacts; a message of an incident may only go to that incident's agreement
contacts, so a regulator or an affected person is never emailed from here (drafts go to internal people).
"""

from __future__ import annotations

import logging
import random
import re
import smtplib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from markupsafe import escape
from sqlalchemy import bindparam, select, update

from breachops.bootstrap import App
from breachops.config.agreements import Agreement, Contact
from breachops.deadlines.reminders import Reminder, ReminderPolicy
from breachops.errors import InputError
from breachops.notifications.channels.base import (
    Channel,
    Delivery,
    DeliveryError,
    connection_batch,
    on_handover,
)
from breachops.notifications.channels.guard import DrillGuard
from breachops.notifications.headers import check_address
from breachops.notifications.keys import fit_key, message_key
from breachops.notifications.models import IcsAttachment, Mailbox, OutgoingMessage
from breachops.notifications.planner import ReminderPlanner
from breachops.notifications.render import DRILL_PREFIX, local, render, utc
from breachops.notifications.retry import next_delay
from breachops.notifications.senders import SenderPool
from breachops.notifications.witness import format_head
from breachops.store import Repository
from breachops.store.audit import heads_of
from breachops.store.models import SYSTEM_STREAM, Drill, Incident, Message
from breachops.store.repository import MessageDraft

if TYPE_CHECKING:  # the console builds the links; messages only carry them
    from breachops.web.links import StepLinks

__all__ = [
    "ALERT_KIND",
    "DEFAULT_SENDER",
    "IN_DOUBT_PREFIX",
    "PARKED",
    "DispatchReport",
    "dispatch",
    "drill_participants",
    "message_key",
    "next_due",
    "queue_due_reminders",
    "queue_test_message",
    "recover_stuck",
]

log = logging.getLogger("breachops.outbox")

DEFAULT_SENDER: Mailbox = ("breachops", "breachops@outbox.invalid")
ALERT_KIND = "delivery_alert"
IN_DOUBT_PREFIX = "in-doubt:"
LATE_MARK = "[LATE]"
SENT_MARKS_PER_COMMIT = 20
"""Deliveries past their hand-over mark recorded ``sent`` per transaction. A crash before that commit
leaves them for ``recover_stuck`` to record as sent in doubt, so this also bounds how many rows one
crash can leave in doubt for a person to check."""
PARKED = datetime(9999, 1, 1, tzinfo=UTC)
"""``not_before`` of a message that failed for good: ``failed`` is a sendable status in the repository,
so a permanent failure is parked far in the future until a person retries it (see the module notes)."""


# ---- helpers ----------------------------------------------------------------------------------------


def _contacts(agreement: Agreement) -> dict[str, tuple[str, Contact]]:
    """Address (lower case) → (party, contact) for every person of the agreement."""
    found: dict[str, tuple[str, Contact]] = {}
    for key, party in agreement.parties.items():
        for contact in party.contacts.values():
            found.setdefault(contact.email.lower(), (key, contact))
    return found


def drill_participants(app: App) -> Callable[[str], Collection[str]]:
    """A DrillGuard lookup: the participants a scenario drill recorded when it started; for a drill
    incident opened without a scenario, everyone its agreement lists."""

    def lookup(incident_id: str) -> Collection[str]:
        with app.transaction() as session:
            incident = session.get(Incident, incident_id)
            if incident is None or not incident.drill:
                return frozenset()
            drill = session.get(Drill, incident.drill_id) if incident.drill_id else None
            if drill is None:
                agreement = app.agreements.remember(incident.id, incident.agreement, incident.agreement_path)
                return frozenset(_contacts(agreement))
            return frozenset(str(p["email"]).lower() for p in drill.participants)

    return lookup


def _template_dir(app: App) -> Any:
    folder = app.workspace / "templates"
    return folder if folder.is_dir() else None


def _mark_late(subject: str, text: str, html: str, note: str) -> tuple[str, str, str]:
    if subject.startswith(DRILL_PREFIX):
        subject = f"{DRILL_PREFIX} {LATE_MARK} {subject[len(DRILL_PREFIX) :].lstrip()}"
    else:
        subject = f"{LATE_MARK} {subject}"
    text = f"{LATE_MARK} {note}\n\n{text}"
    banner = f'<p style="background:#fde2e1;border:1px solid #a40000;padding:8px 12px">{escape(note)}</p>'
    match = re.search(r"<body[^>]*>", html)
    html = html[: match.end()] + "\n" + banner + html[match.end() :] if match else banner + html
    return subject, text, html


# ---- reminders → outbox ------------------------------------------------------------------------------


def queue_due_reminders(
    app: App,
    now: datetime | None = None,
    *,
    policy: ReminderPolicy | None = None,
    planner: ReminderPlanner | None = None,
) -> list[str]:
    """Queue one message per recipient for every reminder of an open incident whose time has come and
    that is not in the outbox yet; return the new keys.

    A reminder more than ``policy.late_after`` past its time (the service was down) is queued once,
    with ``[LATE]`` in the subject and a note in the body saying when it was due. A long-running caller
    passes its ``planner``, so that unchanged incidents are not derived again. The messages are
    rendered between a short read and one write, so a burst holds no transaction open while rendering.
    """
    now = now or app.clock.now()
    planner = planner or ReminderPlanner(app, policy)
    due = planner.due(now)
    if not due:
        return []
    with app.transaction() as session:
        ids = {item.incident_id for item in due}
        incidents = {
            row.id: _IncidentHead(row.id, row.title, row.drill)
            for row in session.execute(
                select(Incident.id, Incident.title, Incident.drill).where(Incident.id.in_(ids))
            )
        }
        agreements = app.agreements.of(session, ids)
        stored = Repository(session).stored_message_keys([item.key for item in due])
    drafts = []
    links = app.step_links()
    for item in due:
        incident = incidents.get(item.incident_id)
        if item.key in stored or incident is None:
            continue
        agreement = agreements[incident.id]
        reminder, recipient = item.reminder, item.recipient
        contact = agreement.parties[recipient.party].contacts[recipient.role]  # type: ignore[index]
        subject, text, html = _render_reminder(
            app, incident, agreement, reminder, contact, now, planner.policy_for(agreement), links
        )
        drafts.append(
            MessageDraft(
                idempotency_key=item.key, kind=reminder.kind, template=reminder.kind,
                recipients=[contact.email], subject=subject, body_text=text, body_html=html,
                incident_id=incident.id, drill=incident.drill,
            )
        )  # fmt: skip
    with app.transaction() as session:
        made = Repository(session).queue_messages(drafts, now, actor="reminders")
    planner.queued(item.key for item in due)  # committed: in the outbox now
    return [m.message.idempotency_key for m in made if m.created]


def _owner_text(agreement: Agreement, reminder: Reminder) -> str:
    names = []
    for owner in reminder.owners:
        contact = agreement.parties[owner.party].contacts.get(owner.role)  # type: ignore[call-overload]
        label = owner.role.replace("_", " ").capitalize()
        party = agreement.parties[owner.party].name
        names.append(f"{label}, {party}" + (f" ({contact.name})" if contact else ""))
    return "; ".join(names) or "the incident lead"


class _IncidentHead(NamedTuple):
    """What a reminder's text shows of its incident (the rest of the row is not read)."""

    id: str
    title: str
    drill: bool


def _render_reminder(
    app: App,
    incident: _IncidentHead,
    agreement: Agreement,
    reminder: Reminder,
    contact: Contact,
    now: datetime,
    policy: ReminderPolicy,
    links: StepLinks | None = None,
) -> tuple[str, str, str]:
    late = now - reminder.due_at > policy.late_after
    # A step's reminder links to the step's page; an obligation's to the incident's page.
    step_id = reminder.target.removeprefix("step:") if reminder.target.startswith("step:") else ""
    action_url = links.url(incident.id, step_id, contact.email, now) if links else None
    # A late "due in" reminder is rendered as of the time it was meant for; the note tells the rest.
    as_of = reminder.due_at if late and reminder.kind == "reminder" else now
    context = {
        "recipient": {"name": contact.name, "timezone": contact.timezone, "email": contact.email},
        "incident": {"id": incident.id, "title": incident.title},
        "item": {
            "title": reminder.item_title,
            "kind": reminder.item_kind,
            "due_at": reminder.item_due,
            "citation": reminder.citation,
        },
        "owner": _owner_text(agreement, reminder),
        "level": reminder.level,
        "now": as_of,
        "action_url": action_url,
    }
    rendered = render(reminder.kind, context, drill=incident.drill, template_dir=_template_dir(app))
    subject, text, html = rendered.subject, rendered.text, rendered.html
    if late:
        zone = contact.timezone
        where = "overdue by" if reminder.item_due <= now else "due in"
        gap = abs(reminder.item_due - now)
        hours, minutes = divmod(int(gap.total_seconds()) // 60, 60)
        note = (
            f"Sent late: this {reminder.kind} was due at {local(reminder.due_at, zone)} / "
            f"{utc(reminder.due_at)} and goes out at {local(now, zone)} after an interruption. "
            f"As of now the {reminder.item_kind} is {where} {hours} h {minutes} min."
        )
        subject, text, html = _mark_late(subject, text, html, note)
    return subject, text, html


def queue_test_message(app: App, to: str, channel_name: str, now: datetime | None = None) -> str:
    """Queue one ``test`` message to ``to`` (outside any incident); return its key. A ``to`` that is
    not an email address is refused before anything is queued."""
    try:
        check_address("to", to)
    except InputError as exc:
        raise InputError("--to", None, to, exc.problem, exc.hint) from None
    now = now or app.clock.now()
    key = fit_key(f"test|{to}|{now.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}")
    rendered = render(
        "test",
        {"recipient": {"name": to, "timezone": "UTC"}, "channel": channel_name, "sent_at": now},
        template_dir=_template_dir(app),
    )
    with app.transaction() as session:
        Repository(session).queue_message(
            idempotency_key=key, kind="test", template="test", recipients=[to], subject=rendered.subject,
            body_text=rendered.text, body_html=rendered.html, at=now, actor="notify-test",
        )  # fmt: skip
    return key


# ---- outbox → channel --------------------------------------------------------------------------------


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
    app: App, now: datetime | None = None, *, everything: bool = False, report: DispatchReport | None = None
) -> DispatchReport:
    """Rows left in ``sending`` by a dead dispatcher: those whose lease ran out, or all of them
    (``everything``, for a dispatcher that starts up and knows it is the only one). See the module notes."""
    now = now or app.clock.now()
    report = report or DispatchReport()
    with app.transaction() as session:
        repo = Repository(session)
        query = select(Message).where(Message.status == "sending")
        if not everything:
            query = query.where(Message.not_before <= now)
        for row in session.scalars(query):
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
) -> DispatchReport:
    """Send up to ``limit`` due messages once each (``keys``: only those). Retryable failures come back
    after ``next_delay``; after ``max_attempts`` the message goes through ``fallback`` and the incident
    lead is alerted; a permanent failure is parked and alerted at once. ``report.claimed`` counts the
    messages attempted: fewer than ``limit`` means nothing else was due.

    With ``senders``, the batch is shared among its threads, each on its own connection (see
    ``notifications/senders.py``); messages of one batch may then arrive in any order among themselves.
    Without, they go one after another over one connection, in the order they fell due."""
    now = now or app.clock.now()
    report = recover_stuck(app, now)
    lookup = drill_participants(app)
    guarded = DrillGuard(channel, lookup)
    guarded_fallback = DrillGuard(fallback, lookup) if fallback is not None else None
    claimed = _claim_due(app, now, limit, keys, lease, sender or DEFAULT_SENDER)
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
    app: App, now: datetime, limit: int, keys: Collection[str] | None, lease: timedelta, sender: Mailbox
) -> list[_Claimed]:
    """Claim up to ``limit`` due messages in one transaction and one UPDATE, each row still moved by its
    own compare-and-set, so a row another dispatcher holds (or sent meanwhile) is simply skipped."""
    with app.transaction() as session:
        repo = Repository(session)
        won = repo.claim_messages(repo.due_message_ids(now, limit, keys), now)  # skips rows others have
        incident_ids = {row.incident_id for row in won if row.incident_id is not None}
        agreements = app.agreements.of(session, incident_ids)
        contacts = {incident_id: _contacts(agreement) for incident_id, agreement in agreements.items()}
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


def _mark_handed_over(app: App, claimed: _Claimed, channel: str, provider_id: str) -> None:
    """The durable mark made before the point of no return: one UPDATE, committed at once. It is not an
    audit event of its own: the ``message.sent`` event that follows (or recovery's in-doubt one) records
    the outcome with this provider id, and the mark is on the hot path of every SMTP message."""
    with app.engine.begin() as connection:
        connection.execute(_HANDED_OVER, {"row": claimed.id, "provider_id": provider_id, "channel": channel})


# Built once: building and compiling the statement per message cost more than the commit itself.
_HANDED_OVER = (
    update(Message)
    .where(Message.id == bindparam("row"), Message.status == "sending")
    .values(provider_message_id=bindparam("provider_id"), channel=bindparam("channel"))
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
        _mark_handed_over(app, claimed, channel.name, message.message_id)
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
            row = session.get(Message, claimed.id)
            assert row is not None
            Repository(session).mark_sent(row, now, channel.name, f"{IN_DOUBT_PREFIX}{message.message_id}")
        report.in_doubt.append(claimed.key)
        return
    delay = next_delay(claimed.attempts, error, max_attempts=max_attempts, rng=rng)
    if delay is not None:
        with app.transaction() as session:
            row = session.get(Message, claimed.id)
            assert row is not None
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
                row = session.get(Message, claimed.id)
                assert row is not None
                repo = Repository(session)
                repo.mark_fallback(row, now, fallback.name, error.reason)
                reason = (
                    f"delivery through {channel.name} failed {claimed.attempts} times ({error.reason}); "
                    f"the message went to the fallback {fallback.name}"
                )
                _queue_alert(app, repo, row, reason, now)
            report.fallback.append(claimed.key)
            return
    _fail_for_good(app, claimed, error.reason, channel.name, now, report)


def _fail_for_good(
    app: App, claimed: _Claimed, reason: str, channel: str, now: datetime, report: DispatchReport
) -> None:
    with app.transaction() as session:
        row = session.get(Message, claimed.id)
        assert row is not None
        row.provider_message_id = None
        repo = Repository(session)
        repo.mark_failed(row, reason, now, retry_at=PARKED, channel=channel)
        _queue_alert(app, repo, row, f"the message could not be delivered: {reason}", now)
    report.failed.append(claimed.key)


def _queue_alert(app: App, repo: Repository, row: Message, reason: str, now: datetime) -> None:
    """Tell the incident lead(s) of the recipients' parties that a message did not get through."""
    if row.incident_id is None or row.kind == ALERT_KIND:
        return
    incident = repo.get_incident(row.incident_id)
    agreement = app.agreements.remember(incident.id, incident.agreement, incident.agreement_path)
    contacts = _contacts(agreement)
    parties = dict.fromkeys(contacts[r.lower()][0] for r in row.recipients if r.lower() in contacts)
    leads = [agreement.parties[p].contacts["incident_lead"] for p in (parties or {"disclosing": None})]
    subject = f"Delivery problem in {incident.id}: {row.subject}"[:300]
    if incident.drill and not subject.startswith(DRILL_PREFIX):
        subject = f"{DRILL_PREFIX} {subject}"
    text = (
        f"A message of incident {incident.id} ({incident.title}) did not reach its recipients normally.\n\n"
        f"Message:    {row.subject}\nTo:         {', '.join(row.recipients)}\n"
        f"Problem:    {reason}\nAttempts:   {row.attempts}\n\n"
        "Please make sure the recipients learn its content another way; see `breachops outbox show "
        f"{row.id}`.\n"
    )
    html = f"<html><body><pre>{escape(text)}</pre></body></html>"
    repo.queue_message(
        idempotency_key=fit_key(f"{row.idempotency_key}|alert"), kind=ALERT_KIND,
        template=f"inline:{ALERT_KIND}",
        recipients=list(dict.fromkeys(lead.email for lead in leads)), subject=subject, body_text=text,
        body_html=html, at=now, incident_id=incident.id, drill=incident.drill, actor="dispatcher",
    )  # fmt: skip


# ---- when to wake next -------------------------------------------------------------------------------


def next_due(
    app: App,
    now: datetime | None = None,
    *,
    policy: ReminderPolicy | None = None,
    planner: ReminderPlanner | None = None,
    reread: bool = True,
) -> datetime | None:
    """The next instant at which :func:`queue_due_reminders` or :func:`dispatch` has work: the earliest
    reminder not yet queued, retry or lease expiry after ``now`` (``now`` itself if something is due).
    ``reread=False``: the planner answers from the rows it read last (its caller has just read them)."""
    now = now or app.clock.now()
    candidates: list[datetime] = []
    with app.transaction() as session:
        repo = Repository(session)
        if repo.due_message_ids(now, limit=1):
            return now
        waiting = session.scalar(
            select(Message.not_before).where(
                Message.status.in_(("queued", "failed", "sending")), Message.not_before > now,
                Message.not_before < PARKED,
            ).order_by(Message.not_before).limit(1)
        )  # fmt: skip
        if waiting is not None:
            candidates.append(waiting)
    reminder_at = (planner or ReminderPlanner(app, policy)).next_at(now, reread=reread)
    if reminder_at is not None:
        candidates.append(reminder_at)
    return min(candidates) if candidates else None

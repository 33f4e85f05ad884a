"""Reminders whose time has come become outbox messages, one per recipient, each once.

A reminder's key plus its recipient is the message's idempotency key, so queueing again writes nothing
(docs/reminders.md). ``queue_test_message`` queues the one message of ``notify test``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NamedTuple

from markupsafe import escape

from breachops.bootstrap import App
from breachops.config.agreements import Agreement, Contact
from breachops.deadlines.reminders import Reminder, ReminderPolicy
from breachops.errors import InputError
from breachops.notifications.headers import check_address
from breachops.notifications.keys import fit_key
from breachops.notifications.planner import ReminderPlanner
from breachops.notifications.render import DRILL_PREFIX, local, render, utc
from breachops.store import Repository
from breachops.store.messages import MessageDraft
from breachops.store.outbox_reads import incident_heads

if TYPE_CHECKING:  # the console builds the links; messages only carry them
    from breachops.web.links import StepLinks

__all__ = ["LATE_MARK", "queue_due_reminders", "queue_test_message"]

LATE_MARK = "[LATE]"


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
            for row in incident_heads(session, ids).values()
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
    rendered = render(reminder.kind, context, drill=incident.drill, template_dir=app.template_dir)
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
        template_dir=app.template_dir,
    )
    with app.transaction() as session:
        Repository(session).queue_message(
            idempotency_key=key, kind="test", template="test", recipients=[to], subject=rendered.subject,
            body_text=rendered.text, body_html=rendered.html, at=now, actor="notify-test",
        )  # fmt: skip
    return key

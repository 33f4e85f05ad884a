"""Reminders of corrective actions before their due date and once overdue, through the outbox: to the
named owner, or else to the incident lead of the owning party in the raising drill's agreement."""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import escape

from breachops.bootstrap import App
from breachops.config.agreements import Agreement
from breachops.notifications.keys import fit_key
from breachops.store import Repository
from breachops.store.corrective_actions import CorrectiveActionRecords
from breachops.store.messages import MessageDraft
from breachops.store.models import CorrectiveActionRow

__all__ = ["ACTION_REMINDER_KIND", "STAGES", "queue_action_reminders"]

ACTION_REMINDER_KIND = "action_reminder"
# Before the due date, and once it has passed; only the latest stage reached is sent, so a service that
# was down does not send three at once.
STAGES = (
    ("due in 7 days", timedelta(days=7)),
    ("due tomorrow", timedelta(days=1)),
    ("overdue", timedelta(0)),
)


def _recipients(row: CorrectiveActionRow, agreement: Agreement | None) -> list[str]:
    if row.owner_email:
        return [row.owner_email]
    if agreement is None:
        return []
    keys = ("disclosing", "receiving") if row.owner_party == "both" else (row.owner_party,)
    return [agreement.parties[k].contacts["incident_lead"].email for k in keys if k in agreement.parties]


def _stage(row: CorrectiveActionRow, now: datetime) -> str | None:
    reached = [name for name, before in STAGES if now >= row.due - before]
    return reached[-1] if reached else None


def _text(row: CorrectiveActionRow, stage: str) -> str:
    return (
        f"Corrective action {row.id} is {stage} ({row.due:%Y-%m-%d %H:%M} UTC).\n\n"
        f"Finding:  {row.finding} (raised in drill {row.raised_in})\nAction:   {row.action}\n"
        f"Status:   {row.status}\n\nRecord progress with "
        f"`breachops actions update {row.id} --by EMAIL --status in_progress`,\nor close it with "
        f"`breachops actions close {row.id} --by EMAIL --evidence TEXT`.\n"
    )


def queue_action_reminders(app: App, now: datetime | None = None) -> list[str]:
    """Queue the reminder of each open, in-progress action whose latest stage has come; return the new
    keys. Idempotent by key (action, stage, recipient)."""
    now = now or app.clock.now()
    drafts = []
    with app.transaction() as session:
        due = [(row, stage) for row in CorrectiveActionRecords(session).actions(["open", "in_progress"])
               if (stage := _stage(row, now)) is not None]  # fmt: skip
        # A drill's record is an incident of the same id: its agreement comes from the snapshot cache.
        agreements = app.agreements.of(session, {row.raised_in for row, _ in due}) if due else {}
        for row, stage in due:
            agreement = agreements.get(row.raised_in)
            subject = f"Corrective action {row.id} {stage}: {row.action}"[:300]
            text = _text(row, stage)
            for email in _recipients(row, agreement):
                drafts.append(
                    MessageDraft(
                        idempotency_key=fit_key(f"action:{row.id}|{stage}|{email.lower()}"),
                        kind=ACTION_REMINDER_KIND, template=f"inline:{ACTION_REMINDER_KIND}",
                        recipients=[email], subject=subject, body_text=text,
                        body_html=f"<html><body><pre>{escape(text)}</pre></body></html>",
                    )
                )  # fmt: skip
        made = Repository(session).queue_messages(drafts, now, actor="actions") if drafts else []
    return [m.message.idempotency_key for m in made if m.created]

"""When a message does not get through, the incident lead(s) of its recipients' parties are told."""

from __future__ import annotations

from datetime import datetime

from markupsafe import escape

from breachops.bootstrap import App
from breachops.notifications.keys import fit_key
from breachops.notifications.recipients import agreement_contacts
from breachops.notifications.render import DRILL_PREFIX
from breachops.store import Repository
from breachops.store.models import Message

__all__ = ["ALERT_KIND", "queue_delivery_alert"]

ALERT_KIND = "delivery_alert"


def queue_delivery_alert(app: App, repo: Repository, row: Message, reason: str, now: datetime) -> None:
    """Tell the incident lead(s) of the recipients' parties that a message did not get through."""
    if row.incident_id is None or row.kind == ALERT_KIND:
        return
    incident = repo.get_incident(row.incident_id)
    agreement = app.agreements.remember(incident.id, incident.agreement, incident.agreement_path)
    contacts = agreement_contacts(agreement)
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

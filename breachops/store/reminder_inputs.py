"""The rows the reminder planner derives from: every open incident's steps and live obligations.

Plain rows of the columns reminders use, read in a few queries for all open incidents at once, so a
planner tick stays short with thousands of them (see ``notifications/planner.py``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from breachops.store.models import Incident, Message, ObligationRow, StepRow

__all__ = ["ReminderInputs", "reminder_inputs"]


class ReminderInputs(NamedTuple):
    incidents: list[Any]  # (id, opened_at) of every open incident
    steps: list[Any]  # their steps, by incident and plan order
    obligations: list[Any]  # their obligations not withdrawn, by incident, due time and key
    outbox_keys: list[str] | None  # the keys of their messages, when asked for


def reminder_inputs(session: Session, *, outbox_keys: bool = False) -> ReminderInputs:
    """Everything a planner tick reads, in one transaction (``outbox_keys``: also the keys already queued)."""
    open_ids = select(Incident.id).where(Incident.status == "open")
    incidents = session.execute(
        select(Incident.id, Incident.opened_at).where(Incident.status == "open")
    ).all()
    steps = session.execute(
        select(
            StepRow.incident_id, StepRow.step_id, StepRow.title, StepRow.owner_role,
            StepRow.owner_party, StepRow.due, StepRow.status,
        )
        .where(StepRow.incident_id.in_(open_ids))
        .order_by(StepRow.incident_id, StepRow.id)
    ).all()  # fmt: skip
    obligations = session.execute(
        select(
            ObligationRow.incident_id, ObligationRow.key, ObligationRow.rule_id, ObligationRow.title,
            ObligationRow.citation, ObligationRow.audience, ObligationRow.due, ObligationRow.status,
        )
        .where(ObligationRow.incident_id.in_(open_ids), ObligationRow.status != "withdrawn")
        .order_by(ObligationRow.incident_id, ObligationRow.due, ObligationRow.key)
    ).all()  # fmt: skip
    keys = None
    if outbox_keys:
        keys = list(session.scalars(select(Message.idempotency_key).where(Message.incident_id.in_(open_ids))))
    return ReminderInputs(list(incidents), list(steps), list(obligations), keys)

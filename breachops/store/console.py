"""What the web console's pages read: plain rows of the few columns they show, for many incidents at once.

Building ORM objects cost more than the rest of a board page, so these return SQLAlchemy rows
(attribute access by column name), chunked so a board of thousands of incidents stays a few queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from breachops.store.base import chunks
from breachops.store.models import AuditEvent, Incident, Message, ObligationRow, StepRow

__all__ = [
    "OPEN_OBLIGATION",
    "audit_events",
    "drill_incidents",
    "first_due",
    "message_heads",
    "open_heads",
    "waiting_steps",
]

OPEN_OBLIGATION = ("pending", "overdue", "awaiting")


def open_heads(session: Session) -> list[Any]:
    """(id, title, drill) of every open incident, drills included: not whole rows, which would parse
    every agreement snapshot's JSON."""
    query = select(Incident.id, Incident.title, Incident.drill).where(Incident.status == "open")
    return list(session.execute(query.order_by(Incident.id)))


def first_due(session: Session, incident_ids: Sequence[str]) -> dict[str, Any]:
    """Per incident, its earliest dated open obligation (``incident_id, title, due, total``), where
    ``total`` counts its dated open obligations. SQL window functions (SQLite 3.25+, PostgreSQL) do it
    in one query per chunk instead of loading every obligation."""
    found: dict[str, Any] = {}
    for chunk in chunks(incident_ids):
        ranked = (
            select(
                ObligationRow.incident_id,
                ObligationRow.title,
                ObligationRow.due,
                func.row_number()
                .over(partition_by=ObligationRow.incident_id, order_by=(ObligationRow.due, ObligationRow.key))
                .label("rank"),
                func.count().over(partition_by=ObligationRow.incident_id).label("total"),
            )
            .where(
                ObligationRow.incident_id.in_(chunk),
                ObligationRow.status.in_(OPEN_OBLIGATION),
                ObligationRow.due.is_not(None),
            )
            .subquery()
        )
        for row in session.execute(select(ranked).where(ranked.c.rank == 1)):
            found[row.incident_id] = row
    return found


def waiting_steps(session: Session, incident_ids: Sequence[str]) -> dict[str, list[Any]]:
    """Per incident, its steps waiting at a gate (``step_id, title, owner_role, owner_party, due``)."""
    found: dict[str, list[Any]] = {}
    for chunk in chunks(incident_ids):
        for row in session.execute(
            select(
                StepRow.incident_id, StepRow.step_id, StepRow.title, StepRow.owner_role,
                StepRow.owner_party, StepRow.due, StepRow.status,
            ).where(StepRow.incident_id.in_(chunk), StepRow.status == "waiting")
        ):  # fmt: skip
            found.setdefault(row.incident_id, []).append(row)
    return found


def message_heads(session: Session, incident_id: str) -> list[Any]:
    """What each message of the incident is and where it stands; never its body, which holds its
    reader's own link."""
    return list(
        session.execute(
            select(
                Message.kind, Message.recipients, Message.subject, Message.status,
                Message.created_at, Message.sent_at,
            )
            .where(Message.incident_id == incident_id)
            .order_by(Message.id)
        )
    )  # fmt: skip


def audit_events(session: Session, incident_id: str) -> list[AuditEvent]:
    """The incident's audit stream in order."""
    query = select(AuditEvent).where(AuditEvent.incident_id == incident_id).order_by(AuditEvent.seq)
    return list(session.scalars(query))


def drill_incidents(session: Session, drill_ids: Sequence[str]) -> dict[str, str]:
    """Per drill id, the id of its drill incident (the record its playbook runs on)."""
    found: dict[str, str] = {}
    for chunk in chunks(drill_ids):
        query = select(Incident.drill_id, Incident.id).where(Incident.drill_id.in_(chunk), Incident.drill)
        found.update((str(drill_id), incident_id) for drill_id, incident_id in session.execute(query))
    return found

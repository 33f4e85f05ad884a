"""The rows the reminder planner derives from: every open incident's steps and live obligations.

Plain rows of the columns reminders use, read in a few queries for all open incidents at once, or for
only those whose plan revision moved, so a planner tick stays short with thousands of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from breachops.store.base import chunks
from breachops.store.models import Incident, Message, ObligationRow, StepRow

__all__ = ["ReminderInputs", "reminder_inputs"]


class ReminderInputs(NamedTuple):
    incidents: list[Any]  # (id, opened_at, plan_rev) of every open incident
    steps: list[Any]  # the steps of those read again, by incident and plan order
    obligations: list[Any]  # their obligations not withdrawn, by incident, due time and key
    outbox_keys: list[str] | None  # the keys of their messages, when asked for
    read: list[str]  # the incidents whose steps and obligations were read (all, or those that moved)


def reminder_inputs(
    session: Session, *, outbox_keys: bool = False, known: Mapping[str, int] | None = None
) -> ReminderInputs:
    """Everything a planner tick reads, in one transaction (``outbox_keys``: also the keys already
    queued). ``known``: the plan revision the caller holds per incident; the steps and obligations of
    an incident still at that revision are not read again."""
    open_ids = select(Incident.id).where(Incident.status == "open")
    incidents = session.execute(
        select(Incident.id, Incident.opened_at, Incident.plan_rev).where(Incident.status == "open")
    ).all()
    if known is None:
        stale = [i.id for i in incidents]
        steps = _steps(session, StepRow.incident_id.in_(open_ids))
        obligations = _obligations(session, ObligationRow.incident_id.in_(open_ids))
    else:
        stale = [i.id for i in incidents if known.get(i.id) != i.plan_rev]
        steps, obligations = [], []
        for part in chunks(stale):
            steps += _steps(session, StepRow.incident_id.in_(part))
            obligations += _obligations(session, ObligationRow.incident_id.in_(part))
    keys = None
    if outbox_keys:
        keys = list(session.scalars(select(Message.idempotency_key).where(Message.incident_id.in_(open_ids))))
    return ReminderInputs(list(incidents), steps, obligations, keys, stale)


def _steps(session: Session, which: ColumnElement[bool]) -> list[Any]:
    return list(
        session.execute(
            select(
                StepRow.incident_id, StepRow.step_id, StepRow.title, StepRow.owner_role,
                StepRow.owner_party, StepRow.due, StepRow.status,
            )
            .where(which)
            .order_by(StepRow.incident_id, StepRow.id)
        ).all()
    )  # fmt: skip


def _obligations(session: Session, which: ColumnElement[bool]) -> list[Any]:
    return list(
        session.execute(
            select(
                ObligationRow.incident_id, ObligationRow.key, ObligationRow.rule_id, ObligationRow.title,
                ObligationRow.citation, ObligationRow.audience, ObligationRow.due, ObligationRow.status,
            )
            .where(which, ObligationRow.status != "withdrawn")
            .order_by(ObligationRow.incident_id, ObligationRow.due, ObligationRow.key)
        ).all()
    )  # fmt: skip

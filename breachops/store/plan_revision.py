"""Every flush that adds, changes or removes an incident's steps or obligations raises its plan_rev.

A listener on every ORM session, so that no write path can forget it; the reminder planner then
reads the rows of only the incidents whose revision moved (notifications/planner.py).
"""

from __future__ import annotations

from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from breachops.store.models import Incident, ObligationRow, StepRow

__all__ = ["touched_incidents"]

_PLANNED = (StepRow, ObligationRow)


def touched_incidents(session: Session) -> set[str]:
    """The incidents whose steps or obligations this flush writes."""
    changed = (o for o in session.dirty if session.is_modified(o, include_collections=False))
    return {o.incident_id for o in chain(session.new, session.deleted, changed) if isinstance(o, _PLANNED)}


@event.listens_for(Session, "before_flush")
def _raise_plan_revisions(session: Session, _context: Any, _instances: Any) -> None:
    touched = touched_incidents(session)
    if not touched:
        return
    with session.no_autoflush:
        for incident_id in touched:
            incident = session.get(Incident, incident_id)
            if incident is not None:  # one still being added has no revision anyone has read
                # In SQL, so that two writers at once both count.
                incident.plan_rev = Incident.plan_rev + 1  # type: ignore[assignment]

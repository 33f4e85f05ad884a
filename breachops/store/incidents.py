"""Incident records: ids ``INC-<year>-<nnnn>`` from a per-year counter, opening and closing.

The counter row is incremented in the opening transaction: no gaps, no duplicates, drills included
(a drill's record says ``drill``; ``list_incidents`` leaves drills out unless asked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from breachops.errors import InputError
from breachops.store import audit
from breachops.store.base import aware, next_in_year
from breachops.store.facts import FactRecords
from breachops.store.models import Incident, IncidentCounter
from breachops.store.obligations import ObligationRecords

__all__ = ["IncidentRecords", "UnknownIncident", "allocate_incident_id"]


class UnknownIncident(InputError):
    """No incident has this id."""

    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        super().__init__(
            None, None, None, f"unknown incident {incident_id}", "See `breachops incident list`."
        )


def allocate_incident_id(session: Session, year: int, prefix: str = "INC") -> str:
    """The next incident id of ``year``, e.g. ``INC-2026-0007``.

    Numbered by `next_in_year`: no gaps, no duplicates under concurrent openers. Add the incident in
    the same transaction.
    """
    if not 1970 <= year <= 9999:
        raise ValueError(f"year {year} is out of range")
    return f"{prefix}-{year}-{next_in_year(session, IncidentCounter, year):04d}"


class IncidentRecords(FactRecords, ObligationRecords):
    """Opens (``incident.opened``, with its facts), finds, lists and closes incidents."""

    def allocate_incident_id(self, year: int) -> str:
        return allocate_incident_id(self.session, year)

    def add_incident(
        self,
        *,
        title: str,
        opened_by: str,
        opened_at: datetime,
        facts: Mapping[str, Any],
        playbook_name: str,
        playbook_version: str,
        playbook: Mapping[str, Any] | None = None,
        agreement: Mapping[str, Any],
        agreement_path: str | None = None,
        drill: bool = False,
        drill_id: str | None = None,
        flow_run_id: str | None = None,
        incident_id: str | None = None,
        opened_by_verified: bool = True,
    ) -> Incident:
        """Open an incident: allocate its id (unless given), store its opening facts as events with
        source ``open``, and write ``incident.opened`` (with ``unverified: true`` when the opener is
        not a contact in the agreement)."""
        opened_at = aware(opened_at, "opened_at")
        initial = {k: v for k, v in audit.to_jsonable(facts).items() if v is not None}
        incident = Incident(
            id=incident_id or allocate_incident_id(self.session, opened_at.year),
            title=title,
            status="open",
            drill=drill,
            drill_id=drill_id,
            playbook_name=playbook_name,
            playbook_version=playbook_version,
            playbook=None if playbook is None else audit.to_jsonable(playbook),
            agreement=audit.to_jsonable(agreement),
            agreement_path=agreement_path,
            facts={},
            opened_at=opened_at,
            flow_run_id=flow_run_id,
            opened_by=opened_by,
        )
        self.session.add(incident)
        self.session.flush()
        audit.append(
            self.session,
            incident.id,
            "incident.opened",
            {
                "title": title,
                "drill": drill,
                "drill_id": drill_id,
                "playbook": {"name": playbook_name, "version": playbook_version},
                "agreement_path": agreement_path,
                **({} if opened_by_verified else {"unverified": True}),
            },
            opened_by,
            opened_at,
        )
        self._apply_facts(incident, initial, "open", opened_by, opened_at)
        return incident

    def get_incident(self, incident_id: str) -> Incident:
        incident = self.session.get(Incident, incident_id)
        if incident is None:
            raise UnknownIncident(incident_id)
        return incident

    def incident_ids(self) -> list[str]:
        """Every incident's id, drills and closed ones included."""
        return list(self.session.scalars(select(Incident.id)))

    def list_incidents(self, include_drills: bool = False, status: str | None = None) -> list[Incident]:
        query = select(Incident).order_by(Incident.opened_at, Incident.id)
        if not include_drills:
            query = query.where(Incident.drill.is_(False))
        if status is not None:
            query = query.where(Incident.status == status)
        return list(self.session.scalars(query))

    def close_incident(
        self, incident: Incident, reason: str, actor: str, at: datetime, *, unmet: Sequence[str] = ()
    ) -> Incident:
        """Close the record. ``unmet``: keys of obligations still owed, which the closer accepted;
        each becomes ``closed-unmet`` and the close event names them."""
        if incident.status == "closed":
            raise InputError(None, "incident", None, f"{incident.id} is already closed", None)
        for key in unmet:
            row = self._obligation(incident, key)
            old, row.status = row.status, "closed-unmet"
            audit.append(
                self.session,
                incident.id,
                "obligation.closed_unmet",
                {"key": key, "old_status": old},
                actor,
                at,
            )
        incident.status = "closed"
        incident.closed_at = aware(at, "closed_at")
        incident.close_reason = reason
        payload: dict[str, Any] = {"reason": reason}
        if unmet:
            payload["closed_unmet"] = list(unmet)
        audit.append(self.session, incident.id, "incident.closed", payload, actor, at)
        return incident

    def attach_flow_run(self, incident: Incident, flow_run_id: str, actor: str, at: datetime) -> Incident:
        if incident.flow_run_id == flow_run_id:
            return incident
        old, incident.flow_run_id = incident.flow_run_id, flow_run_id
        audit.append(
            self.session, incident.id, "incident.flow_attached", {"old": old, "new": flow_run_id}, actor, at
        )
        return incident

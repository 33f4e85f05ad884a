"""Each incident's agreement as it was stored when the incident opened, parsed once per process.

The snapshot in ``incidents.agreement`` is written at opening and never changed (a new agreement
means a new incident), so a parsed copy stays valid for the life of the process. The reminder planner
and the dispatcher's claims ask for it many times a second during a burst; parsing it each time cost
more than the rest of a claim.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from breachops.config.agreements import Agreement, parse_agreement
from breachops.store.base import chunks
from breachops.store.models import Incident

__all__ = ["AgreementSnapshots"]


class AgreementSnapshots:
    """Parsed agreement snapshots by incident id (see above)."""

    def __init__(self) -> None:
        self._parsed: dict[str, Agreement] = {}

    def remember(self, incident_id: str, data: Mapping[str, Any], path: str | None) -> Agreement:
        """The parsed snapshot of ``incident_id`` whose stored JSON is ``data`` (parsed at first sight)."""
        found = self._parsed.get(incident_id)
        if found is None:
            found = parse_agreement(dict(data), path or f"incident {incident_id}")
            self._parsed[incident_id] = found
        return found

    def of(self, session: Session, incident_ids: Collection[str]) -> dict[str, Agreement]:
        """The snapshots of those incidents that exist, reading only the ones not parsed yet."""
        missing = sorted(i for i in set(incident_ids) if i not in self._parsed)
        for chunk in chunks(missing):
            rows = session.execute(
                select(Incident.id, Incident.agreement, Incident.agreement_path).where(Incident.id.in_(chunk))
            )
            for incident_id, data, path in rows:
                self.remember(incident_id, data, path)
        return {i: self._parsed[i] for i in incident_ids if i in self._parsed}

"""An incident's obligations, upserted by key (``rule_id/stage``) from the engine's latest answer.

One the engine no longer produces is kept as ``withdrawn`` (its last due time stays); ``met``,
``waived`` and ``closed-unmet`` are decisions of a person that a recomputation never overwrites.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select

from breachops.deadlines.models import Obligation
from breachops.errors import InputError
from breachops.store import audit
from breachops.store.base import RepositoryBase, aware
from breachops.store.models import Incident, ObligationRow

__all__ = [
    "OBLIGATION_STATUSES",
    "UNMET_STATUSES",
    "DueChange",
    "ObligationDiff",
    "ObligationRecords",
    "StatusChange",
]

OBLIGATION_STATUSES: Final = (
    "pending", "overdue", "awaiting", "met", "missed", "waived", "withdrawn", "closed-unmet"
)  # fmt: skip
# Still owed: closing the incident with any of these needs --accept-pending (they become closed-unmet).
UNMET_STATUSES: Final = ("pending", "overdue", "awaiting", "missed")
_DECIDED = ("met", "waived", "closed-unmet")  # set by a person; a recomputation never overwrites them


@dataclass(frozen=True, slots=True)
class DueChange:
    key: str
    old: datetime | None
    new: datetime | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    key: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ObligationDiff:
    """What one recomputation changed. Empty (falsy) when nothing did."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    due_changed: tuple[DueChange, ...] = ()
    status_changed: tuple[StatusChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.due_changed or self.status_changed)


class ObligationRecords(RepositoryBase):
    """Stores recomputations (``obligation.recomputed``) and a person's decisions (met, waived)."""

    def obligations(self, incident_id: str, include_withdrawn: bool = False) -> list[ObligationRow]:
        query = select(ObligationRow).where(ObligationRow.incident_id == incident_id)
        if not include_withdrawn:
            query = query.where(ObligationRow.status != "withdrawn")
        return list(self.session.scalars(query.order_by(ObligationRow.due, ObligationRow.key)))

    def replace_obligations(
        self, incident: Incident, obligations: Iterable[Obligation], at: datetime, actor: str = "engine"
    ) -> ObligationDiff:
        """Store the engine's latest obligations for the incident and return (and audit) the difference."""
        at = aware(at, "at")
        rows = {row.key: row for row in self.obligations(incident.id, include_withdrawn=True)}
        added: list[str] = []
        removed: list[str] = []
        due_changed: list[DueChange] = []
        status_changed: list[StatusChange] = []
        seen: set[str] = set()
        for ob in obligations:
            if ob.key in seen:
                raise ValueError(f"obligation {ob.key} given twice")
            seen.add(ob.key)
            row = rows.get(ob.key)
            fields = {
                "rule_id": ob.rule_id,
                "stage": ob.stage,
                "jurisdiction": ob.jurisdiction,
                "audience": ob.audience,
                "recipient": ob.recipient,
                "citation": ob.citation,
                "title": ob.title,
                "reason": ob.reason,
                "basis": ob.basis,
                "source": ob.source,
                "computed_at": at,
            }
            if row is None:
                row = ObligationRow(
                    incident_id=incident.id, key=ob.key, due=ob.due, status=ob.status, **fields
                )
                self.session.add(row)
                added.append(ob.key)
                continue
            for name, value in fields.items():
                setattr(row, name, value)
            if row.due != ob.due:
                due_changed.append(DueChange(ob.key, row.due, ob.due))
                row.due = ob.due
            if row.status == "withdrawn":
                added.append(ob.key)
                row.status = ob.status
            elif row.status not in _DECIDED and row.status != ob.status:
                status_changed.append(StatusChange(ob.key, row.status, ob.status))
                row.status = ob.status
        for key, row in rows.items():
            if key not in seen and row.status not in (*_DECIDED, "withdrawn"):
                removed.append(key)
                row.status = "withdrawn"
                row.computed_at = at
        diff = ObligationDiff(tuple(added), tuple(removed), tuple(due_changed), tuple(status_changed))
        self.session.flush()
        if diff:
            current = {row.key: row for row in self.obligations(incident.id, include_withdrawn=True)}
            audit.append(
                self.session,
                incident.id,
                "obligation.recomputed",
                {
                    "added": [{"key": k, "due": current[k].due, "status": current[k].status} for k in added],
                    "removed": [{"key": k, "due": current[k].due} for k in removed],
                    "due_changed": [{"key": c.key, "old": c.old, "new": c.new} for c in due_changed],
                    "status_changed": [{"key": c.key, "old": c.old, "new": c.new} for c in status_changed],
                },
                actor,
                at,
            )
        return diff

    def record_coverage_gaps(
        self, incident: Incident, gaps: Sequence[str], at: datetime, actor: str = "engine"
    ) -> None:
        """Record, in the incident's audit log, the jurisdictions whose obligations are unknown."""
        audit.append(
            self.session,
            incident.id,
            "coverage.gap",
            {"jurisdictions": list(gaps), "meaning": "no rules known: obligations there are unknown"},
            actor,
            aware(at, "at"),
        )

    def _obligation(self, incident: Incident, key: str) -> ObligationRow:
        row = self.session.execute(
            select(ObligationRow).where(ObligationRow.incident_id == incident.id, ObligationRow.key == key)
        ).scalar_one_or_none()
        if row is None:
            known = ", ".join(r.key for r in self.obligations(incident.id)) or "none"
            raise InputError(
                None, "obligation", key, f"{incident.id} has no obligation {key}", f"Known: {known}."
            )
        return row

    def mark_obligation_met(self, incident: Incident, key: str, actor: str, at: datetime) -> ObligationRow:
        row = self._obligation(incident, key)
        if row.status == "met":
            return row
        old, row.status, row.met_at = row.status, "met", aware(at, "met_at")
        audit.append(self.session, incident.id, "obligation.met", {"key": key, "old_status": old}, actor, at)
        return row

    def waive_obligation(
        self, incident: Incident, key: str, reason: str, actor: str, at: datetime
    ) -> ObligationRow:
        if not reason.strip():
            raise InputError(None, "reason", None, "waiving an obligation needs a reason")
        row = self._obligation(incident, key)
        if row.status == "waived" and row.waived_reason == reason:
            return row
        old, row.status, row.waived_reason = row.status, "waived", reason
        audit.append(
            self.session,
            incident.id,
            "obligation.waived",
            {"key": key, "old_status": old, "reason": reason},
            actor,
            at,
        )
        return row

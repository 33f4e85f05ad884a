"""The corrective actions register: rows kept in step with each drill's improvement plan, and the
changes people make to them, each audited in the ``_system`` stream."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from breachops.store import audit
from breachops.store.base import RepositoryBase, aware
from breachops.store.models import SYSTEM_STREAM, CorrectiveActionRow

__all__ = ["ACTION_STATUSES", "SETTLED", "CorrectiveActionRecords", "UnknownAction"]

ACTION_STATUSES: Final = ("open", "in_progress", "done", "verified", "risk_accepted")
SETTLED: Final = ("verified", "risk_accepted")  # nothing more is asked of the owner


class UnknownAction(LookupError):
    pass


class CorrectiveActionRecords(RepositoryBase):
    def actions(self, statuses: Sequence[str] | None = None) -> list[CorrectiveActionRow]:
        query = select(CorrectiveActionRow).order_by(CorrectiveActionRow.due, CorrectiveActionRow.id)
        if statuses:
            query = query.where(CorrectiveActionRow.status.in_(list(statuses)))
        return list(self.session.scalars(query))

    def action(self, action_id: int) -> CorrectiveActionRow:
        row = self.session.get(CorrectiveActionRow, action_id)
        if row is None:
            raise UnknownAction(action_id)
        return row

    def sync_plan(self, drill_id: str, plan: Sequence[Mapping[str, Any]], at: datetime) -> None:
        """Bring the register in step with a finished drill's plan: a new action for each new one; an
        action the drill closed (it observed the subject without the gap) verified by that drill,
        unless a person settled it already."""
        at = aware(at, "at")
        for item in plan:
            raised_in = str(item.get("raised_in") or drill_id)
            subject = str(item["subject"])
            row = self.session.scalars(
                select(CorrectiveActionRow).where(
                    CorrectiveActionRow.subject == subject, CorrectiveActionRow.raised_in == raised_in
                )
            ).first()
            if row is None:
                row = CorrectiveActionRow(
                    subject=subject, raised_in=raised_in, finding=str(item.get("gap", "")),
                    action=str(item["action"]), owner_party=str(item["owner_party"]),
                    owner_role=str(item["owner_role"]), start=at, due=_instant(item["due"]), status="open",
                    evidence=[], updated_at=at,
                )  # fmt: skip
                self.session.add(row)
                self.session.flush()
                self._record(row, "action.raised", {"drill": drill_id, "text": row.action}, "drill", at)
            if (
                item.get("status") == "closed"
                and item.get("closed_in") == drill_id
                and row.status not in SETTLED
            ):
                row.status, row.verified_in, row.updated_at = "verified", drill_id, at
                self._record(row, "action.verified", {"drill": drill_id}, "drill", at)

    def change(
        self,
        row: CorrectiveActionRow,
        changes: Mapping[str, Any],
        evidence: Mapping[str, str] | None,
        actor: str,
        at: datetime,
    ) -> None:
        """Apply checked changes (status, owner_email, due) and add a piece of evidence, audited."""
        at = aware(at, "at")
        old = {name: audit.to_jsonable(getattr(row, name)) for name in changes}
        for name, value in changes.items():
            setattr(row, name, value)
        if evidence:
            row.evidence = [*row.evidence, {"at": at.isoformat(), "by": actor, **evidence}]
        row.updated_at = at
        payload: dict[str, Any] = {
            "changes": {k: {"old": old[k], "new": audit.to_jsonable(v)} for k, v in changes.items()}
        }
        if evidence:
            payload["evidence"] = dict(evidence)
        self._record(row, "action.updated", payload, actor, at)

    def _record(
        self, row: CorrectiveActionRow, kind: str, payload: dict[str, Any], actor: str, at: datetime
    ) -> None:
        audit.append(
            self.session,
            SYSTEM_STREAM,
            kind,
            {"action": row.id, "subject": row.subject, **payload},
            actor,
            at,
        )


def _instant(value: Any) -> datetime:
    return aware(value if isinstance(value, datetime) else datetime.fromisoformat(str(value)), "due")

"""An incident's playbook steps as planned, and their status (pending → running/waiting → done/skipped)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select

from breachops.errors import InputError
from breachops.store import audit
from breachops.store.base import RepositoryBase, aware
from breachops.store.models import Incident, StepRow
from breachops.store.obligations import DueChange

__all__ = ["STEP_STATUSES", "StepPlan", "StepRecords", "StepsDiff"]

STEP_STATUSES: Final = ("pending", "running", "waiting", "done", "skipped")
_FINAL_STEP = ("done", "skipped")
_STEP_KIND = {
    "pending": "step.reset",
    "running": "step.started",
    "waiting": "step.waiting",
    "done": "step.completed",
    "skipped": "step.skipped",
}


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One playbook step as planned for an incident (the flows build these from the playbook)."""

    step_id: str
    phase: str
    title: str
    owner_role: str
    owner_party: str
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class StepsDiff:
    added: tuple[str, ...] = ()
    due_changed: tuple[DueChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.due_changed)


class StepRecords(RepositoryBase):
    """Plans steps (``steps.planned``) and moves them (``step.started``, ``step.completed``, …)."""

    def steps(self, incident_id: str) -> list[StepRow]:
        return list(
            self.session.scalars(
                select(StepRow).where(StepRow.incident_id == incident_id).order_by(StepRow.id)
            )
        )

    def upsert_steps(
        self, incident: Incident, plans: Iterable[StepPlan], actor: str, at: datetime
    ) -> StepsDiff:
        """Add planned steps and update titles, owners and due times of known ones (never their status)."""
        rows = {row.step_id: row for row in self.steps(incident.id)}
        added: list[str] = []
        due_changed: list[DueChange] = []
        for plan in plans:
            due = None if plan.due is None else aware(plan.due, f"step {plan.step_id} due")
            row = rows.get(plan.step_id)
            if row is None:
                row = StepRow(
                    incident_id=incident.id,
                    step_id=plan.step_id,
                    phase=plan.phase,
                    title=plan.title,
                    owner_role=plan.owner_role,
                    owner_party=plan.owner_party,
                    due=due,
                    status="pending",
                    attempts=0,
                )
                self.session.add(row)
                rows[plan.step_id] = row
                added.append(plan.step_id)
                continue
            row.phase, row.title = plan.phase, plan.title
            row.owner_role, row.owner_party = plan.owner_role, plan.owner_party
            if row.due != due:
                due_changed.append(DueChange(plan.step_id, row.due, due))
                row.due = due
        self.session.flush()
        diff = StepsDiff(tuple(added), tuple(due_changed))
        if diff:
            audit.append(
                self.session,
                incident.id,
                "steps.planned",
                {
                    "added": [
                        {"step_id": s, "due": rows[s].due, "owner_role": rows[s].owner_role} for s in added
                    ],
                    "due_changed": [{"step_id": c.key, "old": c.old, "new": c.new} for c in due_changed],
                },
                actor,
                at,
            )
        return diff

    def get_step(self, incident: Incident, step_id: str) -> StepRow:
        row = self.session.execute(
            select(StepRow).where(StepRow.incident_id == incident.id, StepRow.step_id == step_id)
        ).scalar_one_or_none()
        if row is None:
            known = ", ".join(r.step_id for r in self.steps(incident.id)) or "none"
            raise InputError(
                None, "step", step_id, f"{incident.id} has no step {step_id!r}", f"Known: {known}."
            )
        return row

    def set_step_status(
        self,
        incident: Incident,
        step_id: str,
        status: str,
        actor: str,
        at: datetime,
        answer: Mapping[str, Any] | None = None,
    ) -> StepRow:
        """Move a step to ``status``. Entering ``running`` counts an attempt; ``done``/``skipped`` are
        final and record who and when (and the gate's answer). Asking for the current status again
        changes nothing and writes nothing."""
        if status not in STEP_STATUSES:
            raise InputError(
                None, "status", status, "unknown step status", f"Use one of {', '.join(STEP_STATUSES)}."
            )
        at = aware(at, "at")
        row = self.get_step(incident, step_id)
        if row.status == status:
            return row
        if row.status in _FINAL_STEP:
            raise InputError(
                None,
                "step",
                None,
                f"step {step_id!r} of {incident.id} is already {row.status}",
                "It cannot be reopened.",
            )
        answer_json = None if answer is None else audit.to_jsonable(answer)
        if answer_json is not None:
            audit.refuse_secrets(answer_json, "answer")
        old = row.status
        row.status = status
        if status == "running":
            row.attempts += 1
            row.started_at = row.started_at or at
        elif status in _FINAL_STEP:
            row.completed_at, row.completed_by = at, actor
            if answer_json is not None:
                row.answer = answer_json
        payload: dict[str, Any] = {"step_id": step_id, "old": old, "new": status}
        if answer_json is not None:
            payload["answer"] = answer_json
        if status == "running":
            payload["attempt"] = row.attempts
        audit.append(self.session, incident.id, _STEP_KIND[status], payload, actor, at)
        return row

"""People's changes to the corrective actions register: status, owner, due date, evidence; and the
register as the HSEEP improvement-plan table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from breachops.bootstrap import App
from breachops.errors import InputError
from breachops.notifications.headers import check_address
from breachops.services.checks import MAX_NOTE, check_text
from breachops.store.corrective_actions import (
    ACTION_STATUSES,
    SETTLED,
    CorrectiveActionRecords,
    UnknownAction,
)
from breachops.store.models import CorrectiveActionRow

__all__ = [
    "IMPROVEMENT_PLAN_COLUMNS",
    "ActionChange",
    "action_to_dict",
    "change_action",
    "improvement_plan_rows",
    "list_actions",
]

# The columns of HSEEP's Improvement Plan matrix, then the register's own.
IMPROVEMENT_PLAN_COLUMNS = (
    "Capability", "Issue/Area for Improvement", "Corrective Action", "Capability Element",
    "Primary Responsible Organization", "Organization POC", "Start Date", "Completion Date",
    "Due Date", "Status", "Raised In", "Verified In", "Evidence",
)  # fmt: skip
_STATUSES = f"One of: {', '.join(ACTION_STATUSES)}."
# What the element of a capability a gap points to (HSEEP: planning, organization, equipment, training,
# exercises), by the gap's kind: a missed duty is a planning gap, a late step one of training, a step
# nobody did or a slow first answer one of organization.
_ELEMENT = {
    "missed_obligation": "Planning",
    "late_step": "Training",
    "skipped_step": "Organization",
    "slow_acknowledgement": "Organization",
}


@dataclass(frozen=True)
class ActionChange:
    status: str | None = None
    owner_email: str | None = None
    due: datetime | None = None
    note: str | None = None
    evidence: str | None = None


def action_to_dict(row: CorrectiveActionRow) -> dict[str, Any]:
    return {
        "id": row.id, "subject": row.subject, "finding": row.finding, "action": row.action,
        "owner": {"party": row.owner_party, "role": row.owner_role, "email": row.owner_email},
        "start": row.start.isoformat(), "due": row.due.isoformat(), "status": row.status,
        "raised_in": row.raised_in, "verified_in": row.verified_in, "evidence": list(row.evidence),
        "updated_at": row.updated_at.isoformat(),
    }  # fmt: skip


def list_actions(app: App, statuses: list[str] | None = None) -> list[dict[str, Any]]:
    for status in statuses or []:
        if status not in ACTION_STATUSES:
            raise InputError("--status", None, status, "is not a status", _STATUSES)
    with app.reading() as session:
        return [action_to_dict(r) for r in CorrectiveActionRecords(session).actions(statuses)]


def _checked(change: ActionChange, row: CorrectiveActionRow) -> tuple[dict[str, Any], dict[str, str] | None]:
    changes: dict[str, Any] = {}
    if change.note is not None:
        check_text("--note", change.note, max_length=MAX_NOTE, newlines=True)
    if change.evidence is not None:
        check_text("--evidence", change.evidence, max_length=MAX_NOTE, newlines=True)
    if change.owner_email is not None:
        changes["owner_email"] = check_address("--owner", change.owner_email)
    if change.due is not None:
        if change.due.tzinfo is None:
            hint = "Write it as 2027-03-31T17:00:00+02:00."
            raise InputError("--due", None, change.due.isoformat(), "needs its UTC offset", hint)
        changes["due"] = change.due
    status = change.status
    if status is not None:
        if status not in ACTION_STATUSES:
            raise InputError("--status", None, status, "is not a status", _STATUSES)
        if status in ("done", "verified") and not (change.evidence or row.evidence):
            hint = "Add --evidence with a link or a short account of what was done."
            raise InputError("--evidence", None, None, f"an action is {status} only with evidence", hint)
        if status == "risk_accepted" and not change.note:
            hint = "Add --note saying why and who decided."
            raise InputError("--note", None, None, "accepting the risk needs a reason", hint)
        if row.status in SETTLED and status != "open":
            hint = "Reopen it first with --status open and a --note."
            raise InputError("--status", None, status, f"action {row.id} is {row.status} already", hint)
        changes["status"] = status
    evidence = None
    if change.evidence or change.note:
        evidence = {k: v for k, v in (("evidence", change.evidence), ("note", change.note)) if v}
    if not changes and evidence is None:
        hint = "Give --status, --owner, --due, --note or --evidence."
        raise InputError(None, None, None, "nothing to change", hint)
    return changes, evidence


def change_action(app: App, action_id: int, change: ActionChange, *, by: str) -> dict[str, Any]:
    """Apply a person's change to one action, checked first: nothing is stored when it is refused."""
    actor = check_address("--by", by)
    with app.transaction() as session:
        records = CorrectiveActionRecords(session)
        try:
            row = records.action(action_id)
        except UnknownAction:
            hint = "See `breachops actions list`."
            raise InputError(
                "ACTION", None, action_id, "no corrective action has this number", hint
            ) from None
        changes, evidence = _checked(change, row)
        records.change(row, changes, evidence, actor, app.clock.now())
        return action_to_dict(row)


def improvement_plan_rows(actions: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The register as HSEEP's Improvement Plan matrix, one row per action."""
    rows = []
    for a in actions:
        kind = str(a["finding"]).split(":", 1)[0]
        finished = a["status"] in ("done", "verified")
        rows.append(
            dict(zip(IMPROVEMENT_PLAN_COLUMNS, [
                a["subject"], a["finding"], a["action"], _ELEMENT.get(kind, ""),
                a["owner"]["party"], a["owner"]["email"] or f"{a['owner']['role']} ({a['owner']['party']})",
                a["start"][:10], a["updated_at"][:10] if finished else "", a["due"][:10], a["status"],
                a["raised_in"], a["verified_in"] or "",
                "; ".join(e.get("evidence") or e.get("note", "") for e in a["evidence"]),
            ], strict=True))
        )  # fmt: skip
    return rows

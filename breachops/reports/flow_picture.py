"""The playbook as the Prefect UI shows it beside an incident's flow run: a table of its steps (owner,
status, local due time) and a Markdown summary of its obligations with countdowns and a link to the
console's page. Plain data here; ``flows/artifacts.py`` publishes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from breachops.config.agreements import Agreement
from breachops.reports.deadlines import iso_utc, local_label
from breachops.reports.incident import obligation_countdown, obligation_zones, step_people
from breachops.store.models import Incident, ObligationRow, StepRow

__all__ = ["artifact_key", "obligations_markdown", "steps_table"]


def artifact_key(incident_id: str, what: str) -> str:
    """A key Prefect accepts (lower-case letters, digits, dashes), the same for every version."""
    return f"{incident_id.lower()}-{what}"


def _md(text: str) -> str:
    """Text inert in a Markdown table cell: no markup, links or HTML a fact or title could carry."""
    escaped = "".join(f"\\{c}" if c in "\\`*_[]<>#|~" else c for c in text)
    return escaped.replace("\n", " ")


def steps_table(rows: list[StepRow], agreement: Agreement) -> list[dict[str, Any]]:
    """One row per step, in plan order; the due time in UTC and in each owner's zone."""
    table = []
    for row in rows:
        people = step_people(agreement, row.owner_role, row.owner_party)
        local = [
            local_label(row.due.astimezone(ZoneInfo(z)), z) for _, _, z in people if row.due and z != "UTC"
        ]
        table.append(
            {
                "phase": row.phase,
                "step": row.step_id,
                "title": row.title,
                "owner": f"{row.owner_role} @ {row.owner_party}: "
                + ", ".join(f"{n} <{e}>" for n, e, _ in people),
                "status": row.status,
                "due (UTC)": iso_utc(row.due) or "-",
                "due (local)": "; ".join(dict.fromkeys(local)) or "-",
            }
        )
    return table


def obligations_markdown(
    incident: Incident,
    obligations: list[ObligationRow],
    agreement: Agreement,
    now: datetime,
    page: str | None,
) -> str:
    """The obligations, strictest first as stored, with countdowns as of ``now``."""
    lines = [f"# {_md(incident.id)}: {_md(incident.title)}", ""]
    if incident.drill:
        lines += ["**DRILL**: nothing here is a real duty.", ""]
    lines += [f"Console: {page}" if page else "Console: not running (no page to link).", ""]
    if not obligations:
        return "\n".join([*lines, "No obligation applies on the facts recorded."])
    lines += ["| Obligation | To | Due (UTC) | Local | Left | Status |", "|---|---|---|---|---|---|"]
    for o in obligations:
        zones = obligation_zones(o.jurisdiction, agreement)
        local = "; ".join(local_label(o.due.astimezone(ZoneInfo(z)), z) for z in zones[:2]) if o.due else "-"
        left = obligation_countdown(o.due, o.status, now) or "-"
        lines.append(
            f"| {_md(o.title)} | {_md(o.jurisdiction)} {_md(o.audience)} "
            f"| {iso_utc(o.due) or 'clock not started'} | {_md(local)} | {_md(left)} | {_md(o.status)} |"
        )
    return "\n".join(lines)

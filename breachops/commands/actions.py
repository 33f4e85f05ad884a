"""`breachops actions …`: the corrective actions register the drills' improvement plans feed."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from breachops.commands.common import TableOrJson, make_app, out
from breachops.errors import InputError
from breachops.textsafe import cell, json_text, markup

__all__ = ["actions_app"]

actions_app = typer.Typer(
    help="Corrective actions raised by drills: list, update, close with evidence, export the plan.",
    no_args_is_help=True,
)
ACTION = Annotated[
    int, typer.Argument(metavar="ACTION", help="The action's number, as `actions list` shows it.")
]
BY = Annotated[str, typer.Option("--by", help="Your email, for the record.")]
FORMAT = Annotated[TableOrJson, typer.Option("--format", help="table for people, json for scripts.")]


class PlanFormat(StrEnum):
    csv = "csv"
    markdown = "markdown"
    json = "json"


def _due(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            "--due", None, value, "is not a date and time", "Write it as 2027-03-31T17:00:00+02:00."
        ) from None


def _utc(iso: str) -> str:
    """A stored UTC instant as people read it: minutes, with its zone."""
    return iso[:16].replace("T", " ") + " UTC"


def _show(action: dict[str, Any], fmt: TableOrJson) -> None:
    if fmt is TableOrJson.json:
        print(json_text(action, indent=2))
        return
    who = action["owner"]["email"] or f"{action['owner']['role']} @ {action['owner']['party']}"
    out.print(
        f"action {action['id']}: {markup(action['status'])}, due {_utc(action['due'])}, owner {markup(who)}\n"
        f"  {markup(action['action'])}",
        highlight=False,
    )


@actions_app.command("list")
def actions_list(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only these statuses (repeat).")
    ] = None,
    fmt: FORMAT = TableOrJson.table,
) -> None:
    """Every corrective action, soonest due first: its finding, owner, due date, status and evidence."""
    from breachops.services.corrective_actions import list_actions

    actions = list_actions(make_app(), status)
    if fmt is TableOrJson.json:
        print(json_text(actions, indent=2))
        return
    table = Table(
        "#",
        "status",
        "due",
        "owner",
        "action",
        "raised in",
        "verified in",
        title=f"{len(actions)} corrective action(s)",
    )
    for a in actions:
        who = a["owner"]["email"] or f"{a['owner']['role']} @ {a['owner']['party']}"
        table.add_row(
            str(a["id"]),
            a["status"],
            _utc(a["due"]),
            cell(who),
            cell(a["action"]),
            a["raised_in"],
            a["verified_in"] or "-",
        )
    out.print(table)


@actions_app.command("update")
def actions_update(
    action_id: ACTION,
    by: BY,
    status: Annotated[
        str | None, typer.Option("--status", help="open, in_progress, done, verified or risk_accepted.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="The named person responsible (email).")
    ] = None,
    due: Annotated[str | None, typer.Option("--due", help="New due date and time, with its offset.")] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="A remark for the record (needed to accept a risk).")
    ] = None,
    evidence: Annotated[
        str | None, typer.Option("--evidence", help="A link or an account of what was done.")
    ] = None,
    fmt: FORMAT = TableOrJson.table,
) -> None:
    """Change an action's status, owner or due date, or add evidence; every change is in the audit log.
    done and verified need evidence; risk_accepted needs a --note."""
    from breachops.services.corrective_actions import ActionChange, change_action

    change = ActionChange(status=status, owner_email=owner, due=_due(due), note=note, evidence=evidence)
    _show(change_action(make_app(), action_id, change, by=by), fmt)


@actions_app.command("close")
def actions_close(
    action_id: ACTION,
    by: BY,
    evidence: Annotated[str, typer.Option("--evidence", help="A link or an account of what was done.")],
    verified: Annotated[
        bool, typer.Option("--verified", help="Verified by a test or audit, not only done.")
    ] = False,
    fmt: FORMAT = TableOrJson.table,
) -> None:
    """Close an action with its evidence: done (a later drill that shows the gap gone verifies it), or
    --verified when it was checked another way."""
    from breachops.services.corrective_actions import ActionChange, change_action

    change = ActionChange(status="verified" if verified else "done", evidence=evidence)
    _show(change_action(make_app(), action_id, change, by=by), fmt)


@actions_app.command("export")
def actions_export(
    fmt: Annotated[PlanFormat, typer.Option("--format", help="csv, markdown or json.")] = PlanFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead.")] = None,
) -> None:
    """The register as HSEEP's Improvement Plan matrix (capability, issue, corrective action, capability
    element, organization, point of contact, start and completion dates), with due date, status and
    evidence."""
    from breachops.services.corrective_actions import (
        IMPROVEMENT_PLAN_COLUMNS,
        improvement_plan_rows,
        list_actions,
    )

    rows = improvement_plan_rows(list_actions(make_app()))
    if fmt is PlanFormat.json:
        text = json_text(rows, indent=2) + "\n"
    elif fmt is PlanFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, IMPROVEMENT_PLAN_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    else:

        def md(value: str) -> str:
            return value.replace("|", "\\|").replace("\n", " ")

        lines = [
            "| " + " | ".join(IMPROVEMENT_PLAN_COLUMNS) + " |",
            "|" + "---|" * len(IMPROVEMENT_PLAN_COLUMNS),
        ]
        lines += ["| " + " | ".join(md(r[c]) for c in IMPROVEMENT_PLAN_COLUMNS) + " |" for r in rows]
        text = "\n".join(lines) + "\n"
    if output is None:
        print(text, end="")
        return
    output.write_text(text, encoding="utf-8")
    out.print(f"wrote {len(rows)} action(s) to {markup(str(output))}", highlight=False)

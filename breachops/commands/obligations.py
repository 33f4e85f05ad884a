"""`breachops obligation met|waive`: record what became of a duty the playbook does not close itself."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from breachops.commands.common import TableOrJson, make_app, out, record_id
from breachops.services.obligations import Outcome, record_obligation
from breachops.textsafe import markup

__all__ = ["obligation_app"]

obligation_app = typer.Typer(
    help="Record an obligation met (its notice went out) or waived (with a reason).", no_args_is_help=True
)
INCIDENT = Annotated[str, typer.Argument(metavar="INC", callback=record_id)]
KEY = Annotated[str, typer.Argument(metavar="OBLIGATION", help="rule/stage, as `incident show` lists it.")]
BY = Annotated[str, typer.Option("--by", help="Who records it: a contact of the agreement.")]
FORMAT = Annotated[TableOrJson, typer.Option("--format", help="table for people, json for scripts.")]


@obligation_app.command("met")
def obligation_met(
    incident_id: INCIDENT,
    key: KEY,
    by: BY,
    fmt: FORMAT = TableOrJson.table,
) -> None:
    """The notice went out: its reminders stop, and the record says who said so."""
    _record(incident_id, key, "met", by, "", fmt)


@obligation_app.command("waive")
def obligation_waive(
    incident_id: INCIDENT,
    key: KEY,
    by: BY,
    reason: Annotated[str, typer.Option("--reason", help="Why the duty does not bind (required).")] = "",
    fmt: FORMAT = TableOrJson.table,
) -> None:
    """The duty does not bind (counsel's decision, an exemption): its reminders stop, the reason is kept."""
    _record(incident_id, key, "waived", by, reason, fmt)


def _record(incident_id: str, key: str, outcome: Outcome, by: str, text: str, fmt: TableOrJson) -> None:
    row = record_obligation(make_app(), incident_id, key, outcome, by=by, reason=text)
    if fmt is TableOrJson.json:
        print(json.dumps({"incident": incident_id, "obligation": row.key, "status": row.status, "by": by}))
        return
    out.print(
        f"{markup(incident_id)} {markup(row.key)}: {row.status} (recorded by {markup(by)})", highlight=False
    )

"""`breachops audit …`: check an incident's tamper-evident record, and export it as evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from breachops.commands.common import TableOrJson, err, make_app, out
from breachops.store import Repository, export, verify
from breachops.textsafe import markup

__all__ = ["audit_app"]

audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    incident_id: Annotated[str, typer.Argument(metavar="INC")],
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Recompute the chain; name the first broken link (exit status 1) if any event was edited,
    deleted or reordered."""
    app = make_app()
    with app.transaction() as session:
        Repository(session).get_incident(incident_id)
        result = verify(session, incident_id)
    if fmt is TableOrJson.json:
        problem = result.problem
        print(
            json.dumps(
                {
                    "incident": incident_id,
                    "ok": result.ok,
                    "events": result.events,
                    "final_hash": result.final_hash,
                    "problem": None
                    if problem is None
                    else {"seq": problem.seq, "kind": problem.kind, "detail": problem.detail},
                }
            )
        )
    elif result.ok:
        out.print(f"[green]ok[/green]: {result.events} events, chain intact, final hash {result.final_hash}")
    else:
        err.print(
            f"[bold red]broken[/bold red]: {markup(incident_id)} {markup(result.problem)}", highlight=False
        )
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    incident_id: Annotated[str, typer.Argument(metavar="INC")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Default: <workspace>/evidence/INC.jsonl")
    ] = None,
) -> None:
    """Write the record as JSON Lines, one event per line with its hashes, and print the final hash."""
    app = make_app()
    target = output or app.workspace / "evidence" / f"{incident_id}.jsonl"
    with app.transaction() as session:
        Repository(session).get_incident(incident_id)
        result = verify(session, incident_id)
        final = export(session, incident_id, target)
    (target.with_name(target.name + ".sha256")).write_text(f"{final}  {target.name}\n")
    out.print(f"wrote {markup(target)} ({result.events} events)", highlight=False)
    out.print(f"final hash {final}")
    if not result.ok:
        err.print(
            f"[bold red]warning[/bold red]: the chain is broken at {markup(result.problem)}", highlight=False
        )
        raise typer.Exit(1)

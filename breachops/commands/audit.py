"""`breachops audit …`: check the tamper-evident record, and export it as evidence with its witnesses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from breachops.commands.common import TableOrJson, err, make_app, out, record_id
from breachops.errors import InputError
from breachops.files import write_private
from breachops.store import Problem, Repository, UnknownIncident, VerifyResult, export, prove_witness, verify
from breachops.store.audit import known_stream, verify_all
from breachops.textsafe import json_text, markup

if TYPE_CHECKING:
    from breachops.notifications.witness import Witness

__all__ = ["audit_app"]

audit_app = typer.Typer(help="The append-only, hash-chained, sealed audit log.", no_args_is_help=True)


def _problem_json(problem: Problem | None) -> dict[str, Any] | None:
    if problem is None:
        return None
    return {"where": problem.where, "seq": problem.seq, "kind": problem.kind, "detail": problem.detail}


def _result_json(result: VerifyResult) -> dict[str, Any]:
    return {
        "incident": result.incident_id,
        "ok": result.ok,
        "events": result.events,
        "legacy_events": result.legacy,
        "final_hash": result.final_hash,
        "problem": _problem_json(result.problem),
    }


def _witness(value: str, incident_id: str) -> Witness:
    """``--witness``: a message file, or a head (``<seq>:<hash>`` or a hash) copied from one."""
    # Imported when a witness is given: the notifications package brings the mail channels with it.
    from breachops.notifications.witness import Witness, parse_head, read_witness

    path = Path(value)
    if value.lower().endswith(".eml") or path.is_file():
        witness = read_witness(path)
        if witness.incident_id not in (None, incident_id):
            problem = f"is a message of another incident than {incident_id}"
            raise InputError(path, "X-Breachops-Incident", witness.incident_id, problem)
        return witness
    seq, digest = parse_head(value)
    return Witness(incident_id, seq, digest, "--witness")


def _print_result(result: VerifyResult) -> None:
    if result.ok:
        out.print(
            f"[green]ok[/green]: {markup(result.incident_id)}: {result.events} events, chain intact, "
            f"sealed and in the ledger, final hash {result.final_hash}",
            highlight=False,
        )
        if result.legacy_note:
            out.print(f"  note: {result.legacy_note}", highlight=False)
    else:
        err.print(
            f"[bold red]broken[/bold red]: {markup(result.incident_id)} {markup(result.problem)}",
            highlight=False,
        )


@audit_app.command("verify")
def audit_verify(
    incident_id: Annotated[str | None, typer.Argument(metavar="[INC]", callback=record_id)] = None,
    every: Annotated[bool, typer.Option("--all", help="Every incident's record and the ledger.")] = False,
    witness: Annotated[
        str | None,
        typer.Option("--witness", help="A head seen earlier (<seq>:<hash>), or a message (.eml) with one."),
    ] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Recompute the chain, its seals and the ledger of heads; name the first broken link (exit status
    1) if any event was edited, deleted, reordered or cut off, or a head deleted or rewound. With
    --witness, also prove that a head seen earlier is still in the record."""
    if every == (incident_id is not None):
        raise InputError(None, "INC", incident_id, "give an incident id or --all, not both or neither")
    if witness is not None and incident_id is None:
        raise InputError(None, "--witness", witness, "needs an incident id")
    app = make_app()
    if every:
        _verify_all(app, fmt)
        return
    assert incident_id is not None
    seen = _witness(witness, incident_id) if witness is not None else None
    with app.transaction() as session:
        if not known_stream(session, incident_id):
            raise UnknownIncident(incident_id)
        result = verify(session, incident_id)
        witness_problem = None if seen is None else prove_witness(session, incident_id, seen.digest, seen.seq)
    if fmt is TableOrJson.json:
        data = _result_json(result)
        if seen is not None:
            data["witness"] = {"seq": seen.seq, "hash": seen.digest, "source": seen.source}
            data["witness_problem"] = _problem_json(witness_problem)
        print(json.dumps(data))
    else:
        _print_result(result)
        if seen is not None:
            if witness_problem is None:
                shown = markup(f"{seen.seq or '?'}:{seen.digest} ({seen.source})")
                out.print(f"[green]ok[/green]: witness {shown} is in the record", highlight=False)
            else:
                err.print(
                    f"[bold red]witness not in the record[/bold red]: {markup(witness_problem.detail)}",
                    highlight=False,
                )
    if not result.ok or witness_problem is not None:
        raise typer.Exit(1)


def _verify_all(app: Any, fmt: TableOrJson) -> None:
    with app.transaction() as session:
        results, ledger = verify_all(session)
    ok = ledger.ok and all(r.ok for r in results)
    if fmt is TableOrJson.json:
        print(
            json.dumps(
                {
                    "ok": ok,
                    "ledger": {
                        "ok": ledger.ok,
                        "entries": ledger.entries,
                        "legacy_entries": ledger.legacy,
                        "final_hash": ledger.final_hash,
                        "problem": _problem_json(ledger.problem),
                    },
                    "incidents": [_result_json(r) for r in results],
                }
            )
        )
    else:
        if ledger.ok:
            shown = f"{ledger.entries} entries, chain intact, final hash {ledger.final_hash}"
            out.print(f"[green]ok[/green]: ledger: {shown}", highlight=False)
        else:
            err.print(f"[bold red]broken[/bold red]: ledger: {markup(ledger.problem)}", highlight=False)
        for result in results:
            _print_result(result)
        broken = sum(not r.ok for r in results)
        summary = f"{len(results)} records checked, {broken} broken" + (
            "" if ledger.ok else ", ledger broken"
        )
        (out if ok else err).print(summary, highlight=False)
    if not ok:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    incident_id: Annotated[str, typer.Argument(metavar="INC", callback=record_id)],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Default: <workspace>/evidence/INC.jsonl")
    ] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table for people, json for scripts.")] = (
        TableOrJson.table
    ),
) -> None:
    """Write the record as JSON Lines, one event per line with its hashes and seal, its final hash
    (FILE.sha256), and the witnesses found in the outbox (FILE.witnesses.json): the heads messages
    carried, each marked whether the record still holds it."""
    from breachops.notifications.witness import outbox_witnesses

    app = make_app()
    target = output or app.workspace / "evidence" / f"{incident_id}.jsonl"
    witnesses = outbox_witnesses(app.workspace / "outbox", incident_id)
    with app.transaction() as session:
        Repository(session).get_incident(incident_id)
        result = verify(session, incident_id)
        final = export(session, incident_id, target)
        found = [
            {
                "seq": w.seq,
                "hash": w.digest,
                "message_id": w.message_id,
                "date": w.date,
                "file": Path(w.source).name,
                "in_record": prove_witness(session, incident_id, w.digest, w.seq) is None,
            }
            for w in witnesses
        ]
    write_private(target.with_name(target.name + ".sha256"), f"{final}  {target.name}\n")
    write_private(
        target.with_name(target.name + ".witnesses.json"),
        json.dumps({"incident": incident_id, "witnesses": found}, indent=2) + "\n",
    )
    missing = [w for w in found if not w["in_record"]]
    if fmt is TableOrJson.json:
        summary = {"incident": incident_id, "file": str(target), "events": result.events, "final_hash": final}
        summary |= {"witnesses": len(found), "witnesses_not_in_record": len(missing), "chain_ok": result.ok}
        print(json_text(summary, indent=2))
    else:
        out.print(f"wrote {markup(target)} ({result.events} events, {len(found)} witnesses)", highlight=False)
        out.print(f"final hash {final}", highlight=False)
    if missing:
        err.print(
            f"[bold red]warning[/bold red]: {len(missing)} witness(es) not in the record, "
            f"first {missing[0]['seq']}:{missing[0]['hash']}",
            highlight=False,
        )
    if not result.ok:
        err.print(
            f"[bold red]warning[/bold red]: the chain is broken at {markup(result.problem)}", highlight=False
        )
    if missing or not result.ok:
        raise typer.Exit(1)

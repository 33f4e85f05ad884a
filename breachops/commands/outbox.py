"""`breachops outbox …` (what was queued and sent) and `breachops notify test` (is mail working?)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from breachops.commands.common import TableOrJson, err, make_app, out, record_id
from breachops.errors import InputError
from breachops.reports.tables import keep_whole
from breachops.store import Repository
from breachops.store.models import Message
from breachops.store.outbox_reads import find_message, list_messages
from breachops.textsafe import cell, json_text, markup

__all__ = ["notify_app", "outbox_app"]

outbox_app = typer.Typer(
    help="The outbox: every message, its key, attempts and status.", no_args_is_help=True
)
notify_app = typer.Typer(help="Mail delivery checks.", no_args_is_help=True)


def _summary(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "key": m.idempotency_key,
        "incident": m.incident_id,
        "kind": m.kind,
        "recipients": list(m.recipients),
        "subject": m.subject,
        "status": m.status,
        "channel": m.channel,
        "attempts": m.attempts,
        "created_at": m.created_at.isoformat(),
        "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        "not_before": m.not_before.isoformat() if m.not_before else None,
        "provider_message_id": m.provider_message_id,
        "last_error": m.last_error,
        "drill": m.drill,
    }


@outbox_app.command("list")
def outbox_list(
    incident: Annotated[str | None, typer.Option("--incident", metavar="INC", callback=record_id)] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Messages in the order they were queued (optionally of one incident)."""
    app = make_app()
    with app.transaction() as session:
        if incident:
            Repository(session).get_incident(incident)  # an unknown id is refused, not an empty list
        rows = [_summary(m) for m in list_messages(session, incident)]
    if fmt is TableOrJson.json:
        print(json_text(rows, indent=2))
        return
    table = Table("id", "incident", "kind", "to", "status", "tries", "subject")
    for r in rows:
        table.add_row(
            str(r["id"]), cell(r["incident"] or "-"), cell(r["kind"]), cell(", ".join(r["recipients"])),
            cell(r["status"]), str(r["attempts"]), cell(r["subject"]),
        )  # fmt: skip
    out.print(keep_whole(table))


@outbox_app.command("show")
def outbox_show(
    msg_id: Annotated[str, typer.Argument(metavar="MSG_ID", help="The message's number or its key")],
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """One message with its body and delivery record."""
    app = make_app()
    with app.transaction() as session:
        number = _message_number(msg_id)
        row = find_message(session, number=number, key=None if number is not None else msg_id)
        if row is None:
            raise InputError("MSG_ID", None, msg_id, "no message has this number or key", _LIST_HINT)
        data = _summary(row) | {"body_text": row.body_text}
    if fmt is TableOrJson.json:
        print(json_text(data, indent=2))
        return
    for name, value in data.items():
        if name != "body_text":
            out.print(f"[bold]{name:>20}[/bold]  {markup(value)}", highlight=False)
    out.print()
    out.print(cell(data["body_text"]), highlight=False)


_LIST_HINT = "See `breachops outbox list`."
_MAX_ID = 2**63 - 1  # the largest id a database integer column holds


def _message_number(msg_id: str) -> int | None:
    """The message number ``msg_id`` spells in ASCII digits, or None for a key."""
    if not (msg_id.isascii() and msg_id.isdigit()):
        return None
    if len(msg_id.lstrip("0")) > 19 or int(msg_id) > _MAX_ID:
        raise InputError("MSG_ID", None, msg_id, "no message has this number or key", _LIST_HINT)
    return int(msg_id)


@notify_app.command("test")
def notify_test(
    to: Annotated[str, typer.Option("--to", metavar="EMAIL")],
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table for people, json for scripts.")] = (
        TableOrJson.table
    ),
) -> None:
    """Send one test message through the configured channel, the way every message goes: queue, then
    dispatch. Exit status 1 if it was not accepted."""
    from breachops.notifications.outbox import dispatch, queue_test_message

    app = make_app()
    settings = app.mail_settings
    channel = app.channel()
    key = queue_test_message(app, to, settings.channel)
    report = dispatch(app, channel, sender=settings.mail_from, keys={key}, max_attempts=1)
    if fmt is TableOrJson.json:
        with app.transaction() as session:
            row = Repository(session).get_message_by_key(key)
            data = {"to": to, "channel": channel.name, "key": key, "sent": key in report.sent}
            data["error"] = None if key in report.sent or row is None else row.last_error
        print(json_text(data, indent=2))
        if not data["sent"]:
            raise typer.Exit(1)
        return
    if key in report.sent:
        out.print(f"[green]sent[/green] test message to {markup(to)} via {channel.name} (key {markup(key)})")
        return
    with app.transaction() as session:
        row = Repository(session).get_message_by_key(key)
        error = row.last_error if row is not None else "the message was not queued"
    err.print(f"[red]not sent[/red] via {channel.name}: {markup(error)}", highlight=False)
    raise typer.Exit(1)

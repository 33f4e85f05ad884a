"""Showing obligations to people and scripts: a table, a timeline picture, and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from breachops.config.agreements import Agreement
from breachops.config.coverage import gap_message
from breachops.deadlines.models import Assessment, Obligation
from breachops.reports.parties import contract_parties, parties_json
from breachops.reports.tables import keep_whole
from breachops.textsafe import cell, inert

__all__ = [
    "assessment_to_json",
    "audience_text",
    "countdown",
    "gap_lines",
    "iso_utc",
    "obligation_to_dict",
    "render_assessment",
    "render_warnings",
    "warning_lines",
]


def iso_utc(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def obligation_to_dict(o: Obligation, agreement: Agreement | None = None) -> dict[str, Any]:
    """One obligation for scripts; a contract duty also names the party that must act and the party
    to be told (``from_party``, ``to_party``; null for a law's duty)."""
    return {
        "rule": o.rule_id,
        "stage": o.stage,
        "jurisdiction": o.jurisdiction,
        "audience": o.audience,
        "recipient": o.recipient,
        "title": o.title,
        "due": iso_utc(o.due),
        "due_local": {zone: local.isoformat() for zone, local in o.local_due().items()},
        "basis": o.basis,
        "term": o.term,
        "window": o.window,
        "clock": o.clock_event,
        "clock_start": iso_utc(o.clock_start),
        "status": o.status,
        "citation": o.citation,
        "reason": o.reason,
        "source": o.source,
        "origin": o.origin,
        "confirmed": o.confirmed,
        "kind": o.kind,
        **parties_json(agreement, o.rule_id),
    }


def assessment_to_json(a: Assessment, agreement: Agreement | None = None) -> list[dict[str, Any]]:
    return [obligation_to_dict(o, agreement) for o in a.obligations]


def audience_text(audience: str, jurisdiction: str, rule_id: str, agreement: Agreement | None) -> str:
    """Who is told, on two or three lines: the audience, then the jurisdiction of a law's duty, or
    for a contract duty the party that must act and the party it tells (its jurisdiction is only the
    agreement's governing law)."""
    parties = contract_parties(agreement, rule_id)
    if parties is None:
        return f"{inert(audience)}\n{inert(jurisdiction)}"
    return f"{inert(audience)}\n{inert(parties.acting.label())}\n→ {inert(parties.told.label())}"


def countdown(due: datetime | None, now: datetime) -> str:
    """'in 2d 04h', '3h 10m overdue': the form a person scans in a list."""
    if due is None:
        return "clock not started"
    seconds = int((due - now).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{days}d {hours:02d}h" if days else f"{hours}h {minutes:02d}m"
    return f"{text} overdue" if late else f"in {text}"


def local_label(local: datetime, zone: str) -> str:
    """'Wed 25 Nov 00:40 -03 Sao Paulo': local time with its zone, short enough for a column."""
    city = zone.rsplit("/", 1)[-1].replace("_", " ")
    return f"{local:%a %d %b %H:%M} {local.tzname()} {city}"


def _due_text(o: Obligation) -> str:
    if o.due is None:
        return "clock not started"
    lines = [f"{o.due:%Y-%m-%d %H:%M} UTC" + (" (target)" if o.basis == "target" else "")]
    lines += [local_label(local, zone) for zone, local in o.local_due().items()]
    return "\n".join(lines)


def _due_style(o: Obligation, now: datetime) -> str:
    if o.due is None:
        return "dim"
    if o.due <= now:
        return "bold red"
    if o.due - now <= timedelta(hours=24):
        return "yellow"
    return ""


def obligations_table(a: Assessment, now: datetime, agreement: Agreement | None = None) -> Table:
    table = Table(title="Notification obligations, strictest first", show_lines=True, expand=False)
    table.add_column("due", no_wrap=True)
    table.add_column("countdown", no_wrap=True)
    table.add_column("to", no_wrap=True)
    table.add_column("obligation", ratio=1, min_width=24)
    table.add_column("why it applies", ratio=2, min_width=24)
    for o in a.obligations:
        style = _due_style(o, now)
        what = Text(f"{inert(o.title)}\n", style="bold")
        what.append(f"{inert(o.rule_id)} · {inert(o.stage)}", style="dim")
        if not o.confirmed:
            what.append("\nunconfirmed: check the source", style="magenta")
        table.add_row(
            Text(_due_text(o), style=style),
            Text(countdown(o.due, now), style=style),
            cell(audience_text(o.audience, o.jurisdiction, o.rule_id, agreement)),
            what,
            cell(f"{o.reason}" + (f"\nterm: {o.term}" if o.term else "")),
        )
    return keep_whole(table)


def timeline(a: Assessment, now: datetime, width: int = 60) -> Text:
    """A picture of the deadlines: one row per obligation, a bar from its clock start to its due time,
    `|` marking now. Reads faster than the table when five clocks run at once."""
    dated = [o for o in a.obligations if o.due is not None and o.clock_start is not None]
    text = Text()
    if not dated:
        return text
    start = min(min(o.clock_start for o in dated if o.clock_start), now)  # type: ignore[type-var]
    end = max(max(o.due for o in dated if o.due), now)  # type: ignore[type-var]
    span = max((end - start).total_seconds(), 1.0)

    def col(t: datetime) -> int:
        return min(width - 1, max(0, round((t - start).total_seconds() / span * (width - 1))))

    label_width = min(40, max(len(o.key) for o in dated), max(12, width // 2))
    width = max(20, width - label_width - 2)
    left, right = f"{start:%d %b %H:%M}Z", f"{end:%d %b %H:%M}Z"
    text.append(f"{'':{label_width}}  {left}{right:>{width - len(left)}}\n", "dim")
    now_col = col(now)
    for o in dated:
        assert o.due is not None and o.clock_start is not None
        a_col, b_col = col(o.clock_start), col(o.due)
        row = [" "] * width
        for i in range(a_col, b_col + 1):
            row[i] = "━"
        row[b_col] = "◆"
        style = "red" if o.due <= now else ("yellow" if o.basis == "target" else "cyan")
        line = Text(f"{inert(o.key)[:label_width]:<{label_width}}  ")
        for i, ch in enumerate(row):
            if i == now_col and ch == " ":
                line.append("│", "bold white")
            else:
                line.append(ch, "bold white" if i == now_col else style)
        text.append(line)
        text.append("\n")
    text.append(
        f"{'':{label_width}}  ◆ due  │ now ({now:%d %b %H:%M}Z)  yellow: target of an open term\n", "dim"
    )
    return text


def not_applicable_table(a: Assessment) -> Table:
    table = Table(title="Rules of these jurisdictions that do not apply", show_lines=False)
    table.add_column("rule")
    table.add_column("citation")
    table.add_column("why not", ratio=1)
    for n in a.not_applicable:
        table.add_row(cell(n.rule_id), cell(n.citation), cell(n.reason))
    return keep_whole(table)


def gap_lines(gaps: Sequence[str]) -> list[str]:
    """One line per jurisdiction the catalogue knows nothing of."""
    return [gap_message(code) for code in gaps]


def warning_lines(a: Assessment, notes: Sequence[str] = ()) -> list[str]:
    """Every warning of an assessment as plain lines (standard error for json and ics)."""
    return [*gap_lines(a.gaps), *a.warnings, *notes]


def render_warnings(console: Console, gaps: Sequence[str], warnings: Sequence[str] = ()) -> None:
    """A panel naming each gap (and each contradiction in the facts), before anything reassures."""
    if gaps:
        body = Text("\n".join(gap_lines(gaps)), style="bold")
        body.append(
            "\nNo obligation listed for these places is no reassurance: check their law, or add rules "
            "(or a no_duty record) for them.",
            style="default",
        )
        console.print(Panel(body, title="Jurisdictions without rules", border_style="red", expand=False))
    if warnings:
        console.print(
            Panel(
                Text("\n".join(warnings)), title="Facts that contradict", border_style="yellow", expand=False
            )
        )


def render_assessment(
    console: Console,
    a: Assessment,
    now: datetime,
    why_not: bool = True,
    notes: Sequence[str] = (),
    agreement: Agreement | None = None,
) -> None:
    render_warnings(console, a.gaps, a.warnings)
    for note in notes:
        console.print(Text(note, style="yellow"))
    if not a.obligations and a.gaps:
        console.print(
            "[bold]No obligation found among the rules known; the places above have none known.[/bold]"
        )
    elif not a.obligations:
        console.print("[bold]No notification obligation applies to these facts.[/bold]")
    else:
        console.print(obligations_table(a, now, agreement))
        console.print(Group(Text("Timeline", style="bold"), timeline(a, now, width=console.width - 1)))
    if why_not and a.not_applicable:
        console.print(not_applicable_table(a))

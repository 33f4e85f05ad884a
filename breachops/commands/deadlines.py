"""`breachops deadlines FACTS`: every notification duty an incident's facts trigger, strictest first.

It works anywhere: it reads files and writes nothing but the --output file.
"""

from __future__ import annotations

import io
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from breachops.commands.common import err, make_app, out, parse_now
from breachops.config.agreements import load_agreement
from breachops.config.yaml import read_yaml_stream
from breachops.deadlines.engine import assess
from breachops.deadlines.models import load_facts, parse_facts
from breachops.files import write_private
from breachops.reports.deadlines import assessment_to_json, render_assessment, warning_lines
from breachops.services.checks import check_fact_instants
from breachops.textsafe import cell, json_text

__all__ = ["DeadlineFormat", "deadlines"]


class DeadlineFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


def deadlines(
    facts_file: Annotated[
        Path,
        typer.Argument(
            metavar="FACTS", help="Facts of the incident (YAML or JSON; `-` reads standard input)."
        ),
    ],
    agreement: Annotated[
        Path | None,
        typer.Option("--agreement", "-a", help="agreement.yaml: adds the contract's notice windows."),
    ] = None,
    fmt: Annotated[
        DeadlineFormat, typer.Option("--format", help="table (people), json (scripts) or ics (calendars).")
    ] = DeadlineFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")
    ] = None,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Evaluate as of this instant (ISO 8601 with offset); default: now."),
    ] = None,
    why_not: Annotated[
        bool, typer.Option("--why-not/--no-why-not", help="Also list rules that do not apply, and why.")
    ] = True,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 3 when a jurisdiction of the facts has no rules (a gap)."),
    ] = False,
) -> None:
    """Every notification obligation that follows from an incident's facts, strictest first, with why.

    Jurisdictions the catalogue knows nothing of are named (a panel, or standard error for json and
    ics): their obligations are unknown, not absent."""
    app_ = make_app(workspace=False)  # reads files and writes nothing: works anywhere
    instant = parse_now(now, app_)
    if str(facts_file) == "-":
        facts = check_fact_instants(parse_facts(read_yaml_stream(source="<stdin>"), "<stdin>"), "<stdin>")
    else:
        facts = check_fact_instants(load_facts(facts_file), facts_file)
    notes: list[str] = []
    if agreement is None and (app_.workspace / "agreement.yaml").exists():
        # The contract's clocks are duties too: the workspace's agreement, as `incident open` uses it.
        agreement = app_.workspace / "agreement.yaml"
    elif agreement is None:
        notes.append("no agreement: contractual duties not included")
    agreement_ = load_agreement(agreement) if agreement else None
    result = assess(facts, app_.catalogue, now=instant, agreement=agreement_)
    if fmt is not DeadlineFormat.table:
        # Standard output stays parseable; what must not pass unseen goes to standard error.
        for line in warning_lines(result, notes):
            err.print(Text(f"warning: {line}"), soft_wrap=True)
    if fmt is DeadlineFormat.json:
        _emit(json_text(assessment_to_json(result, agreement_), indent=2) + "\n", output)
    elif fmt is DeadlineFormat.ics:
        from breachops.reports.ics import assessment_to_ics  # icalendar, for this format only

        name = facts_file.stem if str(facts_file) != "-" else "stdin"
        _emit(assessment_to_ics(result, incident=name).decode(), output)
    else:
        if output:
            buffer = io.StringIO()
            render_assessment(Console(file=buffer, width=160), result, instant, why_not, notes, agreement_)
            write_private(output, buffer.getvalue())
        else:
            render_assessment(out, result, instant, why_not, notes, agreement_)
    if output:
        err.print(cell(f"wrote {output}"))
    if strict and result.gaps:
        raise typer.Exit(3)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        write_private(output, text)

"""The command line: translates arguments into calls and results into tables, JSON or files.

Bad input exits with status 2 and one line naming the file, field and value; nothing is written.
"""

from __future__ import annotations

import difflib
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

try:  # recent Typer vendors click under a private name; earlier versions use click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]

from breachops.bootstrap import App
from breachops.commands.audit import audit_app
from breachops.commands.common import TableOrJson, err, make_app, out
from breachops.commands.drills import drill_app
from breachops.commands.incidents import incident_app, step_app
from breachops.commands.outbox import notify_app, outbox_app
from breachops.commands.runtime import init, serve
from breachops.config.agreements import load_agreement
from breachops.config.rules import Rule, load_rule_file, shipped_rule_files
from breachops.deadlines.engine import assess
from breachops.deadlines.models import load_facts, parse_facts
from breachops.errors import InputError
from breachops.flows.checks import check_fact_instants, check_instant
from breachops.reports.deadlines import assessment_to_json, render_assessment
from breachops.reports.ics import assessment_to_ics
from breachops.textsafe import cell, inert, json_text

__all__ = ["app", "main"]

app = typer.Typer(
    name="breachops",
    help="Breach response and incident drills for parties sharing confidential know-how.\n\n"
    "Start with `breachops deadlines FACTS --agreement agreement.yaml` to see every notification duty "
    "an incident triggers, strictest first.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
rules_app = typer.Typer(
    help="The rule catalogue: legal and contractual notification duties.", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")
app.add_typer(incident_app, name="incident")
app.add_typer(step_app, name="step")
app.add_typer(audit_app, name="audit")
app.add_typer(outbox_app, name="outbox")
app.add_typer(notify_app, name="notify")
app.add_typer(drill_app, name="drill")
app.command("init")(init)
app.command("serve")(serve)


class DeadlineFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


def _app() -> App:
    return make_app()


def _parse_now(value: str | None, app_: App) -> datetime:
    if value is None:
        return app_.clock.now()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            "--now", None, value, "is not an ISO 8601 datetime", "Example: 2026-03-28T09:00:00+01:00."
        ) from None
    if parsed.tzinfo is None:
        raise InputError("--now", None, value, "needs its UTC offset", "Example: 2026-03-28T09:00:00Z.")
    try:
        return check_instant("--now", None, parsed)
    except OverflowError:  # 0001-01-01 at +14:00 is before the first UTC instant Python has
        raise InputError("--now", None, value, "is outside 1900–2200", "Check the year.") from None


def _origin(rule: Rule) -> str:
    shipped = {str(p) for p in shipped_rule_files()}
    return f"shipped:{Path(rule.origin).name}" if rule.origin in shipped else rule.origin


def _rule_summary(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "jurisdiction": rule.jurisdiction,
        "citation": rule.citation,
        "audience": rule.audience,
        "recipient": rule.recipient,
        "stages": [
            {
                "name": s.name,
                "clock": s.clock,
                "after": s.after,
                "window": s.window.describe(),
                "cap": None if s.cap is None else f"{s.cap.window.describe()} from {s.cap.clock}",
            }
            for s in rule.stages
        ],
        "applies_when": rule.applies_when.model_dump(exclude_defaults=True),
        "in_force_from": rule.in_force_from.isoformat() if rule.in_force_from else None,
        "in_force_until": rule.in_force_until.isoformat() if rule.in_force_until else None,
        "source": rule.source,
        "reviewed": rule.reviewed.isoformat(),
        "confirmed": rule.confirmed,
        "notes": rule.notes,
        "origin": _origin(rule),
    }


@rules_app.command("list")
def rules_list(
    jurisdiction: Annotated[
        str | None,
        typer.Option("--jurisdiction", "-j", help="Only rules reaching this code (DE also shows EU rules)."),
    ] = None,
    fmt: Annotated[
        TableOrJson, typer.Option("--format", help="table for people, json for scripts.")
    ] = TableOrJson.table,
) -> None:
    """List the rules in force for this workspace, and the file each came from."""
    catalogue = _app().catalogue
    rules = list(catalogue)
    if jurisdiction:
        try:
            rules = catalogue.for_jurisdiction(jurisdiction)
        except ValueError as exc:
            raise InputError("--jurisdiction", None, jurisdiction, str(exc)) from None
    if fmt is TableOrJson.json:
        print(json_text([_rule_summary(r) for r in rules], indent=2))
        return
    table = Table(title=f"{len(rules)} rules over {len({r.jurisdiction for r in rules})} jurisdictions")
    for name in ("id", "where", "to", "window", "citation", "from"):
        table.add_column(name)
    for r in rules:
        windows = " / ".join(s.window.describe() for s in r.stages)
        citation = cell(r.citation)
        if not r.confirmed:
            citation.append(" (unconfirmed)", style="magenta")
        table.add_row(
            cell(r.id), cell(r.jurisdiction), cell(r.audience), cell(windows), citation, cell(_origin(r))
        )
    out.print(table)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[
        str, typer.Argument(metavar="ID", help="A rule id, as `breachops rules list` shows it.")
    ],
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Show one rule in full: its stages, conditions, dates in force, source and file."""
    catalogue = _app().catalogue
    rule = catalogue.get(rule_id)
    if rule is None:
        close = difflib.get_close_matches(rule_id, [r.id for r in catalogue], n=3)
        hint = f"Did you mean {', '.join(close)}?" if close else "See `breachops rules list`."
        raise InputError("ID", None, rule_id, "no rule has this id", hint)
    summary = _rule_summary(rule)
    if fmt is TableOrJson.json:
        print(json_text(summary, indent=2))
        return
    table = Table(title=cell(f"{rule.id}: {rule.title}"), show_header=False, show_lines=True)
    table.add_column(style="bold")
    table.add_column()
    for key, value in summary.items():
        shown: Any = value
        if key == "stages":
            shown = "\n".join(
                f"{s['name']}: {s['window']} "
                + (f"from {s['clock']}" if s["clock"] else f"after {s['after']}")
                + (f", and no later than {s['cap']}" if s["cap"] else "")
                for s in value
            )
        elif key == "applies_when":
            shown = ", ".join(f"{k}: {v}" for k, v in value.items()) or "always"
        table.add_row(key, cell(shown))
    out.print(table)


@rules_app.command("check")
def rules_check(files: Annotated[list[Path], typer.Argument(help="Rule files of your own (YAML).")]) -> None:
    """Validate rule files before listing them in the settings."""
    for path in files:
        rules = load_rule_file(path)
        out.print(cell(f"{path}: {len(rules)} rules valid"))


@app.command("deadlines")
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
) -> None:
    """Every notification obligation that follows from an incident's facts, strictest first, with why."""
    app_ = _app()
    instant = _parse_now(now, app_)
    if str(facts_file) == "-":
        facts = check_fact_instants(parse_facts(_stdin_facts(), "<stdin>"), "<stdin>")
    else:
        facts = check_fact_instants(load_facts(facts_file), facts_file)
    agreement_ = load_agreement(agreement) if agreement else None
    result = assess(facts, app_.catalogue, now=instant, agreement=agreement_)
    if fmt is DeadlineFormat.json:
        _emit(json_text(assessment_to_json(result), indent=2) + "\n", output)
    elif fmt is DeadlineFormat.ics:
        name = facts_file.stem if str(facts_file) != "-" else "stdin"
        _emit(assessment_to_ics(result, incident=name).decode(), output)
    else:
        console = Console(file=output.open("w", encoding="utf-8"), width=160) if output else out
        render_assessment(console, result, instant, why_not=why_not)
    if output:
        err.print(cell(f"wrote {output}"))


def _stdin_facts() -> Any:
    """Facts piped in, read as ``load_facts`` reads a file (timestamps kept as written)."""
    import yaml

    try:
        data = yaml.safe_load(sys.stdin.read())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(
            "<stdin>", None, None, f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        ) from None
    if isinstance(data, dict):
        data = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}
    return data


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning bad input into one clear line and exit status 2.

    Arguments are checked as text first (bytes that are not UTF-8 arrive as lone surrogates), and a
    usage error (an unknown option, a missing argument, a value of the wrong type) is one line too.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        check_arguments(args)
        code = app(args=args, prog_name="breachops", standalone_mode=False)
    except InputError as exc:
        _fail(str(exc))
    except click_errors.NoArgsIsHelpError:
        sys.exit(2)  # Typer has printed the help
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "breachops"
        _fail(f"{where}: {exc.format_message()}", f"See `{where} --help`.")
    except click_errors.ClickException as exc:
        _fail(exc.format_message())
    except typer.Abort:
        err.print("aborted", highlight=False)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def check_arguments(args: list[str]) -> None:
    """Refuse an argument that is not text: undecodable bytes, or a NUL (which no C string holds)."""
    for position, arg in enumerate(args, start=1):
        bad = next((c for c in arg if "\ud800" <= c <= "\udfff" or c == "\x00"), None)
        if bad is not None:
            problem = "is not valid UTF-8" if bad != "\x00" else "holds a NUL character"
            raise InputError(f"argument {position}", None, arg, problem, "Pass arguments as UTF-8 text.")


def _fail(message: str, hint: str | None = None) -> None:
    line = " ".join(inert(message).split()) + (f" {hint}" if hint else "")
    err.print(Text.assemble(("error:", "bold red"), " ", line), highlight=False, soft_wrap=True)
    sys.exit(2)

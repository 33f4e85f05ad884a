"""The command line: translates arguments into calls and results into tables, JSON or files.

Bad input exits with status 2 and one line naming the file, field and value; nothing is written.
"""

from __future__ import annotations

import difflib
import io
import json
import sys
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
from breachops.commands.agreements import agreement_app
from breachops.commands.audit import audit_app
from breachops.commands.background import restart, status, stop
from breachops.commands.common import TableOrJson, err, make_app, out, whole_lines
from breachops.commands.common import parse_now as _parse_now
from breachops.commands.drills import drill_app
from breachops.commands.incidents import incident_app, step_app
from breachops.commands.obligations import obligation_app
from breachops.commands.outbox import notify_app, outbox_app
from breachops.commands.rules import rules_diff, rules_review
from breachops.commands.runtime import init, serve
from breachops.commands.web import web
from breachops.config.agreements import load_agreement
from breachops.config.catalogue import check_versions
from breachops.config.coverage import Coverage
from breachops.config.rule_files import load_rule_document, shipped_rule_files
from breachops.config.rule_models import Rule
from breachops.config.yaml import read_yaml_stream
from breachops.deadlines.engine import assess
from breachops.deadlines.models import load_facts, parse_facts
from breachops.errors import InputError, ServiceUnavailable
from breachops.files import write_private
from breachops.reports.deadlines import assessment_to_json, render_assessment, warning_lines
from breachops.reports.ics import assessment_to_ics
from breachops.reports.tables import keep_whole
from breachops.services.checks import check_fact_instants
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
rules_app.command("review")(rules_review)
rules_app.command("diff")(rules_diff)
app.add_typer(incident_app, name="incident")
app.add_typer(step_app, name="step")
app.add_typer(obligation_app, name="obligation")
app.add_typer(audit_app, name="audit")
app.add_typer(agreement_app, name="agreement")
app.add_typer(outbox_app, name="outbox")
app.add_typer(notify_app, name="notify")
app.add_typer(drill_app, name="drill")
app.command("init")(init)
app.command("serve")(serve)
app.command("web")(web)
app.command("status")(status)
app.command("stop")(stop)
app.command("restart")(restart)


class DeadlineFormat(StrEnum):
    table = "table"
    json = "json"
    ics = "ics"


def _app() -> App:
    """``rules`` and ``deadlines`` work anywhere: they read files and write nothing."""
    return make_app(workspace=False)


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
        "replaces": rule.replaces,
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
    out.print(keep_whole(table))


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
    chain = catalogue.versions(rule)
    summary["versions"] = [_version(r) for r in chain] if len(chain) > 1 else []
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
        elif key == "versions":
            if not value:
                continue
            shown = "\n".join(
                ("→ " if v["id"] == rule.id else "  ") + f"{v['id']}: {v['in_force']}, {v['window']}"
                for v in value
            )
        table.add_row(key, cell(shown))
    out.print(keep_whole(table))


def _version(rule: Rule) -> dict[str, Any]:
    since, until = rule.in_force_from, rule.in_force_until
    if since and until:
        in_force = f"{since.isoformat()} to {until.isoformat()}"
    else:
        in_force = (
            f"from {since.isoformat()}" if since else f"until {until.isoformat()}" if until else "always"
        )
    return {
        "id": rule.id,
        "in_force": in_force,
        "window": " / ".join(s.window.describe() for s in rule.stages),
    }


@rules_app.command("check")
def rules_check(files: Annotated[list[Path], typer.Argument(help="Rule files of your own (YAML).")]) -> None:
    """Validate rule files (and their no-duty records) before listing them in the settings."""
    shipped = {r.id: r for path in shipped_rule_files() for r in load_rule_document(path).rules}
    for path in files:
        document = load_rule_document(path)
        # A version chain may run from a shipped rule to one of these.
        check_versions(list({**shipped, **{r.id: r for r in document.rules}}.values()))
        extra = f", {len(document.no_duty)} no-duty records" if document.no_duty else ""
        out.print(cell(f"{path}: {len(document.rules)} rules valid{extra}"))


@rules_app.command("coverage")
def rules_coverage(
    fmt: Annotated[
        TableOrJson, typer.Option("--format", help="table for people, json for scripts.")
    ] = TableOrJson.table,
) -> None:
    """What the catalogue knows of each jurisdiction: covered (a rule reaches it), no_duty (recorded as
    having no general breach-notification duty) or gap (nothing known: obligations there are unknown)."""
    app_ = _app()
    rows = Coverage(app_.catalogue).table(app_.clock.now().date())
    if fmt is TableOrJson.json:
        data = [
            {
                "jurisdiction": r.jurisdiction,
                "name": r.name,
                "status": r.status,
                "rules": r.rules,
                "reviewed": r.reviewed.isoformat() if r.reviewed else None,
            }
            for r in rows
        ]
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("covered", "no_duty", "gap")}
    table = Table(
        title=f"{len(rows)} jurisdictions: {counts['covered']} covered, {counts['no_duty']} no duty, "
        f"{counts['gap']} gaps"
    )
    for name in ("code", "name", "status", "rules", "oldest review", "why"):
        table.add_column(name)
    style = {"covered": "green", "no_duty": "cyan", "gap": "bold red"}
    for r in rows:
        table.add_row(
            r.jurisdiction,
            r.name,
            f"[{style[r.status]}]{r.status}[/{style[r.status]}]",
            str(r.rules),
            r.reviewed.isoformat() if r.reviewed else "—",
            r.why,
        )
    out.print(keep_whole(table))


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
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 3 when a jurisdiction of the facts has no rules (a gap)."),
    ] = False,
) -> None:
    """Every notification obligation that follows from an incident's facts, strictest first, with why.

    Jurisdictions the catalogue knows nothing of are named (a panel, or standard error for json and
    ics): their obligations are unknown, not absent."""
    app_ = _app()
    instant = _parse_now(now, app_)
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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning bad input into one clear line and exit status 2.

    Arguments are checked as text first (bytes that are not UTF-8 arrive as lone surrogates), and a
    usage error (an unknown option, a missing argument, a value of the wrong type) is one line too.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    whole_lines()
    try:
        check_arguments(args)
        code = app(args=args, prog_name="breachops", standalone_mode=False)
    except InputError as exc:
        _fail(str(exc))
    except ServiceUnavailable as exc:
        _fail(str(exc), status=1)
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


def _fail(message: str, hint: str | None = None, *, status: int = 2) -> None:
    line = " ".join(inert(message).split()) + (f" {hint}" if hint else "")
    err.print(Text.assemble(("error:", "bold red"), " ", line), highlight=False, soft_wrap=True)
    sys.exit(status)

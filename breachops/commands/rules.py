"""`breachops rules …`: the rule catalogue (list, show, check, coverage) and keeping it current
(review, diff).

Each works anywhere: they read files and write nothing. The reports exit 0 whatever they find, and 2
on bad input (naming file, field and value).
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from breachops.bootstrap import App
from breachops.commands.common import TableOrJson, make_app, out, parse_now
from breachops.config.catalogue import check_versions
from breachops.config.coverage import Coverage
from breachops.config.rule_diff import FieldChange, diff_rules, load_rule_set
from breachops.config.rule_files import load_rule_document, shipped_rule_files
from breachops.config.rule_models import Rule
from breachops.config.rule_review import parse_span, review
from breachops.errors import InputError
from breachops.reports.tables import keep_whole
from breachops.textsafe import cell, json_text

__all__ = ["rules_app"]

rules_app = typer.Typer(
    help="The rule catalogue: legal and contractual notification duties.", no_args_is_help=True
)


def _app() -> App:
    """``rules`` works anywhere: it reads files and writes nothing."""
    return make_app(workspace=False)


@rules_app.command("review")
def rules_review(
    older_than: Annotated[
        str, typer.Option("--older-than", help="A review is due after this span: 180d (default), 26w.")
    ] = "180d",
    now: Annotated[
        str | None, typer.Option("--now", help="Review as of this instant (ISO 8601 with offset).")
    ] = None,
    fmt: Annotated[
        TableOrJson, typer.Option("--format", help="table for people, json for scripts.")
    ] = TableOrJson.table,
) -> None:
    """Rules whose review is due, rules whose reading is not confirmed (and why), and announced
    amendments (a version that ends, or one that takes effect, after today)."""
    span = parse_span(older_than)
    app_ = _app()
    today = parse_now(now, app_).date()
    findings = review(app_.catalogue, today, span)
    if fmt is TableOrJson.json:
        print(json.dumps([f.to_json() for f in findings], indent=2, ensure_ascii=False))
        return
    counts = {k: sum(1 for f in findings if f.kind == k) for k in ("review_due", "unconfirmed", "amendment")}
    table = Table(
        title=f"As of {today}: {counts['review_due']} reviews due, {counts['unconfirmed']} unconfirmed, "
        f"{counts['amendment']} amendments announced"
    )
    for name in ("rule", "where", "kind", "reviewed", "detail"):
        table.add_column(name, overflow="fold")
    for f in findings:
        table.add_row(f.rule, f.jurisdiction, f.kind, f.reviewed.isoformat(), escape(f.detail))
    out.print(table)


@rules_app.command("diff")
def rules_diff(
    old: Annotated[Path, typer.Argument(metavar="OLD", help="A folder of rule files, or one rule file.")],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="A folder of rule files, or one rule file.")],
    fmt: Annotated[
        TableOrJson, typer.Option("--format", help="table for people, json for scripts.")
    ] = TableOrJson.table,
) -> None:
    """What changed from OLD to NEW: rules added, removed and changed field by field (window, clock,
    conditions, recipient, dates in force, source, ...), and no-duty records added or removed."""
    before, after = load_rule_set(old, "OLD"), load_rule_set(new, "NEW")
    diff = diff_rules(before, after)
    if fmt is TableOrJson.json:
        print(json.dumps(diff.to_json(after, before), indent=2, ensure_ascii=False))
        return
    if not diff:
        out.print("No difference in rules or no-duty records.")
        return
    table = Table(
        title=f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed; "
        f"no-duty records: {len(diff.no_duty_added)} added, {len(diff.no_duty_removed)} removed, "
        f"{len(diff.no_duty_changed)} changed"
    )
    for name in ("", "rule / jurisdiction", "field", "old", "new"):
        table.add_column(name, overflow="fold")
    for r in diff.added:
        table.add_row("[green]+[/green]", r.id, "", "", escape(f"{r.jurisdiction}: {r.title}"))
    for r in diff.removed:
        table.add_row("[red]-[/red]", r.id, "", escape(f"{r.jurisdiction}: {r.title}"), "")
    for rule_id, changes in diff.changed.items():
        _changed_rows(table, rule_id, changes)
    for n in diff.no_duty_added:
        table.add_row("[green]+[/green]", f"no_duty {n.jurisdiction}", "", "", escape(n.source))
    for n in diff.no_duty_removed:
        table.add_row("[red]-[/red]", f"no_duty {n.jurisdiction}", "", escape(n.source), "")
    for code, changes in diff.no_duty_changed.items():
        _changed_rows(table, f"no_duty {code}", changes)
    out.print(table)


def _changed_rows(table: Table, name: str, changes: list[FieldChange]) -> None:
    for index, change in enumerate(changes):
        table.add_row(
            "[yellow]~[/yellow]" if index == 0 else "",
            name if index == 0 else "",
            change.field,
            escape(_shown(change.old)),
            escape(_shown(change.new)),
        )


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _origin(rule: Rule) -> str:
    return f"shipped:{Path(rule.origin).name}" if rule.origin in _shipped() else rule.origin


@cache
def _shipped() -> frozenset[str]:
    """The shipped rule files, listed once rather than for each of the rules shown."""
    return frozenset(str(p) for p in shipped_rule_files())


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
        status = cell(r.status)
        status.stylize(style[r.status])  # the word, not its padding
        # Cells, not markup: a no-duty record's notes (the why) may come from a file of the user's.
        table.add_row(
            cell(r.jurisdiction),
            cell(r.name),
            status,
            cell(r.rules),
            cell(r.reviewed.isoformat() if r.reviewed else "—"),
            cell(r.why),
        )
    out.print(keep_whole(table))

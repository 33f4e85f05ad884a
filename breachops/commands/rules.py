"""`breachops rules review` and `breachops rules diff`: keeping the rule catalogue current.

Both are reports: they exit 0 whatever they find, and 2 on bad input (naming file, field and value).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from breachops.commands.common import TableOrJson, make_app, out, parse_now
from breachops.config.rule_diff import FieldChange, diff_rules, load_rule_set
from breachops.config.rule_review import parse_span, review

__all__ = ["rules_diff", "rules_review"]


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
    app_ = make_app(workspace=False)
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

"""`breachops agreement check`: validate an agreement before an incident depends on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from breachops.commands.common import TableOrJson, out
from breachops.config.agreements import load_agreement
from breachops.textsafe import cell

__all__ = ["agreement_app"]

agreement_app = typer.Typer(help="The technology-transfer agreement: parties, contacts, notice windows.")


@agreement_app.command("check")
def agreement_check(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="An agreement (YAML).")],
    fmt: Annotated[
        TableOrJson, typer.Option("--format", help="table for people, json for scripts.")
    ] = TableOrJson.table,
) -> None:
    """Validate an agreement exactly as `incident open` reads it: a bad one is one line naming the
    file, the field and the value (exit 2). Works anywhere; writes nothing."""
    agreement = load_agreement(file)
    parties = {key: party.name for key, party in agreement.parties.items()}
    summary: dict[str, Any] = {
        "file": str(file),
        "valid": True,
        "title": agreement.title,
        "parties": parties,
        "contacts": sum(len(p.contacts) for p in agreement.parties.values()),
        "notice_windows": [n.id for n in agreement.notice_windows],
    }
    if fmt is TableOrJson.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    listed = ", ".join(f"{key} ({name})" for key, name in parties.items())
    out.print(
        cell(
            f"{file}: valid ({agreement.title}): {len(agreement.parties)} parties: {listed}; "
            f"{summary['contacts']} contacts, {len(agreement.notice_windows)} notice windows"
        )
    )

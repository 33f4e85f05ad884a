"""What every command shares: the consoles, the output formats, the app, who is acting."""

from __future__ import annotations

import os
import sys
from enum import StrEnum

from rich.console import Console

from breachops.bootstrap import App, bootstrap
from breachops.textsafe import cell

__all__ = ["TableOrJson", "actor", "err", "make_app", "out", "say"]

# Piped output is read in files and terminals wider than Rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True)


class TableOrJson(StrEnum):
    table = "table"
    json = "json"


def make_app() -> App:
    return bootstrap()


def actor(by: str | None) -> str:
    """Who is acting, for the record: --by, else BREACHOPS_USER, else the login name."""
    return by or os.environ.get("BREACHOPS_USER") or os.environ.get("USER") or "cli"


def say(message: str) -> None:
    """Progress and notes go to standard error, so that standard output stays parseable."""
    err.print(cell(message, newlines=False, style="dim"), highlight=False, soft_wrap=True)

"""What every command shares: the consoles, the output formats, the app, who is acting."""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from rich.console import Console

from breachops.errors import InputError
from breachops.textsafe import cell

if TYPE_CHECKING:
    from breachops.bootstrap import App

__all__ = [
    "TableOrJson",
    "actor",
    "err",
    "make_app",
    "out",
    "parse_now",
    "record_id",
    "say",
    "whole_lines",
]


def whole_lines() -> None:
    """Make standard output reach its reader a whole line at a time, in step with standard error.

    Piped, Python holds standard output back in a block buffer while standard error goes out at
    once, so with both in one pipe (``2>&1 | tee log``) a note written to standard error could land
    after a line's first half and before its end. Line buffering passes on each line as it is
    printed, and :class:`_AfterOutput` flushes what is left before anything goes to standard error.
    """
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and not getattr(sys.stdout, "line_buffering", True):
        reconfigure(line_buffering=True)


class _AfterOutput:
    """Standard error (whichever stream ``sys.stderr`` is now), written only once standard output has
    been flushed, so that a note never cuts into a line of the result."""

    def write(self, text: str) -> int:
        sys.stdout.flush()
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()

    def fileno(self) -> int:
        return sys.stderr.fileno()

    @property
    def encoding(self) -> str:
        return getattr(sys.stderr, "encoding", None) or "utf-8"


# Piped output is read in files and terminals wider than Rich's 80-column default.
out = Console(width=None if sys.stdout.isatty() else 140)
err = Console(file=_AfterOutput(), stderr=True)  # type: ignore[arg-type]


class TableOrJson(StrEnum):
    table = "table"
    json = "json"


# Incident and drill ids as the store writes them: INC-2026-0001, DRL-2026-0001.
_RECORD_ID = re.compile(r"(?:inc|drl)-\d{4}-\d+", re.IGNORECASE | re.ASCII)


def record_id(value: str | None) -> str | None:
    """An incident or drill id as typed (``inc-2026-0001``) in the form the store keeps (upper case),
    so that ids match whatever their case; anything else is passed on unchanged to be refused there."""
    if value is not None and _RECORD_ID.fullmatch(value):
        return value.upper()
    return value


def make_app(*, workspace: bool = True) -> App:
    """The app for a command. ``workspace``: the command keeps records, so it refuses outside a
    workspace (one line, exit 2) before anything is created; only ``init``, ``deadlines`` and
    ``rules`` work anywhere."""
    # Imported here, as in parse_now: every command imports this module, and not all need an app.
    from breachops.bootstrap import bootstrap
    from breachops.config.workspace import NotInWorkspace, find_workspace

    if workspace and find_workspace() is None:
        raise NotInWorkspace()
    return bootstrap()


def actor(by: str | None) -> str:
    """Who is acting, for the record: --by, else BREACHOPS_USER, else the login name."""
    return by or os.environ.get("BREACHOPS_USER") or os.environ.get("USER") or "cli"


def say(message: str) -> None:
    """Progress and notes go to standard error, so that standard output stays parseable."""
    err.print(cell(message, newlines=False, style="dim"), highlight=False, soft_wrap=True)


def parse_now(value: str | None, app_: App) -> datetime:
    """``--now``: an ISO 8601 instant with its offset, within the years deadlines are counted in."""
    from breachops.config.values import MAX_YEAR, MIN_YEAR
    from breachops.services.checks import check_instant

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
        raise InputError(
            "--now", None, value, f"is outside {MIN_YEAR}–{MAX_YEAR}", "Check the year."
        ) from None

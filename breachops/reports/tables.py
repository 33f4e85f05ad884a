"""Tables you can copy from: no id or email is cut with an ellipsis, whatever the terminal's width."""

from __future__ import annotations

from rich.table import Table

__all__ = ["keep_whole"]


def keep_whole(table: Table) -> Table:
    """Fold what a column cannot fit onto its next line instead of cutting it (Rich cuts with "…" by
    default), so that every character of an id or an email is printed and the table still fits."""
    for column in table.columns:
        column.overflow = "fold"
    return table

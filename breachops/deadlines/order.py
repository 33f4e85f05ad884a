"""The one order in which obligations are shown: strictest (earliest due) first.

Shared by the engine's assessments and by anything listing stored obligations (`incident show`), so
that `deadlines` and an incident's page list the same duties in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

__all__ = ["strictest", "strictest_first"]

_NEVER = datetime.max.replace(tzinfo=UTC)


class Dated(Protocol):
    """An obligation as computed or as stored: both name their rule, stage and due time."""

    @property
    def due(self) -> datetime | None: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def stage(self) -> str: ...


D = TypeVar("D", bound=Dated)


def strictest(o: Dated) -> tuple[bool, datetime, str, str]:
    """Sort key: dated ones by due time, then those whose clock has not started; ties by rule, stage."""
    return (o.due is None, o.due or _NEVER, o.rule_id, o.stage)


def strictest_first(obligations: Iterable[D]) -> list[D]:
    return sorted(obligations, key=strictest)

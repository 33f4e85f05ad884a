"""What every repository shares: the caller's session, UTC checks, chunked IN lists, insert-or-ignore."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

__all__ = ["RepositoryBase", "aware", "chunks", "insert_ignore", "next_in_year"]

_T = TypeVar("_T")
_KEYS_PER_QUERY = 500  # databases cap a statement's parameters; a burst can be thousands of keys


@dataclass
class RepositoryBase:
    """Works inside the caller's transaction and never commits: a change and the audit event that
    records it are stored together or not at all."""

    session: Session


def chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    """``items`` in slices small enough for one IN list."""
    return (items[i : i + _KEYS_PER_QUERY] for i in range(0, len(items), _KEYS_PER_QUERY))


def aware(value: datetime, what: str) -> datetime:
    """``value`` in UTC; a naive datetime is refused, since its zone would be a guess."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{what}: naive datetime {value.isoformat()} refused: give it a zone (e.g. UTC)")
    return value.astimezone(UTC)


def insert_ignore(session: Session, model: Any, values: dict[str, Any]) -> None:
    """Insert the row unless its key is taken (then nothing happens), on every dialect."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(model).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(model).values(**values).on_conflict_do_nothing())
    else:
        try:
            with session.begin_nested():
                session.execute(insert(model).values(**values))
        except IntegrityError:
            pass


def next_in_year(session: Session, counter: Any, year: int) -> int:
    """The next number of ``year`` from a counter table (``year``, ``last_number``).

    The row is incremented in the caller's transaction and stays locked until it ends (PostgreSQL row
    lock; SQLite's write lock), so concurrent callers get consecutive numbers, and a rolled-back
    transaction gives its number back.
    """
    insert_ignore(session, counter, {"year": year, "last_number": 0})
    session.execute(update(counter).where(counter.year == year).values(last_number=counter.last_number + 1))
    return int(session.execute(select(counter.last_number).where(counter.year == year)).scalar_one())

"""The console's view of the audit ledger: whole every few minutes, on from its last sound walk between.

Each case is checked against a full walk (`audit verify`'s), which stays the reference.
"""

from __future__ import annotations

from sqlalchemy import event, text

from breachops.store.audit import verify_ledger
from breachops.store.database import session_factory
from breachops.store.ledger_watch import LedgerWatch

from .test_audit_attacks import A, B, _fill, _interleaved, _sql


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _seen(factory, watch: LedgerWatch):
    with factory() as session:
        return watch.current(session)


def _full(factory):
    with factory() as session:
        return verify_ledger(session)


def test_between_full_walks_only_new_entries_are_walked_and_the_answer_is_a_full_walks(factory):
    ticks = Ticks()
    watch = LedgerWatch(full_every=300, monotonic=ticks)
    _interleaved(factory)
    assert _seen(factory, watch) == _full(factory)
    _fill(factory, B, 3, 20)  # three more entries
    ticks.now = 10
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(factory.kw["bind"], "before_cursor_execute", record)
    try:
        seen = _seen(factory, watch)
    finally:
        event.remove(factory.kw["bind"], "before_cursor_execute", record)
    assert seen == _full(factory) and seen.entries == 12
    walked = [s for s in statements if "FROM audit_ledger" in s]
    assert walked and all("audit_ledger.seq >" in s for s in walked)  # from entry 10 on, not from 1


def test_a_broken_link_written_after_the_last_walk_is_caught_at_once(factory):
    ticks = Ticks()
    watch = LedgerWatch(full_every=300, monotonic=ticks)
    _interleaved(factory)
    assert _seen(factory, watch).ok
    _fill(factory, A, 1, 30)
    _sql(factory, "UPDATE audit_ledger SET prev_hash = 'x' WHERE seq = 10")
    ticks.now = 1
    assert _seen(factory, watch).problem.kind == "prev_hash_mismatch"
    _sql(factory, "DELETE FROM audit_ledger WHERE seq = 10")  # a problem is not kept: walked whole again
    ticks.now = 2
    assert _seen(factory, watch).problem == _full(factory).problem


def test_a_rewrite_of_an_entry_already_walked_shows_at_the_next_full_walk(factory):
    ticks = Ticks()
    watch = LedgerWatch(full_every=300, monotonic=ticks)
    _interleaved(factory)
    assert _seen(factory, watch).ok
    _sql(factory, "UPDATE audit_ledger SET last_hash = 'rewritten' WHERE seq = 3")
    ticks.now = 299
    assert _seen(factory, watch).ok  # within the interval: taken as walked
    ticks.now = 300
    found = _seen(factory, watch).problem
    assert found is not None and found.seq == 3 and found == _full(factory).problem


def test_a_transaction_that_began_before_the_last_walk_is_walked_whole_not_called_truncated(
    engine, factory, audit_key
):
    # The console's pages read in plain transactions: one that began before another page's walk sees
    # fewer entries (SQLite keeps its first snapshot), which is not the ledger cut short.
    readers = session_factory(engine.execution_options(read_only=True), audit_key=audit_key)
    watch = LedgerWatch(full_every=300, monotonic=Ticks())
    _interleaved(factory)
    with readers() as older:
        assert watch.current(older).entries == 9
        _fill(factory, B, 2, 40)  # written meanwhile by another process
        with readers() as newer:
            assert watch.current(newer).entries == 11
        again = watch.current(older)
        assert again.ok and again == verify_ledger(older)  # a full walk of the same view
    assert _seen(factory, watch).entries == 11


def test_nothing_written_since_is_a_walk_of_nothing(factory):
    watch = LedgerWatch(full_every=300, monotonic=Ticks())
    _interleaved(factory)
    first = _seen(factory, watch)
    assert _seen(factory, watch) == first
    with factory() as session:
        assert session.execute(text("SELECT count(*) FROM audit_ledger")).scalar() == first.entries

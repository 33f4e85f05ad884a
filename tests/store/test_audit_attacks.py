"""Each attack on the record by someone who can write to the database, reproduced and caught.

The attacker here holds the database (any SQL) but not the workspace's audit key, unless a test says
otherwise; ``docs/threat-model.md`` lists the same cases.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from breachops.config.audit_key import AuditKey
from breachops.store.audit import Entry, append, append_streams, heads_of, prove_witness, verify, verify_all
from breachops.store.audit_hashing import event_hash
from breachops.store.database import session_factory
from breachops.store.models import AuditEvent, AuditLedgerEntry

from .helpers import T0, forge_record

A = "INC-2026-0001"
B = "INC-2026-0002"
EDITED = '{"i":99}'


def _fill(factory, stream: str, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        with factory.begin() as session:
            append(session, stream, "fact.changed", {"i": i}, "alice", T0 + timedelta(minutes=i))


def _interleaved(factory) -> None:
    """A and B appended in turns, so neither's ledger entries are all at the ledger's end."""
    for i in range(4):
        _fill(factory, A, 1, i)
        _fill(factory, B, 1, i)
    _fill(factory, A, 1, 10)  # A is appended last: its newest ledger entry is the ledger's last


def _sql(factory, *statements: str, **params: object) -> None:
    with factory.begin() as session:
        for statement in statements:
            session.execute(text(statement), params)


def _verify(factory, stream: str = A):
    with factory() as session:
        return verify(session, stream)


def test_an_untouched_record_verifies_sealed_and_in_the_ledger(factory):
    _interleaved(factory)
    with factory() as session:
        results, ledger = verify_all(session)
        assert ledger.ok and ledger.entries == 9 and ledger.legacy == 0
        assert [(r.incident_id, r.ok, r.events, r.legacy) for r in results] == [
            (A, True, 5, 0),
            (B, True, 4, 0),
        ]
        assert all(e.mac for e in session.scalars(select(AuditEvent)))


def test_deleting_the_newest_events_with_the_head_row_is_caught_by_the_ledger(factory):
    _interleaved(factory)
    _sql(
        factory,
        "DELETE FROM audit_events WHERE incident_id = :s AND seq > 3",
        "DELETE FROM audit_heads WHERE incident_id = :s",
        s=B,
    )
    result = _verify(factory, B)
    assert result.problem.kind == "truncated" and result.problem.seq == 4
    assert "ledger entry" in result.problem.detail


def test_deleting_every_event_and_the_head_of_an_incident_is_caught(factory):
    _interleaved(factory)
    _sql(
        factory,
        "DELETE FROM audit_events WHERE incident_id = :s",
        "DELETE FROM audit_heads WHERE incident_id = :s",
        s=B,
    )
    assert _verify(factory, B).problem.kind == "truncated"
    with factory() as session:
        results, ledger = verify_all(session)
    assert ledger.ok
    assert {r.incident_id: r.ok for r in results} == {A: True, B: False}


def test_cutting_the_ledger_entries_of_the_deleted_events_breaks_the_ledger(factory):
    _interleaved(factory)
    _sql(
        factory,
        "DELETE FROM audit_events WHERE incident_id = :s AND seq > 2",
        "DELETE FROM audit_ledger WHERE incident_id = :s AND last_seq > 2",
        "UPDATE audit_heads SET last_seq = 2, last_hash = (SELECT hash FROM audit_events WHERE incident_id = :s AND seq = 2) WHERE incident_id = :s",
        s=B,
    )
    result = _verify(factory, B)
    assert result.problem.kind == "ledger_broken" and result.problem.where == "ledger entry"
    assert "missing seq" in result.problem.detail


def test_editing_an_event_and_recomputing_every_hash_head_and_ledger_fails_without_the_key(factory):
    _interleaved(factory)
    _sql(
        factory, """UPDATE audit_events SET payload = :p WHERE incident_id = :s AND seq = 2""", s=A, p=EDITED
    )
    forge_record(factory)  # every hash and head recomputed; the MACs cannot be
    result = _verify(factory, A)
    assert (result.problem.kind, result.problem.seq) == ("mac_mismatch", 2)
    assert "without the workspace's audit key" in result.problem.detail


def test_the_same_forgery_with_a_guessed_key_fails_too(factory):
    _interleaved(factory)
    _sql(
        factory, """UPDATE audit_events SET payload = :p WHERE incident_id = :s AND seq = 2""", s=A, p=EDITED
    )
    forge_record(factory, AuditKey(b"not the workspace key, a guess!!"))
    assert _verify(factory, A).problem.kind == "mac_mismatch"


def test_stripping_the_macs_after_a_forgery_is_caught_as_a_missing_seal(factory):
    _interleaved(factory)
    _sql(
        factory,
        "UPDATE audit_events SET payload = :p, mac = NULL WHERE incident_id = :s AND seq >= 3",
        s=A,
        p=EDITED,
    )
    forge_record(factory)
    result = _verify(factory, A)
    assert (result.problem.kind, result.problem.seq) == ("mac_missing", 3)


def test_rewinding_a_head_and_cutting_the_events_after_it_is_caught(factory):
    _interleaved(factory)
    with factory() as session:
        seq2 = session.execute(
            select(AuditEvent.hash).where(AuditEvent.incident_id == A, AuditEvent.seq == 2)
        ).scalar_one()
    _sql(
        factory,
        "DELETE FROM audit_events WHERE incident_id = :s AND seq > 2",
        "UPDATE audit_heads SET last_seq = 2, last_hash = :h WHERE incident_id = :s",
        s=A,
        h=seq2,
    )
    result = _verify(factory, A)
    assert (result.problem.kind, result.problem.seq) == ("truncated", 3)


def test_rewinding_only_the_head_row_is_caught(factory):
    _interleaved(factory)
    _sql(factory, "UPDATE audit_heads SET last_seq = 1 WHERE incident_id = :s", s=A)
    assert _verify(factory, A).problem.kind == "hash_mismatch"


def test_swapping_two_events_is_caught(factory):
    _interleaved(factory)
    _sql(
        factory,
        "UPDATE audit_events SET seq = -2 WHERE incident_id = :s AND seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE incident_id = :s AND seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE incident_id = :s AND seq = -2",
        s=A,
    )
    assert _verify(factory, A).problem.kind in ("reordered", "prev_hash_mismatch")
    forge_record(factory)  # relinked and rehashed in the new order: the seals give it away
    assert _verify(factory, A).problem.kind == "mac_mismatch"


def test_events_inserted_past_the_ledger_are_caught(factory, audit_key):
    _interleaved(factory)
    with factory() as session:
        last = session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == B).order_by(AuditEvent.seq.desc())
        ).first()
        at, prev = last.at + timedelta(minutes=1), last.hash
    digest = event_hash(prev, B, 5, at, "mallory", "fact.changed", {"i": 5})
    with factory.begin() as session:
        session.add(
            AuditEvent(
                incident_id=B,
                seq=5,
                at=at,
                actor="mallory",
                kind="fact.changed",
                payload='{"i":5}',
                prev_hash=prev,
                hash=digest,
                mac=audit_key.seal(digest),
            )
        )
        session.execute(
            text("UPDATE audit_heads SET last_seq = 5, last_hash = :h WHERE incident_id = :s"),
            {"h": digest, "s": B},
        )
    result = _verify(factory, B)
    assert (result.problem.kind, result.problem.seq) == ("not_in_ledger", 5)


def test_a_forger_holding_the_key_passes_verify_but_not_a_witness_seen_earlier(factory, audit_key):
    _interleaved(factory)
    with factory() as session:
        seen = heads_of(session, [A])[A]  # the head a message carried to the counterparty's mailbox
    _sql(
        factory, """UPDATE audit_events SET payload = :p WHERE incident_id = :s AND seq = 2""", s=A, p=EDITED
    )
    forge_record(factory, audit_key)
    assert _verify(factory, A).ok  # the documented limit: database and key together
    with factory() as session:
        problem = prove_witness(session, A, seen[1], seen[0])
    assert problem is not None and problem.kind == "witness_missing"
    assert "rewritten or cut back" in problem.detail


def test_a_witness_of_an_intact_record_is_proved(factory):
    _fill(factory, A, 3)
    with factory() as session:
        seq, digest = heads_of(session, [A])[A]
    _fill(factory, A, 2, 3)
    with factory() as session:
        assert prove_witness(session, A, digest, seq) is None
        assert prove_witness(session, A, digest) is None
        assert prove_witness(session, A, digest, seq + 1).kind == "witness_missing"


def test_events_without_a_key_verify_as_legacy_up_to_the_first_sealed_one(engine, factory):
    legacy = session_factory(engine)  # a workspace from before keys
    _fill(legacy, A, 3)
    _fill(factory, A, 2, 3)
    result = _verify(factory, A)
    assert result.ok and result.legacy == 3 and result.events == 5
    assert "seqs 1-3 legacy" in str(result)
    _fill(legacy, A, 1, 5)  # an unsealed event after sealed ones is not legacy: a seal was left off
    assert _verify(factory, A).problem.kind == "mac_missing"


def test_a_record_from_before_the_ledger_verifies_as_legacy(engine, factory):
    _fill(session_factory(engine), A, 2)
    _sql(factory, "DELETE FROM audit_ledger", "DELETE FROM audit_heads WHERE incident_id = '_ledger'")
    result = _verify(factory, A)
    assert result.ok and result.legacy == 2
    _fill(factory, A, 1, 2)  # the first sealed append enters the stream into the ledger
    assert _verify(factory, A).ok


def test_sealed_events_cannot_be_checked_without_the_key(engine, factory):
    _fill(factory, A, 2)
    with session_factory(engine)() as session:
        assert verify(session, A).problem.kind == "key_missing"


def test_a_deleted_head_row_is_rebuilt_and_the_record_still_verifies(factory):
    _fill(factory, A, 2)
    _sql(factory, "DELETE FROM audit_heads")
    _fill(factory, A, 1, 2)
    assert _verify(factory, A).ok


def test_a_burst_writes_one_ledger_entry_per_stream_and_verifies(factory):
    with factory.begin() as session:
        append_streams(
            session,
            {s: [Entry("message.sent", {"n": n}, "breachops", T0) for n in range(50)] for s in (A, B)},
        )
    with factory() as session:
        entries = list(session.scalars(select(AuditLedgerEntry).order_by(AuditLedgerEntry.seq)))
        assert [(e.incident_id, e.last_seq) for e in entries] == [(A, 50), (B, 50)]
        results, ledger = verify_all(session)
    assert ledger.ok and all(r.ok for r in results)


@pytest.mark.parametrize("mac", [None, "0" * 64])
def test_a_ledger_entry_stripped_or_forged_is_caught(factory, mac):
    _interleaved(factory)
    _sql(factory, "UPDATE audit_ledger SET mac = :m WHERE seq = 5", m=mac)
    _sql(factory, "UPDATE audit_ledger SET mac = NULL WHERE seq > 5") if mac is None else None
    with factory() as session:
        _, ledger = verify_all(session)
    assert ledger.problem.seq == 5
    assert ledger.problem.kind == ("mac_missing" if mac is None else "mac_mismatch")

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from breachops.errors import InputError
from breachops.store.audit import (
    GENESIS_HASH,
    Entry,
    append,
    append_many,
    append_streams,
    canonical_json,
    event_hash,
    export,
    verify,
)
from breachops.store.models import AuditEvent

from .helpers import T0, worker_append

STREAM = "INC-2026-0001"


def _fill(factory, count: int = 5, stream: str = STREAM) -> list[str]:
    hashes = []
    with factory.begin() as session:
        for i in range(count):
            event = append(
                session, stream, "fact.changed", {"i": i, "note": f"change {i}"}, "alice", T0 + timedelta(i)
            )
            hashes.append(event.hash)
    return hashes


def _sql(factory, *statements: str, **params: object) -> None:
    with factory.begin() as session:
        for statement in statements:
            session.execute(text(statement), params)


def _verify(factory, stream: str = STREAM):
    with factory() as session:
        return verify(session, stream)


def test_canonical_json_sorts_keys_drops_whitespace_and_writes_utc_with_z():
    at = datetime(2026, 3, 27, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert canonical_json({"b": 1, "a": [at, "é"]}) == '{"a":["2026-03-27T09:00:00Z","é"],"b":1}'
    assert canonical_json({"z": None, "y": (1, 2)}) == '{"y":[1,2],"z":null}'


def test_canonical_json_refuses_naive_datetimes_and_nan():
    with pytest.raises(ValueError, match="naive"):
        canonical_json({"at": datetime(2026, 1, 1)})
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_first_event_links_to_zeros_and_hash_is_sha256_of_prev_plus_canonical_body(factory):
    with factory.begin() as session:
        event = append(session, STREAM, "incident.opened", {"title": "Leak"}, "alice", T0)
        assert (event.seq, event.prev_hash) == (1, GENESIS_HASH)
        body = canonical_json(
            {
                "incident_id": STREAM,
                "seq": 1,
                "at": T0,
                "actor": "alice",
                "kind": "incident.opened",
                "payload": {"title": "Leak"},
            }
        )
        assert event.hash == hashlib.sha256((GENESIS_HASH + body).encode()).hexdigest()
        second = append(session, STREAM, "fact.changed", {}, "bob", T0)
        assert (second.seq, second.prev_hash) == (2, event.hash)


@pytest.mark.parametrize(
    "payload",
    [
        {"title": 'quote " backslash \\ and é 漢 \u2028 line'},
        {"ratio": 0.1, "big": 1e300, "neg": -0.0, "n": 2**70, "flag": False, "none": None},
        {"nested": {"z": [1, {"b": "x", "a": []}], "a": {}}, "at": T0},
        {},
    ],
)
def test_appended_hash_is_the_reference_hash_of_what_is_read_back(factory, payload):
    with factory.begin() as session:
        event = append(session, STREAM, "fact.changed", payload, 'actor "é"', T0)
    with factory() as session:
        stored = session.scalars(select(AuditEvent).where(AuditEvent.id == event.id)).one()
        again = event_hash(
            stored.prev_hash,
            STREAM,
            stored.seq,
            stored.at,
            stored.actor,
            stored.kind,
            json.loads(stored.payload),
        )
        assert stored.hash == again
    assert _verify(factory).ok


def test_intact_chain_verifies(factory):
    hashes = _fill(factory)
    result = _verify(factory)
    assert result.ok and result.problem is None
    assert (result.events, result.final_hash) == (5, hashes[-1])


def test_streams_are_independent(factory):
    _fill(factory, 3, "INC-2026-0001")
    _fill(factory, 2, "_system")
    assert _verify(factory, "INC-2026-0001").events == 3
    assert _verify(factory, "_system").events == 2


def test_altered_payload_is_named_at_its_seq(factory):
    _fill(factory)
    forged = '{"i":2,"note":"nothing happened"}'
    _sql(
        factory, f"UPDATE audit_events SET payload = :p WHERE incident_id = '{STREAM}' AND seq = 3", p=forged
    )
    result = _verify(factory)
    assert not result.ok
    assert (result.problem.seq, result.problem.kind) == (3, "payload_altered")
    assert "seq 3" in str(result)


def test_altered_actor_is_caught_as_altered_content(factory):
    _fill(factory)
    _sql(factory, f"UPDATE audit_events SET actor = 'mallory' WHERE incident_id = '{STREAM}' AND seq = 2")
    assert (_verify(factory).problem.seq, _verify(factory).problem.kind) == (2, "payload_altered")


def test_deleted_event_is_named_as_missing_seq(factory):
    _fill(factory)
    _sql(factory, f"DELETE FROM audit_events WHERE incident_id = '{STREAM}' AND seq = 3")
    problem = _verify(factory).problem
    assert (problem.seq, problem.kind) == (3, "missing_seq")


def test_deleting_the_newest_event_is_caught_by_the_head(factory):
    _fill(factory)
    _sql(factory, f"DELETE FROM audit_events WHERE incident_id = '{STREAM}' AND seq = 5")
    problem = _verify(factory).problem
    assert (problem.seq, problem.kind) == (5, "truncated")


def test_swapped_events_are_named_as_reordered(factory):
    _fill(factory)
    where = f"incident_id = '{STREAM}'"
    _sql(
        factory,
        f"UPDATE audit_events SET seq = -1 WHERE {where} AND seq = 2",
        f"UPDATE audit_events SET seq = 2 WHERE {where} AND seq = 3",
        f"UPDATE audit_events SET seq = 3 WHERE {where} AND seq = -1",
    )
    problem = _verify(factory).problem
    assert (problem.seq, problem.kind) == (2, "reordered")


def test_edited_hash_is_named_as_hash_mismatch(factory):
    _fill(factory)
    _sql(factory, f"UPDATE audit_events SET hash = '{'f' * 64}' WHERE incident_id = '{STREAM}' AND seq = 3")
    problem = _verify(factory).problem
    assert (problem.seq, problem.kind) == (3, "hash_mismatch")


def test_edited_prev_hash_is_named_as_prev_hash_mismatch(factory):
    _fill(factory)
    _sql(
        factory,
        f"UPDATE audit_events SET prev_hash = '{'e' * 64}' WHERE incident_id = '{STREAM}' AND seq = 4",
    )
    problem = _verify(factory).problem
    assert (problem.seq, problem.kind) == (4, "prev_hash_mismatch")


def test_first_of_several_breaks_is_named(factory):
    _fill(factory)
    _sql(
        factory,
        f"UPDATE audit_events SET actor = 'mallory' WHERE incident_id = '{STREAM}' AND seq = 4",
        f"DELETE FROM audit_events WHERE incident_id = '{STREAM}' AND seq = 2",
    )
    assert _verify(factory).problem.seq == 2


def test_export_writes_one_line_per_event_and_returns_the_final_hash(factory, tmp_path):
    hashes = _fill(factory, 7)
    path = tmp_path / "out" / "audit.jsonl"
    with factory() as session:
        final = export(session, STREAM, path)
        last = session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == STREAM).order_by(AuditEvent.seq.desc())
        ).first()
    assert final == hashes[-1] == last.hash
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 7
    events = [json.loads(line) for line in lines]
    assert [e["seq"] for e in events] == list(range(1, 8))
    assert events[-1]["hash"] == final and events[0]["prev_hash"] == GENESIS_HASH
    assert events[0]["at"].endswith("Z")


def test_export_can_be_checked_without_the_database(factory, tmp_path):
    _fill(factory, 4)
    path = tmp_path / "audit.jsonl"
    with factory() as session:
        final = export(session, STREAM, path)
    prev = GENESIS_HASH
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        body = {k: event[k] for k in ("incident_id", "seq", "at", "actor", "kind", "payload")}
        assert event["prev_hash"] == prev
        prev = hashlib.sha256((prev + canonical_json(body)).encode()).hexdigest()
        assert event["hash"] == prev
    assert prev == final


@pytest.mark.parametrize(
    "key", ["api_key", "Password", "SENDGRID_API_KEY", "token", "client_secret", "smtpPassword"]
)
def test_secret_like_payload_keys_are_refused_without_echoing_the_value(factory, key):
    with factory() as session:
        with pytest.raises(InputError, match="looks like a secret") as caught:
            append(session, STREAM, "config.changed", {"mail": {key: "hunter2"}}, "alice", T0)
        assert "hunter2" not in str(caught.value)
        assert f"payload.mail.{key}" in str(caught.value)
        session.rollback()
    assert _verify(factory).events == 0


def test_naive_event_time_is_refused(factory):
    with factory() as session, pytest.raises(ValueError, match="naive"):
        append(session, STREAM, "x", {}, "alice", datetime(2026, 1, 1))


def test_concurrent_thread_appends_make_one_linear_chain(factory):
    threads, per_thread = 6, 8
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def writer(name: str) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with factory.begin() as session:
                    append(session, STREAM, "test.event", {"writer": name, "i": i}, name, T0)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    result = _verify(factory)
    assert result.ok, str(result)
    assert result.events == threads * per_thread


def test_concurrent_process_appends_make_one_linear_chain(db_url, engine, factory):
    processes, per_process = 4, 10
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        pool.starmap(worker_append, [(db_url, STREAM, per_process, f"p{n}") for n in range(processes)])
    result = _verify(factory)
    assert result.ok, str(result)
    assert result.events == processes * per_process
    with factory() as session:
        seqs = session.scalars(select(AuditEvent.seq).where(AuditEvent.incident_id == STREAM)).all()
    assert sorted(seqs) == list(range(1, processes * per_process + 1))


def test_times_keep_microseconds_through_the_database(factory):
    at = datetime(2026, 3, 27, 9, 0, 0, 654321, tzinfo=UTC)
    with factory.begin() as session:
        append(session, STREAM, "x", {"at": at}, "alice", at)
    assert _verify(factory).ok


def test_appending_many_at_once_makes_the_chain_appending_one_by_one_makes(factory):
    hashes = _fill(factory, 2)  # a stream that already has events
    entries = [
        Entry("fact.changed", {"i": i, "note": f"change {i}"}, "alice", T0 + timedelta(i)) for i in (2, 3, 4)
    ]
    with factory() as session:  # one by one, then rolled back
        one_by_one = [append(session, STREAM, e.kind, e.payload, e.actor, e.at).hash for e in entries]
        session.rollback()
    with factory.begin() as session:
        events = append_many(session, STREAM, entries)
        assert [e.seq for e in events] == [3, 4, 5]
        assert events[0].prev_hash == hashes[-1]
        assert [e.hash for e in events] == one_by_one
    assert _verify(factory).ok
    with factory.begin() as session:
        assert append_many(session, STREAM, []) == []
        event = append(session, STREAM, "fact.changed", {"i": 5}, "bob", T0)
        assert (event.seq, event.prev_hash) == (6, one_by_one[-1])
    assert _verify(factory).ok


def test_appending_to_several_streams_at_once_makes_each_chain_appending_one_by_one_makes(factory):
    _fill(factory, 2, "INC-2026-0001")  # has events and a head
    _fill(factory, 3, "INC-2026-0003")
    _sql(factory, "DELETE FROM audit_heads WHERE incident_id = 'INC-2026-0003'")  # head lost by hand
    streams = {
        stream: [
            Entry("message.sent", {"n": n, "stream": stream}, "dispatcher", T0 + timedelta(n))
            for n in range(3)
        ]
        for stream in ("INC-2026-0003", "INC-2026-0001", "INC-2026-0002")  # 0002 is new
    }
    with factory() as session:  # one by one, then rolled back
        expected = {
            stream: [append(session, stream, e.kind, e.payload, e.actor, e.at).hash for e in entries]
            for stream, entries in streams.items()
        }
        session.rollback()
    with factory.begin() as session:
        written = append_streams(session, {**streams, "INC-2026-0004": []})
    assert {stream: [e.hash for e in events] for stream, events in written.items()} == {
        **expected,
        "INC-2026-0004": [],
    }
    assert [e.seq for e in written["INC-2026-0003"]] == [4, 5, 6]
    assert [e.seq for e in written["INC-2026-0002"]] == [1, 2, 3]
    for stream in streams:
        assert _verify(factory, stream).ok, stream


def test_appending_to_several_streams_recovers_from_an_event_written_past_a_head(factory):
    _fill(factory, 1, "INC-2026-0001")
    _fill(factory, 1, "INC-2026-0002")
    with factory.begin() as session:  # seq 2 of 0002 written without moving its head
        event = append(session, "INC-2026-0002", "fact.changed", {"i": 1}, "alice", T0)
        session.flush()
        session.execute(
            text("UPDATE audit_heads SET last_seq = 1, last_hash = :h WHERE incident_id = 'INC-2026-0002'"),
            {"h": event.prev_hash},
        )
    entries = [Entry("message.sent", {"n": 1}, "dispatcher", T0)]
    with factory.begin() as session:
        written = append_streams(session, {"INC-2026-0001": entries, "INC-2026-0002": entries})
    assert [e.seq for e in written["INC-2026-0001"]] == [2]
    assert [e.seq for e in written["INC-2026-0002"]] == [3]
    assert _verify(factory, "INC-2026-0001").ok and _verify(factory, "INC-2026-0002").ok

"""Checking the record: each stream's chain and seals, the ledger of heads, and witnesses seen earlier.

``verify`` walks one stream and the whole ledger; ``verify_all`` every stream and the ledger in one
pass. Each names the first broken link. Events written before the workspace had a key carry no MAC:
they verify as *legacy* up to a stream's first sealed event, and the result counts them; an unsealed
event after a sealed one is a break. ``docs/threat-model.md`` says which attack each check catches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from breachops.config.audit_key import AuditKey
from breachops.store.audit_hashing import (
    GENESIS_HASH,
    event_hash,
    ledger_hash,
    session_key,
    text_hash,
)
from breachops.store.models import LEDGER_HEAD, AuditEvent, AuditHead, AuditLedgerEntry, Incident

__all__ = [
    "LedgerResult",
    "Problem",
    "VerifyResult",
    "ledger_head",
    "verify",
    "verify_all",
    "verify_ledger",
]

ProblemKind = Literal[
    "payload_altered",
    "hash_mismatch",
    "prev_hash_mismatch",
    "missing_seq",
    "reordered",
    "truncated",
    "mac_mismatch",
    "mac_missing",
    "key_missing",
    "not_in_ledger",
    "ledger_mismatch",
    "ledger_broken",
    "witness_missing",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """The first broken link: where (a seq of the stream, or of the ledger) and what is wrong."""

    seq: int
    kind: ProblemKind
    detail: str
    where: str = "seq"

    def __str__(self) -> str:
        return f"{self.where} {self.seq}: {self.kind.replace('_', ' ')}: {self.detail}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    incident_id: str
    events: int
    final_hash: str
    problem: Problem | None = None
    legacy: int = 0  # events without a MAC, written before the workspace had a key

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __bool__(self) -> bool:
        return self.ok

    @property
    def legacy_note(self) -> str | None:
        if not self.legacy:
            return None
        span = "seq 1" if self.legacy == 1 else f"seqs 1-{self.legacy}"
        return f"{span} legacy: written before the workspace had an audit key, chained but not sealed"

    def __str__(self) -> str:
        if self.problem is not None:
            return f"{self.incident_id}: chain broken at {self.problem}"
        text = f"{self.incident_id}: {self.events} events, chain intact, final hash {self.final_hash}"
        return f"{text} ({self.legacy_note})" if self.legacy else text


@dataclass(frozen=True, slots=True)
class LedgerResult:
    """The ledger's own check, and the heads it names for each stream (in ledger order)."""

    entries: int
    final_hash: str
    problem: Problem | None = None
    legacy: int = 0
    heads: dict[str, list[tuple[int, int, str]]] = field(default_factory=dict)  # (ledger seq, seq, hash)

    @property
    def ok(self) -> bool:
        return self.problem is None


def _seal_problem(
    seq: int, mac: str | None, digest: str, key: AuditKey | None, sealed_before: bool, where: str
) -> Problem | None:
    """The MAC check of one event or ledger entry whose hash already matched its content."""
    if mac is None:
        if sealed_before:
            return Problem(
                seq, "mac_missing", "no MAC, though earlier ones carry one: its seal was stripped", where
            )
        return None
    if key is None:
        return Problem(
            seq, "key_missing", "sealed, and the workspace's audit key is not available to check it", where
        )
    if not key.check(digest, mac):
        return Problem(
            seq, "mac_mismatch",
            "the MAC does not match: written or rewritten without the workspace's audit key", where,
        )  # fmt: skip
    return None


def _content_matches(event: Any) -> bool:
    """Whether the event's hash is the hash of its content. The stored payload is canonical JSON (an
    append writes it so), so its text is hashed as it stands; only when that differs is the payload
    parsed and spelled canonically, the reference definition (``event_hash``)."""
    if (
        text_hash(
            event.prev_hash, event.incident_id, event.seq, event.at, event.actor, event.kind, event.payload
        )
        == event.hash
    ):
        return True
    try:
        payload = json.loads(event.payload)
    except ValueError:
        return False
    digest = event_hash(
        event.prev_hash, event.incident_id, event.seq, event.at, event.actor, event.kind, payload
    )
    return bool(digest == event.hash)


# Events and ledger entries are read as plain rows: verify reads every one, and ORM objects cost
# several times more to build than the checks themselves.
_EVENT_COLUMNS = (
    AuditEvent.incident_id, AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.kind,
    AuditEvent.payload, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.mac,
)  # fmt: skip
_LEDGER_COLUMNS = (
    AuditLedgerEntry.seq, AuditLedgerEntry.incident_id, AuditLedgerEntry.last_seq, AuditLedgerEntry.last_hash,
    AuditLedgerEntry.prev_hash, AuditLedgerEntry.hash, AuditLedgerEntry.mac,
)  # fmt: skip


def _walk_stream(
    incident_id: str, events: Sequence[Any], key: AuditKey | None, head: tuple[int, str] | None
) -> VerifyResult:
    """The stream's own checks. For each event, in this order: its seq follows the previous one (else
    an event was deleted); its prev_hash is the previous event's hash (else the events were reordered,
    when prev_hash names another event of the stream, or prev_hash was edited); its stored hash matches
    its content (else the content was altered, when the next event still links to the stored hash, or
    the hash itself was edited); its MAC matches its hash under the key (else the chain was recomputed
    by someone without the key). Last, the stream's head row, if any, must name the final event."""
    hashes = {event.hash: event.seq for event in events}
    previous_hash = GENESIS_HASH
    expected_seq = 1
    legacy = 0
    sealed = False

    def broken(seq: int, kind: ProblemKind, detail: str) -> VerifyResult:
        final = events[-1].hash if events else GENESIS_HASH
        return VerifyResult(incident_id, len(events), final, Problem(seq, kind, detail), legacy)

    for index, event in enumerate(events):
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                missing = (
                    f"seq {expected_seq}"
                    if event.seq == expected_seq + 1
                    else f"seqs {expected_seq}-{event.seq - 1}"
                )
                return broken(expected_seq, "missing_seq", f"{missing} missing: event deleted")
            return broken(event.seq, "reordered", f"seq {event.seq} appears after seq {expected_seq - 1}")
        following = events[index + 1] if index + 1 < len(events) else None
        if event.prev_hash != previous_hash:
            other = hashes.get(event.prev_hash)
            if other is not None and other != event.seq - 1:
                return broken(
                    event.seq,
                    "reordered",
                    f"this event was written after seq {other}, not after seq {event.seq - 1}",
                )
            return broken(event.seq, "prev_hash_mismatch", "prev_hash is not the previous event's hash")
        if not _content_matches(event):
            if following is not None and following.prev_hash == event.hash:
                return broken(
                    event.seq,
                    "payload_altered",
                    "the content (payload, kind, actor or time) no longer matches its hash",
                )
            return broken(event.seq, "hash_mismatch", "the stored hash does not match the event's content")
        seal = _seal_problem(event.seq, event.mac, event.hash, key, sealed, "seq")
        if seal is not None:
            return VerifyResult(incident_id, len(events), events[-1].hash, seal, legacy)
        if event.mac is None:
            legacy += 1
        else:
            sealed = True
        previous_hash = event.hash
        expected_seq += 1

    if head is not None and (head[0] != len(events) or head[1] != previous_hash):
        if head[0] > len(events):
            return broken(
                len(events) + 1,
                "truncated",
                f"the stream's head names seq {head[0]}: the newest events were deleted",
            )
        return broken(head[0], "hash_mismatch", "the stream's head does not match its last event")
    return VerifyResult(incident_id, len(events), previous_hash, None, legacy)


def _against_ledger(
    result: VerifyResult, events: Sequence[Any], named: Sequence[tuple[int, int, str]]
) -> VerifyResult:
    """The stream as the ledger remembers it: every head the ledger names must still be in the chain,
    and the last one must be its final event."""
    if not result.ok:
        return result
    count = len(events)

    def broken(seq: int, kind: ProblemKind, detail: str) -> VerifyResult:
        return VerifyResult(
            result.incident_id, count, result.final_hash, Problem(seq, kind, detail), result.legacy
        )

    if not named:
        if result.legacy < count:
            return broken(
                result.legacy + 1, "not_in_ledger",
                "sealed events of a stream the ledger has never seen: written past the ledger",
            )  # fmt: skip
        return result  # a legacy stream, from before the ledger
    highest = max(named, key=lambda item: item[1])
    if highest[1] > count:
        return broken(
            count + 1, "truncated",
            f"ledger entry {highest[0]} names seq {highest[1]}, the stream ends at seq {count}: "
            "the newest events were deleted (with the stream's head)",
        )  # fmt: skip
    for ledger_seq, seq, digest in named:
        if seq < 1 or events[seq - 1].hash != digest:
            return broken(
                seq, "ledger_mismatch",
                f"ledger entry {ledger_seq} names another hash for this seq: rewritten after it was written",
            )  # fmt: skip
    last = named[-1][1]
    if last != count:
        return broken(
            last + 1, "not_in_ledger",
            f"the ledger's last head of this stream is seq {last}: later events were written past it",
        )  # fmt: skip
    return result


def _walk_ledger(
    entries: Iterable[Any], key: AuditKey | None, head: tuple[int, str] | None, start: LedgerResult | None
) -> LedgerResult:
    """Walk ``entries`` in seq order, from the genesis or on from ``start`` (a sound walk's end)."""
    heads = {stream: list(named) for stream, named in start.heads.items()} if start else {}
    previous_hash = start.final_hash if start else GENESIS_HASH
    expected = start.entries + 1 if start else 1
    legacy = start.legacy if start else 0
    sealed = start is not None and start.entries > start.legacy  # once sealing began, all are sealed
    where = "ledger entry"

    def broken(seq: int, kind: ProblemKind, detail: str) -> LedgerResult:
        return LedgerResult(expected - 1, previous_hash, Problem(seq, kind, detail, where), legacy, heads)

    for entry in entries:
        if entry.seq != expected:
            return broken(
                expected, "missing_seq", f"ledger entries from {expected} to {entry.seq - 1} deleted"
            )
        if entry.prev_hash != previous_hash:
            return broken(entry.seq, "prev_hash_mismatch", "prev_hash is not the previous entry's hash")
        digest = ledger_hash(entry.prev_hash, entry.seq, entry.incident_id, entry.last_seq, entry.last_hash)
        if digest != entry.hash:
            return broken(entry.seq, "hash_mismatch", "the stored hash does not match the entry")
        seal = _seal_problem(entry.seq, entry.mac, entry.hash, key, sealed, where)
        if seal is not None:
            return LedgerResult(expected - 1, previous_hash, seal, legacy, heads)
        if entry.mac is None:
            legacy += 1
        else:
            sealed = True
        heads.setdefault(entry.incident_id, []).append((entry.seq, entry.last_seq, entry.last_hash))
        previous_hash = entry.hash
        expected += 1
    count = expected - 1
    if head is not None and (head[0] != count or head[1] != previous_hash):
        if head[0] > count:
            return broken(
                count + 1,
                "truncated",
                f"the ledger's head names entry {head[0]}: its newest entries were deleted",
            )
        return broken(head[0], "hash_mismatch", "the ledger's head does not match its last entry")
    return LedgerResult(count, previous_hash, None, legacy, heads)


def _head(session: Session, head_id: str) -> tuple[int, str] | None:
    row = session.execute(
        select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.incident_id == head_id)
    ).first()
    return None if row is None else (row.last_seq, row.last_hash)


def ledger_head(session: Session) -> tuple[int, str] | None:
    """(entries, last hash) as the ledger's head row names them, if it has one yet."""
    return _head(session, LEDGER_HEAD)


def verify_ledger(session: Session, since: LedgerResult | None = None) -> LedgerResult:
    """Walk the ledger in seq order: no entry missing, each linked, hashed and sealed, the head row at
    its end. ``since``: a sound walk of its first entries; only the entries after them are walked, on
    from its last hash (the entries it covered are taken as it found them)."""
    query = select(*_LEDGER_COLUMNS).order_by(AuditLedgerEntry.seq)
    if since is not None:
        query = query.where(AuditLedgerEntry.seq > since.entries)
    entries = session.execute(query).yield_per(5000)
    return _walk_ledger(entries, session_key(session), _head(session, LEDGER_HEAD), since)


def _with_ledger(result: VerifyResult, ledger: LedgerResult, events: Sequence[Any]) -> VerifyResult:
    if ledger.problem is not None:
        problem = ledger.problem
        detail = f"{problem.kind.replace('_', ' ')}: {problem.detail}"
        return VerifyResult(
            result.incident_id, result.events, result.final_hash,
            Problem(problem.seq, "ledger_broken", detail, problem.where), result.legacy,
        )  # fmt: skip
    return _against_ledger(result, events, ledger.heads.get(result.incident_id, []))


def verify(session: Session, incident_id: str, ledger: LedgerResult | None = None) -> VerifyResult:
    """Check one stream: its chain and seals (``_walk_stream``), then the ledger (or ``ledger``, a walk
    the caller made in this transaction), and the stream against every head the ledger names for it."""
    events = list(
        session.execute(
            select(*_EVENT_COLUMNS).where(AuditEvent.incident_id == incident_id).order_by(AuditEvent.seq)
        )
    )
    key = session_key(session)
    result = _walk_stream(incident_id, events, key, _head(session, incident_id))
    if not result.ok:
        return result
    ledger = ledger if ledger is not None else verify_ledger(session)
    if not events and incident_id not in ledger.heads and session.get(Incident, incident_id) is not None:
        return _emptied(incident_id)
    return _with_ledger(result, ledger, events)


def _emptied(incident_id: str) -> VerifyResult:
    return VerifyResult(
        incident_id, 0, GENESIS_HASH,
        Problem(1, "truncated", "the incident has no recorded events: its record was deleted"),
    )  # fmt: skip


def verify_all(session: Session) -> tuple[list[VerifyResult], LedgerResult]:
    """Every stream (each one with events, a head row, ledger entries or an incident record) and the
    ledger, in one pass over each table."""
    key = session_key(session)
    ledger = verify_ledger(session)
    heads = {
        row.incident_id: (row.last_seq, row.last_hash)
        for row in session.execute(select(AuditHead.incident_id, AuditHead.last_seq, AuditHead.last_hash))
    }
    by_stream: dict[str, list[AuditEvent]] = {}
    for event in session.scalars(
        select(AuditEvent).order_by(AuditEvent.incident_id, AuditEvent.seq)
    ).yield_per(5000):
        by_stream.setdefault(event.incident_id, []).append(event)
    streams = set(by_stream) | set(heads) | set(ledger.heads) | set(session.scalars(select(Incident.id)))
    streams.discard(LEDGER_HEAD)
    results = []
    for incident_id in sorted(streams):
        events = by_stream.get(incident_id, [])
        result = _walk_stream(incident_id, events, key, heads.get(incident_id))
        if result.ok and not events and incident_id not in ledger.heads:
            result = _emptied(incident_id)
        if result.ok:
            result = _with_ledger(result, ledger, events)
        results.append(result)
    return results, ledger

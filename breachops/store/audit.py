"""The tamper-evident record: one hash chain per stream (an incident id, or ``_system``), each event
sealed with the workspace's key, and one ledger of every stream's heads.

Events are appended in the caller's transaction, serialised per stream by locking its head and the
ledger's; ``append_many`` and ``append_streams`` write a batch under one head read and update, making
the chains one-by-one appends would make. How an append works: docs/audit-log.md; what the record
detects and what it does not: docs/threat-model.md.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from breachops.store.audit_evidence import export, known_stream, prove_witness
from breachops.store.audit_hashing import (
    GENESIS_HASH,
    canonical_json,
    event_hash,
    iso_utc,
    ledger_hash,
    refuse_secrets,
    session_key,
    text_hash,
    to_jsonable,
)
from breachops.store.audit_verify import (
    LedgerResult,
    Problem,
    VerifyResult,
    verify,
    verify_all,
    verify_ledger,
)
from breachops.store.base import insert_ignore
from breachops.store.models import LEDGER_HEAD, SYSTEM_STREAM, AuditEvent, AuditHead, AuditLedgerEntry

__all__ = [
    "GENESIS_HASH",
    "SYSTEM_STREAM",
    "Entry",
    "LedgerResult",
    "Problem",
    "VerifyResult",
    "append",
    "append_many",
    "append_streams",
    "canonical_json",
    "event_hash",
    "export",
    "heads_of",
    "iso_utc",
    "known_stream",
    "prove_witness",
    "refuse_secrets",
    "to_jsonable",
    "verify",
    "verify_all",
    "verify_ledger",
]

_APPEND_ATTEMPTS = 5


def _last_of(session: Session, head_id: str) -> tuple[int, str]:
    """The last (seq, hash) actually stored for a stream, or for the ledger."""
    if head_id == LEDGER_HEAD:
        row = session.execute(
            select(AuditLedgerEntry.seq, AuditLedgerEntry.hash).order_by(AuditLedgerEntry.seq.desc()).limit(1)
        ).first()
    else:
        row = session.execute(
            select(AuditEvent.seq, AuditEvent.hash)
            .where(AuditEvent.incident_id == head_id)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


def _insert_missing_heads(session: Session, head_ids: Sequence[str]) -> None:
    """Create the head row of each stream (or of the ledger) in ``head_ids``, from what is stored. A
    stream's head lost by hand is rebuilt so appends go on; the ledger still names where it was, and
    ``verify`` compares the two."""
    for head_id in head_ids:
        last_seq, last_hash = _last_of(session, head_id)
        # Another appender may create it first: then theirs stands.
        insert_ignore(
            session, AuditHead, {"incident_id": head_id, "last_seq": last_seq, "last_hash": last_hash}
        )


def heads_of(session: Session, incident_ids: Collection[str]) -> dict[str, tuple[int, str]]:
    """The current (seq, hash) of each stream that has a head: what outgoing messages carry as the
    witness of the record they were sent from."""
    if not incident_ids:
        return {}
    return {
        row.incident_id: (row.last_seq, row.last_hash)
        for row in session.execute(
            select(AuditHead.incident_id, AuditHead.last_seq, AuditHead.last_hash).where(
                AuditHead.incident_id.in_(sorted(incident_ids))
            )
        )
    }


def _lock_heads(session: Session, head_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    return {
        row.incident_id: (row.last_seq, row.last_hash)
        for row in session.execute(
            select(AuditHead.incident_id, AuditHead.last_seq, AuditHead.last_hash)
            .where(AuditHead.incident_id.in_(head_ids))
            .order_by(AuditHead.incident_id)  # one lock order for every appender
            .with_for_update()
        )
    }


@dataclass(frozen=True, slots=True)
class Entry:
    """One event to append: what :func:`append` takes, for :func:`append_many`."""

    kind: str
    payload: Mapping[str, Any]
    actor: str
    at: datetime


def append(
    session: Session, incident_id: str, kind: str, payload: Mapping[str, Any], actor: str, at: datetime
) -> AuditEvent:
    """Add the next event of ``incident_id``'s stream in the caller's transaction and return it.

    Refuses payload keys that look like secrets (api_key, password, token, secret, ...), and naive
    datetimes. The event is flushed, not committed: it lands with the change it records, or not at all.
    """
    return append_many(session, incident_id, [Entry(kind, payload, actor, at)])[0]


def append_many(session: Session, incident_id: str, entries: Sequence[Entry]) -> list[AuditEvent]:
    """Add ``entries`` to ``incident_id``'s stream in this order, as the same number of :func:`append`
    calls would (same seqs, same hashes), reading and moving the stream's head once for all of them."""
    return append_streams(session, {incident_id: entries})[incident_id]


def append_streams(session: Session, streams: Mapping[str, Sequence[Entry]]) -> dict[str, list[AuditEvent]]:
    """:func:`append_many` for several streams at once (a dispatcher's batch touches many incidents):
    the heads are read in one query and moved in one statement, the events go in together, and the
    ledger gets one entry per stream. Each stream's chain is the one its events appended one by one
    would make."""
    prepared: dict[str, list[tuple[Entry, str, datetime]]] = {}
    for incident_id, entries in streams.items():
        if not incident_id or incident_id == LEDGER_HEAD:
            raise ValueError(f"an audit event needs a stream: an incident id or {SYSTEM_STREAM!r}")
        items = prepared.setdefault(incident_id, [])
        for entry in entries:
            refuse_secrets(entry.payload)
            # Canonical JSON reads back to a value whose canonical JSON is the same text, so this is
            # what verify will hash.
            text = canonical_json(entry.payload)
            iso_utc(entry.at)  # refuses a naive instant with a clear message
            items.append((entry, text, entry.at.astimezone(UTC)))
    written: dict[str, list[AuditEvent]] = {incident_id: [] for incident_id in prepared}
    ids = [i for i, items in prepared.items() if items]  # events go in in the order given
    if not ids:
        return written
    key = session_key(session)
    seal = key.seal if key is not None else None
    locked = sorted([*ids, LEDGER_HEAD])
    last_error: IntegrityError | None = None
    for _ in range(_APPEND_ATTEMPTS):
        try:
            with session.begin_nested():
                heads = _lock_heads(session, locked)
                if len(heads) < len(locked):  # a new stream (or a head lost by hand): make its row
                    _insert_missing_heads(session, [i for i in locked if i not in heads])
                    heads = _lock_heads(session, locked)
                moves = []
                ledger = []
                ledger_seq, ledger_prev = heads[LEDGER_HEAD]
                for incident_id in ids:
                    seq, prev_hash = heads[incident_id]
                    for entry, text, at in prepared[incident_id]:
                        seq += 1
                        digest = text_hash(prev_hash, incident_id, seq, at, entry.actor, entry.kind, text)
                        written[incident_id].append(
                            AuditEvent(
                                incident_id=incident_id, seq=seq, at=at, actor=entry.actor, kind=entry.kind,
                                payload=text, prev_hash=prev_hash, hash=digest,
                                mac=None if seal is None else seal(digest),
                            )
                        )  # fmt: skip
                        prev_hash = digest
                    moves.append({"incident_id": incident_id, "last_seq": seq, "last_hash": prev_hash})
                    ledger_seq += 1
                    entry_hash = ledger_hash(ledger_prev, ledger_seq, incident_id, seq, prev_hash)
                    ledger.append(
                        {
                            "seq": ledger_seq, "incident_id": incident_id, "last_seq": seq,
                            "last_hash": prev_hash, "prev_hash": ledger_prev, "hash": entry_hash,
                            "mac": None if seal is None else seal(entry_hash),
                        }
                    )  # fmt: skip
                    ledger_prev = entry_hash
                moves.append({"incident_id": LEDGER_HEAD, "last_seq": ledger_seq, "last_hash": ledger_prev})
                session.add_all([event for incident_id in ids for event in written[incident_id]])
                session.flush()
                session.execute(insert(AuditLedgerEntry), ledger)
                session.execute(update(AuditHead), moves)  # by primary key, one statement for all
            return written
        except IntegrityError as exc:
            # Someone wrote these seqs without going through a head: resynchronise the heads and retry.
            last_error = exc
            written = {incident_id: [] for incident_id in prepared}
            for head_id in locked:
                last_seq, last_hash = _last_of(session, head_id)
                session.execute(
                    update(AuditHead)
                    .where(AuditHead.incident_id == head_id)
                    .values(last_seq=last_seq, last_hash=last_hash)
                )
    raise RuntimeError(
        f"could not append to audit streams {', '.join(ids)} after {_APPEND_ATTEMPTS} tries"
    ) from (last_error)

"""The tamper-evident record: one hash chain per stream (an incident id, or ``_system``).

Each event's hash is ``sha256(prev_hash + canonical_json({incident_id, seq, at, actor, kind,
payload}))`` in hex; the first event's prev_hash is 64 zeros. Changing, deleting or reordering any
stored event breaks a link that ``verify`` names; ``export`` writes the chain as JSON Lines and returns
the final hash, which a person can keep elsewhere (a ticket, an email) as an anchor.

Appends are serialised per stream: the stream's ``audit_heads`` row is locked (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite's write transaction already serialises), and the unique
(incident_id, seq) is the last line of defence, with a retry. ``append_many`` writes several events
of one stream under one head read and one head update, and ``append_streams`` several streams' under
one read and one update of all their heads (the dispatcher's batches); the chains they make are the
ones the same events appended one by one would make.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path, PurePath
from typing import Any, Literal

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from breachops.errors import InputError
from breachops.store.models import SYSTEM_STREAM, AuditEvent, AuditHead

__all__ = [
    "GENESIS_HASH",
    "SYSTEM_STREAM",
    "Entry",
    "Problem",
    "VerifyResult",
    "append",
    "append_many",
    "append_streams",
    "canonical_json",
    "event_hash",
    "export",
    "iso_utc",
    "refuse_secrets",
    "to_jsonable",
    "verify",
]

GENESIS_HASH = "0" * 64
_APPEND_ATTEMPTS = 5
# Key names that look like credentials. Matched case-insensitively anywhere in a key, at any depth.
_SECRET_KEY = re.compile(r"api[_-]?key|passw(or)?d|token|secret|credential|private[_-]?key", re.IGNORECASE)


def iso_utc(value: datetime) -> str:
    """An aware instant as ISO 8601 in UTC with ``Z`` (microseconds only when there are some)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: give it a zone (e.g. UTC)")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_jsonable(value: Any) -> Any:
    """Plain JSON values for what the store keeps: aware datetimes → ISO UTC with Z, dates → ISO,
    tuples and sets → lists (sets sorted), enums → their value, pydantic models and dataclasses →
    their fields. Anything else that JSON cannot hold is refused rather than stringified."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be stored as JSON")
        return value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {key!r}")
            out[key] = to_jsonable(item)
        return out
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(item) for item in value), key=lambda v: json.dumps(v, sort_keys=True))
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return to_jsonable(model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def canonical_json(obj: Any) -> str:
    """One spelling per value: keys sorted, no whitespace, non-ASCII kept as is (hash its UTF-8),
    datetimes as ISO 8601 UTC with Z. Equal values give equal text, so equal hashes."""
    return json.dumps(
        to_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def event_hash(
    prev_hash: str, incident_id: str, seq: int, at: datetime, actor: str, kind: str, payload: Any
) -> str:
    """SHA-256 of the previous hash followed by the canonical JSON of the event (its incident id, seq,
    time, actor, kind and payload)."""
    return _text_hash(prev_hash, incident_id, seq, at, actor, kind, canonical_json(payload))


def _text_hash(
    prev_hash: str, incident_id: str, seq: int, at: datetime, actor: str, kind: str, payload_text: str
) -> str:
    """:func:`event_hash` of a payload already in canonical JSON. The event's canonical JSON is spelled
    out in key order around that text, so an append does not walk the payload a second time."""
    body = (
        f'{{"actor":{_json_string(actor)},"at":"{iso_utc(at)}","incident_id":{_json_string(incident_id)},'
        f'"kind":{_json_string(kind)},"payload":{payload_text},"seq":{seq}}}'
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _json_string(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return json.dumps(value, ensure_ascii=False)


def refuse_secrets(payload: Any, path: str = "payload") -> None:
    """Raise InputError naming the first key that looks like a secret (the value is never shown)."""
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            here = f"{path}.{key}"
            if isinstance(key, str) and _SECRET_KEY.search(key):
                # The value is never echoed: it may be the secret itself.
                raise InputError(
                    "audit event",
                    here,
                    None,
                    f"key {key!r} looks like a secret, and secrets are never written to the audit log",
                    "Leave it out, or record where the secret is kept (e.g. the name of an environment "
                    "variable) under a key that does not look like one.",
                )
            refuse_secrets(value, here)
    elif isinstance(payload, list | tuple):
        for index, value in enumerate(payload):
            refuse_secrets(value, f"{path}[{index}]")


def _insert_missing_heads(session: Session, incident_ids: Sequence[str]) -> None:
    """Create the head row of each stream that has none; a head lost by hand is rebuilt from the events."""
    present = set(
        session.scalars(select(AuditHead.incident_id).where(AuditHead.incident_id.in_(incident_ids)))
    )
    for incident_id in incident_ids:
        if incident_id in present:
            continue
        last = session.execute(
            select(AuditEvent.seq, AuditEvent.hash)
            .where(AuditEvent.incident_id == incident_id)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).first()
        values = {
            "incident_id": incident_id,
            "last_seq": last.seq if last else 0,
            "last_hash": last.hash if last else GENESIS_HASH,
        }
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(pg_insert(AuditHead).values(**values).on_conflict_do_nothing())
        elif dialect == "sqlite":
            session.execute(sqlite_insert(AuditHead).values(**values).on_conflict_do_nothing())
        else:
            try:
                with session.begin_nested():
                    session.execute(insert(AuditHead).values(**values))
            except IntegrityError:
                pass  # another appender created it first


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
    the heads are read in one query and moved in one statement, and the events go in together. Each
    stream's chain is the one its events appended one by one would make."""
    prepared: dict[str, list[tuple[Entry, str, datetime]]] = {}
    for incident_id, entries in streams.items():
        if not incident_id:
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
    last_error: IntegrityError | None = None
    for _ in range(_APPEND_ATTEMPTS):
        try:
            with session.begin_nested():
                _insert_missing_heads(session, sorted(ids))
                heads = {
                    row.incident_id: (row.last_seq, row.last_hash)
                    for row in session.execute(
                        select(AuditHead.incident_id, AuditHead.last_seq, AuditHead.last_hash)
                        .where(AuditHead.incident_id.in_(ids))
                        .order_by(AuditHead.incident_id)  # one lock order for every appender
                        .with_for_update()
                    )
                }
                moves = []
                for incident_id in ids:
                    seq, prev_hash = heads[incident_id]
                    for entry, text, at in prepared[incident_id]:
                        seq += 1
                        digest = _text_hash(prev_hash, incident_id, seq, at, entry.actor, entry.kind, text)
                        written[incident_id].append(
                            AuditEvent(
                                incident_id=incident_id, seq=seq, at=at, actor=entry.actor, kind=entry.kind,
                                payload=text, prev_hash=prev_hash, hash=digest,
                            )
                        )  # fmt: skip
                        prev_hash = digest
                    moves.append({"incident_id": incident_id, "last_seq": seq, "last_hash": prev_hash})
                session.add_all([event for incident_id in ids for event in written[incident_id]])
                session.flush()
                session.execute(update(AuditHead), moves)  # by primary key, one statement for all
            return written
        except IntegrityError as exc:
            # Someone wrote these seqs without going through a head: resynchronise the heads and retry.
            last_error = exc
            written = {incident_id: [] for incident_id in prepared}
            for incident_id in ids:
                session.execute(
                    update(AuditHead)
                    .where(AuditHead.incident_id == incident_id)
                    .values(
                        last_seq=_max_seq(session, incident_id), last_hash=_last_hash(session, incident_id)
                    )
                )
    raise RuntimeError(
        f"could not append to audit streams {', '.join(ids)} after {_APPEND_ATTEMPTS} tries"
    ) from (last_error)


def _max_seq(session: Session, incident_id: str) -> int:
    rows = session.execute(
        select(AuditEvent.seq)
        .where(AuditEvent.incident_id == incident_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return rows.seq if rows else 0


def _last_hash(session: Session, incident_id: str) -> str:
    row = session.execute(
        select(AuditEvent.hash)
        .where(AuditEvent.incident_id == incident_id)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    return row.hash if row else GENESIS_HASH


ProblemKind = Literal[
    "payload_altered", "hash_mismatch", "prev_hash_mismatch", "missing_seq", "reordered", "truncated"
]


@dataclass(frozen=True, slots=True)
class Problem:
    """The first broken link: where (seq) and what is wrong."""

    seq: int
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.kind.replace('_', ' ')}: {self.detail}"


@dataclass(frozen=True, slots=True)
class VerifyResult:
    incident_id: str
    events: int
    final_hash: str
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.problem is None:
            return f"{self.incident_id}: {self.events} events, chain intact, final hash {self.final_hash}"
        return f"{self.incident_id}: chain broken at {self.problem}"


def _recompute(event: AuditEvent) -> str | None:
    try:
        payload = json.loads(event.payload)
    except ValueError:
        return None
    return event_hash(
        event.prev_hash, event.incident_id, event.seq, event.at, event.actor, event.kind, payload
    )


def verify(session: Session, incident_id: str) -> VerifyResult:
    """Walk the stream in seq order and name the first broken link, if any.

    Checked for each event, in this order: its seq follows the previous one (else an event was
    deleted); its prev_hash is the previous event's hash (else the events were reordered, when
    prev_hash names another event of the stream, or prev_hash was edited); its stored hash matches its
    content (else the content was altered, when the next event still links to the stored hash, or the
    hash itself was edited). Last, the stream's head must name the final event (else events were cut
    off the end).
    """
    events = list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == incident_id).order_by(AuditEvent.seq)
        )
    )
    hashes = {event.hash: event.seq for event in events}
    previous_hash = GENESIS_HASH
    expected_seq = 1

    def broken(seq: int, kind: ProblemKind, detail: str) -> VerifyResult:
        return VerifyResult(
            incident_id, len(events), events[-1].hash if events else GENESIS_HASH, Problem(seq, kind, detail)
        )

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
        if _recompute(event) != event.hash:
            if following is not None and following.prev_hash == event.hash:
                return broken(
                    event.seq,
                    "payload_altered",
                    "the content (payload, kind, actor or time) no longer matches its hash",
                )
            return broken(event.seq, "hash_mismatch", "the stored hash does not match the event's content")
        previous_hash = event.hash
        expected_seq += 1

    head = session.execute(
        select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.incident_id == incident_id)
    ).first()
    if head is not None and (head.last_seq != len(events) or head.last_hash != previous_hash):
        if head.last_seq > len(events):
            return broken(
                len(events) + 1,
                "truncated",
                f"the stream's head names seq {head.last_seq}: the newest events were deleted",
            )
        return broken(head.last_seq, "hash_mismatch", "the stream's head does not match its last event")
    return VerifyResult(incident_id, len(events), previous_hash)


def export(session: Session, incident_id: str, path: str | Path) -> str:
    """Write the stream as JSON Lines (one event per line, in seq order, with prev_hash and hash) and
    return the final hash. Written to a temporary file first, so a reader never sees half a chain."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    final = GENESIS_HASH
    with tmp.open("w", encoding="utf-8", newline="\n") as out:
        for event in session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == incident_id).order_by(AuditEvent.seq)
        ):
            line = {
                "incident_id": event.incident_id,
                "seq": event.seq,
                "at": event.at,
                "actor": event.actor,
                "kind": event.kind,
                "payload": json.loads(event.payload),
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
            out.write(canonical_json(line) + "\n")
            final = event.hash
    tmp.replace(target)
    return final

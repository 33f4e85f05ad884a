"""Evidence from the record: the JSON Lines export, and the proof that a head seen earlier (a witness
in a message) is still in it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from breachops.files import private_file
from breachops.store.audit_hashing import GENESIS_HASH, canonical_json
from breachops.store.audit_verify import Problem
from breachops.store.models import AuditEvent, AuditLedgerEntry, Incident

__all__ = ["any_sealed", "export", "known_stream", "prove_witness"]


def any_sealed(session: Session) -> bool:
    """Whether any audit event or ledger entry carries a seal (then the audit key must not be lost)."""
    for column in (AuditEvent.mac, AuditLedgerEntry.mac):
        if session.execute(select(column).where(column.is_not(None)).limit(1)).first():
            return True
    return False


def known_stream(session: Session, incident_id: str) -> bool:
    """Whether anything names this stream: an incident record, events or ledger entries (a stream whose
    incident record was deleted is still one to check)."""
    if session.get(Incident, incident_id) is not None:
        return True
    for column in (AuditEvent.incident_id, AuditLedgerEntry.incident_id):
        if session.execute(select(column).where(column == incident_id).limit(1)).first():
            return True
    return False


def prove_witness(session: Session, incident_id: str, digest: str, seq: int | None = None) -> Problem | None:
    """Whether a head seen earlier (in a message, a ticket) is still an event of the stream, at its seq.
    Proves the record up to that head was not rewritten since, by anyone, key or no key."""
    row = session.execute(
        select(AuditEvent.seq).where(AuditEvent.incident_id == incident_id, AuditEvent.hash == digest)
    ).first()
    shown = f"{seq}:{digest}" if seq is not None else digest
    if row is None:
        return Problem(
            seq or 0, "witness_missing",
            f"the head {shown} seen earlier is not in {incident_id}'s record: "
            "the record was rewritten or cut back after it was seen",
        )  # fmt: skip
    if seq is not None and row.seq != seq:
        return Problem(
            seq, "witness_missing", f"the hash {digest} seen at seq {seq} is now at seq {row.seq}: reordered"
        )
    return None


def export(session: Session, incident_id: str, path: str | Path) -> str:
    """Write the stream as JSON Lines (one event per line, in seq order, with prev_hash, hash and mac)
    and return the final hash. Written to a new private temporary file first (``files.py``), so a
    reader never sees half a chain and a planted symlink is never followed."""
    final = GENESIS_HASH
    with private_file(Path(path)) as out:
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
                "mac": event.mac,
            }
            out.write((canonical_json(line) + "\n").encode("utf-8"))
            final = event.hash
    return final

"""Builders shared by the store tests, and the workers that concurrency tests start in other processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from breachops.config.audit_key import AuditKey
from breachops.deadlines.models import Obligation
from breachops.store.audit import append
from breachops.store.audit_hashing import event_hash, ledger_hash
from breachops.store.database import make_engine, session_factory
from breachops.store.models import AuditEvent, AuditHead, AuditLedgerEntry
from breachops.store.repository import Repository

T0 = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
AGREEMENT = {"parties": {"disclosing": "Acme GmbH", "receiving": "Beta Ltd"}, "governing_law": "DE"}


def open_incident(repo: Repository, at: datetime = T0, **kw: Any):
    data: dict[str, Any] = {
        "title": "Design files on a public share",
        "opened_by": "alice@acme.example",
        "opened_at": at,
        "facts": {"aware_at": at, "jurisdictions": [{"code": "DE", "affected": 10}]},
        "playbook_name": "standard",
        "playbook_version": "1.0",
        "agreement": AGREEMENT,
        "agreement_path": "agreement.yaml",
    }
    data.update(kw)
    return repo.add_incident(**data)


def obligation(
    rule_id: str, stage: str = "initial", due: datetime | None = None, status: str = "pending"
) -> Obligation:
    return Obligation(
        rule_id=rule_id,
        stage=stage,
        jurisdiction="DE",
        audience="regulator",
        recipient="Landesdatenschutzbehörde",
        citation="GDPR art 33(1)",
        title="Notify the supervisory authority",
        reason="personal data of people in DE",
        clock_event="aware",
        clock_start=T0,
        due=due if due is not None else T0 + timedelta(hours=72),
        basis="deadline",
        window="72 hours",
        term=None,
        zones=("Europe/Berlin",),
        source="rules/eu.yaml",
        origin="catalogue",
        confirmed=True,
        kind="law",
        status=status,  # type: ignore[arg-type]
    )


def worker_open_incidents(url: str, count: int) -> list[str]:
    """Open ``count`` incidents, one transaction each, in this process."""
    engine = make_engine(url)
    factory = session_factory(engine)
    ids = []
    try:
        for _ in range(count):
            with factory.begin() as session:
                ids.append(open_incident(Repository(session)).id)
    finally:
        engine.dispose()
    return ids


def worker_append(url: str, stream: str, count: int, name: str) -> int:
    """Append ``count`` audit events to ``stream``, one transaction each, in this process."""
    engine = make_engine(url)
    factory = session_factory(engine)
    try:
        for i in range(count):
            with factory.begin() as session:
                append(
                    session, stream, "test.event", {"writer": name, "i": i}, name, T0 + timedelta(seconds=i)
                )
    finally:
        engine.dispose()
    return count


def forge_record(factory, key: AuditKey | None = None) -> None:
    """What an attacker does after editing events: recompute every stream's chain, every head, and the
    whole ledger from the stored content, sealing with ``key`` if they hold it (else keeping the old
    MACs, which they cannot recompute)."""
    with factory.begin() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.incident_id, AuditEvent.seq)))
        prev: dict[str, str] = {}
        for event in events:
            event.prev_hash = prev.get(event.incident_id, "0" * 64)
            event.hash = event_hash(
                event.prev_hash, event.incident_id, event.seq, event.at, event.actor, event.kind,
                json.loads(event.payload),
            )  # fmt: skip
            if key is not None:
                event.mac = key.seal(event.hash)
            prev[event.incident_id] = event.hash
        session.flush()
        finals = {e.incident_id: (e.seq, e.hash) for e in events}
        for head in session.scalars(select(AuditHead)):
            if head.incident_id in finals:
                head.last_seq, head.last_hash = finals[head.incident_id]
        by_seq = {(e.incident_id, e.seq): e.hash for e in events}
        ledger_prev = "0" * 64
        entries = list(session.scalars(select(AuditLedgerEntry).order_by(AuditLedgerEntry.seq)))
        for entry in entries:
            entry.last_hash = by_seq.get((entry.incident_id, entry.last_seq), entry.last_hash)
            entry.prev_hash = ledger_prev
            entry.hash = ledger_hash(
                ledger_prev, entry.seq, entry.incident_id, entry.last_seq, entry.last_hash
            )
            if key is not None:
                entry.mac = key.seal(entry.hash)
            ledger_prev = entry.hash
        ledger_head = session.get(AuditHead, "_ledger")
        if ledger_head is not None and entries:
            ledger_head.last_seq, ledger_head.last_hash = entries[-1].seq, entries[-1].hash

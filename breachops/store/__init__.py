"""The application database: SQLAlchemy models, Alembic migrations, the record keepers and the audit chain.

Callers outside the store get a session from the composition root and a keeper over it::

    with app.transaction() as session:
        incident = Repository(session).get_incident(incident_id)

What each module holds, and how SQLite and PostgreSQL are run: docs/database.md.
"""

from breachops.store.audit import (
    GENESIS_HASH,
    LedgerResult,
    Problem,
    VerifyResult,
    canonical_json,
    export,
    prove_witness,
    verify,
    verify_all,
)
from breachops.store.audit import append as append_audit
from breachops.store.database import make_engine, session_factory, upgrade
from breachops.store.facts import FactChange
from breachops.store.incidents import UnknownIncident, allocate_incident_id
from breachops.store.messages import Queued
from breachops.store.models import (
    SYSTEM_STREAM,
    AuditEvent,
    FactEvent,
    Incident,
    Message,
    ObligationRow,
    StepRow,
)
from breachops.store.obligations import DueChange, ObligationDiff, StatusChange
from breachops.store.repository import Repository
from breachops.store.steps import StepPlan, StepsDiff

__all__ = [
    "GENESIS_HASH",
    "SYSTEM_STREAM",
    "AuditEvent",
    "DueChange",
    "FactChange",
    "FactEvent",
    "Incident",
    "LedgerResult",
    "Message",
    "ObligationDiff",
    "ObligationRow",
    "Problem",
    "Queued",
    "Repository",
    "StatusChange",
    "StepPlan",
    "StepRow",
    "StepsDiff",
    "UnknownIncident",
    "VerifyResult",
    "allocate_incident_id",
    "append_audit",
    "canonical_json",
    "export",
    "make_engine",
    "prove_witness",
    "session_factory",
    "upgrade",
    "verify",
    "verify_all",
]

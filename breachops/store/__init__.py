"""The application database: SQLAlchemy models, Alembic migrations, the repository and the audit chain.

Typical use::

    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        repo = Repository(session)
        incident = repo.add_incident(...)
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
from breachops.store.models import (
    SYSTEM_STREAM,
    AuditEvent,
    FactEvent,
    Incident,
    Message,
    ObligationRow,
    StepRow,
)
from breachops.store.repository import (
    DueChange,
    FactChange,
    ObligationDiff,
    Queued,
    Repository,
    StatusChange,
    StepPlan,
    StepsDiff,
    UnknownIncident,
    allocate_incident_id,
)

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

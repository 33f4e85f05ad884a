"""The application database: incidents, their fact history, obligations, steps, outbox and audit chain.

Every instant is stored in UTC and read back timezone-aware, on PostgreSQL and on SQLite alike
(`UTCDateTime` refuses a naive datetime instead of guessing its zone). Status columns are plain
strings checked by the repository, so a new status never needs a migration of an enum type.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "LEDGER_HEAD",
    "SYSTEM_STREAM",
    "AuditEvent",
    "AuditHead",
    "AuditLedgerEntry",
    "Base",
    "CatalogueFingerprint",
    "CorrectiveActionRow",
    "DisclosureMark",
    "Drill",
    "DrillCounter",
    "DrillInject",
    "DrillSchedule",
    "FactEvent",
    "Incident",
    "IncidentCounter",
    "Message",
    "ObligationRow",
    "StepRow",
    "UTCDateTime",
    "WebToken",
]

SYSTEM_STREAM = "_system"
"""The audit stream of events that belong to no incident (e.g. a message sent outside one)."""
LEDGER_HEAD = "_ledger"
"""The ``audit_heads`` row that holds the ledger's own head (no stream has this name)."""

# Deterministic constraint names, so that migrations name the same thing on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored in UTC, read back aware in UTC on every backend.

    SQLite has no zone-aware type: the value is written as naive UTC text and given back its UTC zone
    when read. A naive datetime is refused: its zone would be a guess, and a deadline off by an hour
    is a missed deadline.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: give it a zone (e.g. UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 - SQLAlchemy reads it


class IncidentCounter(Base):
    """The last incident number handed out in a year. Incremented in the transaction that opens
    the incident, so a rolled-back opening leaves no gap and concurrent openers queue on the row."""

    __tablename__ = "incident_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Incident(Base):
    """One incident or drill incident: its facts now (rebuilt from its `FactEvent` rows), the playbook and
    agreement snapshotted when it opened, its Prefect flow run, and whether it is open or closed."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    drill: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    drill_id: Mapped[str | None] = mapped_column(String(128))
    playbook_name: Mapped[str] = mapped_column(String(128))
    playbook_version: Mapped[str] = mapped_column(String(64))
    # The playbook as it was when the incident opened: editing the workspace's file later never
    # changes the steps of an incident already under way.
    playbook: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    agreement: Mapped[dict[str, Any]] = mapped_column(JSON)
    agreement_path: Mapped[str | None] = mapped_column(Text)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    opened_by: Mapped[str] = mapped_column(String(256))
    # Raised by every flush that changes its steps or obligations (store/plan_revision.py): the
    # reminder planner re-reads only the incidents whose revision moved.
    plan_rev: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<Incident {self.id} {self.status}{' drill' if self.drill else ''}>"


class FactEvent(Base):
    """One change of one fact. Append-only; replaying them in seq order gives ``Incident.facts``."""

    __tablename__ = "fact_events"
    __table_args__ = (UniqueConstraint("incident_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    seq: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]
    field: Mapped[str] = mapped_column(String(128))
    old_value: Mapped[Any | None] = mapped_column(JSON)
    new_value: Mapped[Any | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(256))


class ObligationRow(Base):
    __tablename__ = "obligations"
    __table_args__ = (UniqueConstraint("incident_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    key: Mapped[str] = mapped_column(String(256))
    rule_id: Mapped[str] = mapped_column(String(128))
    stage: Mapped[str] = mapped_column(String(64))
    jurisdiction: Mapped[str] = mapped_column(String(16))
    audience: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(Text)
    citation: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    due: Mapped[datetime | None]
    basis: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    met_at: Mapped[datetime | None]
    waived_reason: Mapped[str | None] = mapped_column(Text)
    computed_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(Text)


class StepRow(Base):
    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("incident_id", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"))
    step_id: Mapped[str] = mapped_column(String(128))
    phase: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    owner_role: Mapped[str] = mapped_column(String(64))
    owner_party: Mapped[str] = mapped_column(String(64))
    due: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(256))
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Message(Base):
    """One email in the outbox. Written with its idempotency key before any attempt to send it."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(256), unique=True)
    incident_id: Mapped[str | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(128))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(256))
    drill: Mapped[bool] = mapped_column(Boolean, default=False)
    # An iCalendar part sent along (e.g. a drill invitation): {"filename", "method", "content"}.
    attachment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Who holds it while ``sending``: a restarted `serve` takes back its own claims at once and leaves
    # other dispatchers' to their lease (docs/exactly-once.md).
    claimed_by: Mapped[str | None] = mapped_column(String(256))


class AuditEvent(Base):
    """One immutable entry of a stream's record, hash-chained to the one before it (see audit.py)."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("incident_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of ``hash`` under the workspace's audit key; None on events written before the key.
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditLedgerEntry(Base):
    """One move of one stream's head, in the workspace-wide ledger: every transaction that appends to a
    stream also appends here the head it leaves. The ledger is itself hash-chained and sealed, so a
    stream's newest events cannot be cut off, nor its head deleted or rewound, without it showing."""

    __tablename__ = "audit_ledger"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    incident_id: Mapped[str] = mapped_column(String(32), index=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """The last seq and hash of each audit stream: the row appenders lock on PostgreSQL, and the
    anchor that lets ``verify`` notice the newest events being cut off."""

    __tablename__ = "audit_heads"

    incident_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class DrillCounter(Base):
    """The last drill number handed out in a year (drills count apart from incidents, so a drill
    never leaves a gap in the incident numbers)."""

    __tablename__ = "drill_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Drill(Base):
    """One tabletop exercise. Its incident record has the same id and ``drill`` set.

    The drill clock: scenario time = ``t0 + speed × (real now − started_at) + the advances made by then``.
    Real time is speed 1, a compressed drill speed N, a facilitated one speed 0 (it moves only when
    the facilitator advances it).
    """

    __tablename__ = "drills"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(128))
    scenario_version: Mapped[str] = mapped_column(String(64))
    scenario: Mapped[dict[str, Any]] = mapped_column(JSON)
    agreement: Mapped[dict[str, Any]] = mapped_column(JSON)
    agreement_path: Mapped[str | None] = mapped_column(Text)
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    mode: Mapped[str] = mapped_column(String(16))
    speed: Mapped[float] = mapped_column(Float)
    simulate: Mapped[bool] = mapped_column(Boolean, default=False)
    t0: Mapped[datetime]
    started_at: Mapped[datetime]
    # Each facilitator advance as [real instant (ISO 8601, UTC), seconds]: a past event keeps the
    # scenario time it had, however far the clock moves later.
    advances: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    # Each pause as [from, until or None while it lasts] (real instants, ISO 8601, UTC): the scenario
    # clock stands still in between.
    pauses: Mapped[list[list[Any]] | None] = mapped_column(JSON)
    ended_at: Mapped[datetime | None]
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("drill_schedules.id"))
    created_by: Mapped[str] = mapped_column(String(256))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    improvement_plan: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    report_html: Mapped[str | None] = mapped_column(Text)
    report_md: Mapped[str | None] = mapped_column(Text)


class DrillInject(Base):
    """An inject of a drill: when the scenario asks for it and when it was delivered (once)."""

    __tablename__ = "drill_injects"
    __table_args__ = (UniqueConstraint("drill_id", "inject_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    drill_id: Mapped[str] = mapped_column(ForeignKey("drills.id"), index=True)
    inject_id: Mapped[str] = mapped_column(String(128))
    title: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]  # scenario time
    delivered_at: Mapped[datetime | None]  # scenario time
    skipped: Mapped[str | None] = mapped_column(Text)  # why a contingency inject was not delivered


class DrillSchedule(Base):
    """A recurring drill: a cron expression in a named zone; the scheduler in `serve` fires it."""

    __tablename__ = "drill_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_id: Mapped[str] = mapped_column(String(128))
    cron: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64))
    speed: Mapped[float] = mapped_column(Float, default=1.0)
    simulate: Mapped[bool] = mapped_column(Boolean, default=False)
    invite_ahead_hours: Mapped[float] = mapped_column(Float, default=168.0)
    agreement: Mapped[dict[str, Any]] = mapped_column(JSON)
    agreement_path: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(256))
    next_run_at: Mapped[datetime | None]
    last_fired_at: Mapped[datetime | None]
    invited_for: Mapped[datetime | None]  # the occurrence whose invitations went out


class WebToken(Base):
    """A console sign-in link or session. Only the SHA-256 of the token is kept: a copy of the database
    opens no session. ``scope`` limits a session opened from a step's link to that one incident."""

    __tablename__ = "web_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # sign_in | session
    email: Mapped[str] = mapped_column(String(256), index=True)
    scope: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class CatalogueFingerprint(Base):
    """The rule catalogue the open incidents were last assessed against (``services/catalogue_changes``):
    its fingerprint and one digest per rule and no-duty record, so a change names the rules it touched."""

    __tablename__ = "catalogue_fingerprints"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)  # "workspace"
    fingerprint: Mapped[str] = mapped_column(String(64))
    digests: Mapped[dict[str, str]] = mapped_column(JSON)
    recorded_at: Mapped[datetime]


class DisclosureMark(Base):
    """A fact or a step of an incident that one party keeps internal: the console withholds it (and the
    audit entries that carry it) from the people of the other parties. The rows are the marks in force;
    their history is the incident's audit stream (``disclosure.internal``, ``disclosure.shared``)."""

    __tablename__ = "disclosure_marks"
    __table_args__ = (UniqueConstraint("incident_id", "item_kind", "item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    item_kind: Mapped[str] = mapped_column(String(16))  # fact | step
    item: Mapped[str] = mapped_column(String(128))  # the fact's name or the step's id
    party: Mapped[str] = mapped_column(String(64))  # the party it is internal to
    marked_by: Mapped[str] = mapped_column(String(256))
    marked_at: Mapped[datetime]


class CorrectiveActionRow(Base):
    """One corrective action of the improvement plan, across drills: raised by a drill's gap, updated and
    evidenced by people (``breachops actions``), verified by a later drill that shows the gap gone or by
    a person with evidence. Its history is the ``_system`` audit stream (``action.*``)."""

    __tablename__ = "corrective_actions"
    __table_args__ = (UniqueConstraint("subject", "raised_in"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(256))  # step:<id>, obligation:<key>, acknowledgement
    raised_in: Mapped[str] = mapped_column(String(32))  # the drill whose gap raised it
    finding: Mapped[str] = mapped_column(Text)  # the gap's key
    action: Mapped[str] = mapped_column(Text)
    capability: Mapped[str | None] = mapped_column(String(128))
    owner_party: Mapped[str] = mapped_column(String(64))
    owner_role: Mapped[str] = mapped_column(String(64))
    owner_email: Mapped[str | None] = mapped_column(String(256))
    start: Mapped[datetime]
    due: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    verified_in: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]

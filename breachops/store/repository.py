"""What the flows and the CLI do to the application database, each change with its audit event.

A `Repository` works inside the caller's transaction and never commits: open one with
``with factory.begin() as session: repo = Repository(session)`` so that a change and the audit
event that records it are stored together or not at all. Times are passed in (from the Clock).

Decisions others rely on:

- Incident ids are ``INC-<year>-<nnnn>``, the UTC year of ``opened_at``, numbered by a per-year
  counter row incremented in the opening transaction: no gaps, no duplicates, drills included
  (a drill's record says ``drill``; ``list_incidents`` leaves drills out unless asked).
- Facts are a JSON dict; ``None`` unsets a fact. Each change is a `FactEvent` (the opening facts
  are events with source ``open``), so ``replay_facts`` always rebuilds ``Incident.facts``. The
  store does not interpret facts: validate them (``parse_facts``) before recording.
- Obligations are upserted by key (``rule_id/stage``). One that the engine no longer produces is
  kept with status ``withdrawn`` (its last due time stays); ``met`` and ``waived`` are decisions of
  a person and are never overwritten by a recomputation. A withdrawn obligation that comes back
  counts as added.
- Audit kinds: incident.opened, incident.closed, incident.flow_attached, fact.changed,
  obligation.recomputed, obligation.met, obligation.waived, obligation.closed_unmet, steps.planned,
  step.started, step.waiting, step.completed, step.skipped, step.reset, message.queued, message.sent,
  message.failed, message.fallback. Repeating a change that is already in place (a retried task)
  writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple, TypeVar

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from breachops.deadlines.models import Obligation
from breachops.errors import InputError
from breachops.store import audit
from breachops.store.models import (
    SYSTEM_STREAM,
    FactEvent,
    Incident,
    IncidentCounter,
    Message,
    ObligationRow,
    StepRow,
)

__all__ = [
    "MESSAGE_STATUSES",
    "OBLIGATION_STATUSES",
    "STEP_STATUSES",
    "DueChange",
    "FactChange",
    "MessageDraft",
    "ObligationDiff",
    "Queued",
    "Repository",
    "StatusChange",
    "StepPlan",
    "StepsDiff",
    "UnknownIncident",
    "allocate_incident_id",
    "chunks",
]

OBLIGATION_STATUSES: Final = (
    "pending", "overdue", "awaiting", "met", "missed", "waived", "withdrawn", "closed-unmet"
)  # fmt: skip
# Still owed: closing the incident with any of these needs --accept-pending (they become closed-unmet).
UNMET_STATUSES: Final = ("pending", "overdue", "awaiting", "missed")
STEP_STATUSES: Final = ("pending", "running", "waiting", "done", "skipped")
MESSAGE_STATUSES: Final = ("queued", "sending", "sent", "failed", "fallback")
_DECIDED = ("met", "waived", "closed-unmet")  # set by a person; a recomputation never overwrites them
_FINAL_STEP = ("done", "skipped")
_STEP_KIND = {
    "pending": "step.reset",
    "running": "step.started",
    "waiting": "step.waiting",
    "done": "step.completed",
    "skipped": "step.skipped",
}
_FACT_SOURCE = re.compile(r"^(cli|open|gate:[\w.-]+|inject:[\w.-]+)$")
_SENDABLE = ("queued", "failed")
_T = TypeVar("_T")
_KEYS_PER_QUERY = 500  # databases cap a statement's parameters; a burst can be thousands of keys


# Built once for every batch the dispatcher records (see mark_sent_many).
_MARK_SENT = (
    update(Message)
    .where(Message.id == bindparam("row"))
    .values(
        status="sent",
        sent_at=bindparam("at"),
        channel=bindparam("channel"),
        provider_message_id=bindparam("provider"),
        last_error=None,
    )
)


def chunks(items: Sequence[_T]) -> Iterable[Sequence[_T]]:
    """``items`` in slices small enough for one IN list."""
    return (items[i : i + _KEYS_PER_QUERY] for i in range(0, len(items), _KEYS_PER_QUERY))


class UnknownIncident(InputError):
    """No incident has this id."""

    def __init__(self, incident_id: str) -> None:
        self.incident_id = incident_id
        super().__init__(
            None, None, None, f"unknown incident {incident_id}", "See `breachops incident list`."
        )


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{what}: naive datetime {value.isoformat()} refused: give it a zone (e.g. UTC)")
    return value.astimezone(UTC)


def _insert_ignore(session: Session, model: Any, values: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(model).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(model).values(**values).on_conflict_do_nothing())
    else:
        try:
            with session.begin_nested():
                session.execute(insert(model).values(**values))
        except IntegrityError:
            pass


def allocate_incident_id(session: Session, year: int, prefix: str = "INC") -> str:
    """The next incident id of ``year``, e.g. ``INC-2026-0007``.

    The year's counter row is incremented in the caller's transaction and stays locked until it ends
    (PostgreSQL row lock; SQLite's write lock), so concurrent openers get consecutive numbers, and a
    rolled-back opening gives its number back. Add the incident in the same transaction.
    """
    if not 1970 <= year <= 9999:
        raise ValueError(f"year {year} is out of range")
    _insert_ignore(session, IncidentCounter, {"year": year, "last_number": 0})
    session.execute(
        update(IncidentCounter)
        .where(IncidentCounter.year == year)
        .values(last_number=IncidentCounter.last_number + 1)
    )
    number = session.execute(
        select(IncidentCounter.last_number).where(IncidentCounter.year == year)
    ).scalar_one()
    return f"{prefix}-{year}-{number:04d}"


class FactChange(NamedTuple):
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class DueChange:
    key: str
    old: datetime | None
    new: datetime | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    key: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ObligationDiff:
    """What one recomputation changed. Empty (falsy) when nothing did."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    due_changed: tuple[DueChange, ...] = ()
    status_changed: tuple[StatusChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.due_changed or self.status_changed)


@dataclass(frozen=True, slots=True)
class StepPlan:
    """One playbook step as planned for an incident (the flows build these from the playbook)."""

    step_id: str
    phase: str
    title: str
    owner_role: str
    owner_party: str
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class StepsDiff:
    added: tuple[str, ...] = ()
    due_changed: tuple[DueChange, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.due_changed)


@dataclass(frozen=True)
class MessageDraft:
    """A message to queue: what :meth:`Repository.queue_message` takes, for ``queue_messages``."""

    idempotency_key: str
    kind: str
    template: str
    recipients: Sequence[str]
    subject: str
    body_text: str
    body_html: str | None = None
    incident_id: str | None = None
    drill: bool = False
    not_before: datetime | None = None
    attachment: Mapping[str, Any] | None = None


class Queued(NamedTuple):
    message: Message
    created: bool  # False: the idempotency key was already in the outbox, nothing new was written


@dataclass
class Repository:
    session: Session

    # ---- incidents -------------------------------------------------------------------------------

    def allocate_incident_id(self, year: int) -> str:
        return allocate_incident_id(self.session, year)

    def add_incident(
        self,
        *,
        title: str,
        opened_by: str,
        opened_at: datetime,
        facts: Mapping[str, Any],
        playbook_name: str,
        playbook_version: str,
        playbook: Mapping[str, Any] | None = None,
        agreement: Mapping[str, Any],
        agreement_path: str | None = None,
        drill: bool = False,
        drill_id: str | None = None,
        flow_run_id: str | None = None,
        incident_id: str | None = None,
        opened_by_verified: bool = True,
    ) -> Incident:
        """Open an incident: allocate its id (unless given), store its opening facts as events with
        source ``open``, and write ``incident.opened`` (with ``unverified: true`` when the opener is
        not a contact in the agreement)."""
        opened_at = _aware(opened_at, "opened_at")
        initial = {k: v for k, v in audit.to_jsonable(facts).items() if v is not None}
        incident = Incident(
            id=incident_id or allocate_incident_id(self.session, opened_at.year),
            title=title,
            status="open",
            drill=drill,
            drill_id=drill_id,
            playbook_name=playbook_name,
            playbook_version=playbook_version,
            playbook=None if playbook is None else audit.to_jsonable(playbook),
            agreement=audit.to_jsonable(agreement),
            agreement_path=agreement_path,
            facts={},
            opened_at=opened_at,
            flow_run_id=flow_run_id,
            opened_by=opened_by,
        )
        self.session.add(incident)
        self.session.flush()
        audit.append(
            self.session,
            incident.id,
            "incident.opened",
            {
                "title": title,
                "drill": drill,
                "drill_id": drill_id,
                "playbook": {"name": playbook_name, "version": playbook_version},
                "agreement_path": agreement_path,
                **({} if opened_by_verified else {"unverified": True}),
            },
            opened_by,
            opened_at,
        )
        self._apply_facts(incident, initial, "open", opened_by, opened_at)
        return incident

    def get_incident(self, incident_id: str) -> Incident:
        incident = self.session.get(Incident, incident_id)
        if incident is None:
            raise UnknownIncident(incident_id)
        return incident

    def list_incidents(self, include_drills: bool = False, status: str | None = None) -> list[Incident]:
        query = select(Incident).order_by(Incident.opened_at, Incident.id)
        if not include_drills:
            query = query.where(Incident.drill.is_(False))
        if status is not None:
            query = query.where(Incident.status == status)
        return list(self.session.scalars(query))

    def close_incident(
        self, incident: Incident, reason: str, actor: str, at: datetime, *, unmet: Sequence[str] = ()
    ) -> Incident:
        """Close the record. ``unmet``: keys of obligations still owed, which the closer accepted;
        each becomes ``closed-unmet`` and the close event names them."""
        if incident.status == "closed":
            raise InputError(None, "incident", None, f"{incident.id} is already closed", None)
        for key in unmet:
            row = self._obligation(incident, key)
            old, row.status = row.status, "closed-unmet"
            audit.append(
                self.session,
                incident.id,
                "obligation.closed_unmet",
                {"key": key, "old_status": old},
                actor,
                at,
            )
        incident.status = "closed"
        incident.closed_at = _aware(at, "closed_at")
        incident.close_reason = reason
        payload: dict[str, Any] = {"reason": reason}
        if unmet:
            payload["closed_unmet"] = list(unmet)
        audit.append(self.session, incident.id, "incident.closed", payload, actor, at)
        return incident

    def attach_flow_run(self, incident: Incident, flow_run_id: str, actor: str, at: datetime) -> Incident:
        if incident.flow_run_id == flow_run_id:
            return incident
        old, incident.flow_run_id = incident.flow_run_id, flow_run_id
        audit.append(
            self.session, incident.id, "incident.flow_attached", {"old": old, "new": flow_run_id}, actor, at
        )
        return incident

    # ---- facts ----------------------------------------------------------------------------------

    def record_fact_changes(
        self, incident: Incident, changes: Mapping[str, Any], source: str, actor: str, at: datetime
    ) -> dict[str, FactChange]:
        """Apply ``changes`` (field → new value; None unsets it) and return what actually changed.

        Each change becomes a FactEvent and all of them one ``fact.changed`` audit event. Setting a
        fact to the value it already has records nothing, so a retried task is harmless.
        ``source`` is ``cli``, ``gate:<step>``, ``inject:<inject>`` (drills) or ``open``.
        """
        if not _FACT_SOURCE.match(source):
            raise InputError(
                None,
                "source",
                source,
                "unknown source of a fact change",
                "Use cli, gate:<step> or inject:<id>.",
            )
        # Lock the incident row (PostgreSQL) and read its facts afresh: two writers never interleave seqs.
        self.session.refresh(incident, with_for_update=True)
        return self._apply_facts(incident, audit.to_jsonable(changes), source, actor, at)

    def _apply_facts(
        self, incident: Incident, changes: dict[str, Any], source: str, actor: str, at: datetime
    ) -> dict[str, FactChange]:
        at = _aware(at, "at")
        current = dict(incident.facts or {})
        changed: dict[str, FactChange] = {}
        for field in sorted(changes):
            new, old = changes[field], current.get(field)
            if new != old:
                changed[field] = FactChange(old, new)
        if not changed:
            return {}
        seq = self.session.execute(
            select(func.coalesce(func.max(FactEvent.seq), 0)).where(FactEvent.incident_id == incident.id)
        ).scalar_one()
        for field, change in changed.items():
            seq += 1
            self.session.add(
                FactEvent(
                    incident_id=incident.id,
                    seq=seq,
                    recorded_at=at,
                    field=field,
                    old_value=change.old,
                    new_value=change.new,
                    source=source,
                    actor=actor,
                )
            )
            if change.new is None:
                current.pop(field, None)
            else:
                current[field] = change.new
        incident.facts = current
        self.session.flush()
        audit.append(
            self.session,
            incident.id,
            "fact.changed",
            {"source": source, "changes": {f: {"old": c.old, "new": c.new} for f, c in changed.items()}},
            actor,
            at,
        )
        return changed

    def fact_events(self, incident_id: str) -> list[FactEvent]:
        return list(
            self.session.scalars(
                select(FactEvent).where(FactEvent.incident_id == incident_id).order_by(FactEvent.seq)
            )
        )

    def replay_facts(self, incident_id: str, until_seq: int | None = None) -> dict[str, Any]:
        """The facts as they were after event ``until_seq`` (default: now), rebuilt from the events."""
        facts: dict[str, Any] = {}
        for event in self.fact_events(incident_id):
            if until_seq is not None and event.seq > until_seq:
                break
            if event.new_value is None:
                facts.pop(event.field, None)
            else:
                facts[event.field] = event.new_value
        return facts

    # ---- obligations ----------------------------------------------------------------------------

    def obligations(self, incident_id: str, include_withdrawn: bool = False) -> list[ObligationRow]:
        query = select(ObligationRow).where(ObligationRow.incident_id == incident_id)
        if not include_withdrawn:
            query = query.where(ObligationRow.status != "withdrawn")
        return list(self.session.scalars(query.order_by(ObligationRow.due, ObligationRow.key)))

    def replace_obligations(
        self, incident: Incident, obligations: Iterable[Obligation], at: datetime, actor: str = "engine"
    ) -> ObligationDiff:
        """Store the engine's latest obligations for the incident and return (and audit) the difference."""
        at = _aware(at, "at")
        rows = {row.key: row for row in self.obligations(incident.id, include_withdrawn=True)}
        added: list[str] = []
        removed: list[str] = []
        due_changed: list[DueChange] = []
        status_changed: list[StatusChange] = []
        seen: set[str] = set()
        for ob in obligations:
            if ob.key in seen:
                raise ValueError(f"obligation {ob.key} given twice")
            seen.add(ob.key)
            row = rows.get(ob.key)
            fields = {
                "rule_id": ob.rule_id,
                "stage": ob.stage,
                "jurisdiction": ob.jurisdiction,
                "audience": ob.audience,
                "recipient": ob.recipient,
                "citation": ob.citation,
                "title": ob.title,
                "reason": ob.reason,
                "basis": ob.basis,
                "source": ob.source,
                "computed_at": at,
            }
            if row is None:
                row = ObligationRow(
                    incident_id=incident.id, key=ob.key, due=ob.due, status=ob.status, **fields
                )
                self.session.add(row)
                added.append(ob.key)
                continue
            for name, value in fields.items():
                setattr(row, name, value)
            if row.due != ob.due:
                due_changed.append(DueChange(ob.key, row.due, ob.due))
                row.due = ob.due
            if row.status == "withdrawn":
                added.append(ob.key)
                row.status = ob.status
            elif row.status not in _DECIDED and row.status != ob.status:
                status_changed.append(StatusChange(ob.key, row.status, ob.status))
                row.status = ob.status
        for key, row in rows.items():
            if key not in seen and row.status not in (*_DECIDED, "withdrawn"):
                removed.append(key)
                row.status = "withdrawn"
                row.computed_at = at
        diff = ObligationDiff(tuple(added), tuple(removed), tuple(due_changed), tuple(status_changed))
        self.session.flush()
        if diff:
            current = {row.key: row for row in self.obligations(incident.id, include_withdrawn=True)}
            audit.append(
                self.session,
                incident.id,
                "obligation.recomputed",
                {
                    "added": [{"key": k, "due": current[k].due, "status": current[k].status} for k in added],
                    "removed": [{"key": k, "due": current[k].due} for k in removed],
                    "due_changed": [{"key": c.key, "old": c.old, "new": c.new} for c in due_changed],
                    "status_changed": [{"key": c.key, "old": c.old, "new": c.new} for c in status_changed],
                },
                actor,
                at,
            )
        return diff

    def record_coverage_gaps(
        self, incident: Incident, gaps: Sequence[str], at: datetime, actor: str = "engine"
    ) -> None:
        """Record, in the incident's audit log, the jurisdictions whose obligations are unknown."""
        audit.append(
            self.session,
            incident.id,
            "coverage.gap",
            {"jurisdictions": list(gaps), "meaning": "no rules known: obligations there are unknown"},
            actor,
            _aware(at, "at"),
        )

    def _obligation(self, incident: Incident, key: str) -> ObligationRow:
        row = self.session.execute(
            select(ObligationRow).where(ObligationRow.incident_id == incident.id, ObligationRow.key == key)
        ).scalar_one_or_none()
        if row is None:
            known = ", ".join(r.key for r in self.obligations(incident.id)) or "none"
            raise InputError(
                None, "obligation", key, f"{incident.id} has no obligation {key}", f"Known: {known}."
            )
        return row

    def mark_obligation_met(self, incident: Incident, key: str, actor: str, at: datetime) -> ObligationRow:
        row = self._obligation(incident, key)
        if row.status == "met":
            return row
        old, row.status, row.met_at = row.status, "met", _aware(at, "met_at")
        audit.append(self.session, incident.id, "obligation.met", {"key": key, "old_status": old}, actor, at)
        return row

    def waive_obligation(
        self, incident: Incident, key: str, reason: str, actor: str, at: datetime
    ) -> ObligationRow:
        if not reason.strip():
            raise InputError(None, "reason", None, "waiving an obligation needs a reason")
        row = self._obligation(incident, key)
        if row.status == "waived" and row.waived_reason == reason:
            return row
        old, row.status, row.waived_reason = row.status, "waived", reason
        audit.append(
            self.session,
            incident.id,
            "obligation.waived",
            {"key": key, "old_status": old, "reason": reason},
            actor,
            at,
        )
        return row

    # ---- steps ----------------------------------------------------------------------------------

    def steps(self, incident_id: str) -> list[StepRow]:
        return list(
            self.session.scalars(
                select(StepRow).where(StepRow.incident_id == incident_id).order_by(StepRow.id)
            )
        )

    def upsert_steps(
        self, incident: Incident, plans: Iterable[StepPlan], actor: str, at: datetime
    ) -> StepsDiff:
        """Add planned steps and update titles, owners and due times of known ones (never their status)."""
        rows = {row.step_id: row for row in self.steps(incident.id)}
        added: list[str] = []
        due_changed: list[DueChange] = []
        for plan in plans:
            due = None if plan.due is None else _aware(plan.due, f"step {plan.step_id} due")
            row = rows.get(plan.step_id)
            if row is None:
                row = StepRow(
                    incident_id=incident.id,
                    step_id=plan.step_id,
                    phase=plan.phase,
                    title=plan.title,
                    owner_role=plan.owner_role,
                    owner_party=plan.owner_party,
                    due=due,
                    status="pending",
                    attempts=0,
                )
                self.session.add(row)
                rows[plan.step_id] = row
                added.append(plan.step_id)
                continue
            row.phase, row.title = plan.phase, plan.title
            row.owner_role, row.owner_party = plan.owner_role, plan.owner_party
            if row.due != due:
                due_changed.append(DueChange(plan.step_id, row.due, due))
                row.due = due
        self.session.flush()
        diff = StepsDiff(tuple(added), tuple(due_changed))
        if diff:
            audit.append(
                self.session,
                incident.id,
                "steps.planned",
                {
                    "added": [
                        {"step_id": s, "due": rows[s].due, "owner_role": rows[s].owner_role} for s in added
                    ],
                    "due_changed": [{"step_id": c.key, "old": c.old, "new": c.new} for c in due_changed],
                },
                actor,
                at,
            )
        return diff

    def get_step(self, incident: Incident, step_id: str) -> StepRow:
        row = self.session.execute(
            select(StepRow).where(StepRow.incident_id == incident.id, StepRow.step_id == step_id)
        ).scalar_one_or_none()
        if row is None:
            known = ", ".join(r.step_id for r in self.steps(incident.id)) or "none"
            raise InputError(
                None, "step", step_id, f"{incident.id} has no step {step_id!r}", f"Known: {known}."
            )
        return row

    def set_step_status(
        self,
        incident: Incident,
        step_id: str,
        status: str,
        actor: str,
        at: datetime,
        answer: Mapping[str, Any] | None = None,
    ) -> StepRow:
        """Move a step to ``status``. Entering ``running`` counts an attempt; ``done``/``skipped`` are
        final and record who and when (and the gate's answer). Asking for the current status again
        changes nothing and writes nothing."""
        if status not in STEP_STATUSES:
            raise InputError(
                None, "status", status, "unknown step status", f"Use one of {', '.join(STEP_STATUSES)}."
            )
        at = _aware(at, "at")
        row = self.get_step(incident, step_id)
        if row.status == status:
            return row
        if row.status in _FINAL_STEP:
            raise InputError(
                None,
                "step",
                None,
                f"step {step_id!r} of {incident.id} is already {row.status}",
                "It cannot be reopened.",
            )
        answer_json = None if answer is None else audit.to_jsonable(answer)
        if answer_json is not None:
            audit.refuse_secrets(answer_json, "answer")
        old = row.status
        row.status = status
        if status == "running":
            row.attempts += 1
            row.started_at = row.started_at or at
        elif status in _FINAL_STEP:
            row.completed_at, row.completed_by = at, actor
            if answer_json is not None:
                row.answer = answer_json
        payload: dict[str, Any] = {"step_id": step_id, "old": old, "new": status}
        if answer_json is not None:
            payload["answer"] = answer_json
        if status == "running":
            payload["attempt"] = row.attempts
        audit.append(self.session, incident.id, _STEP_KIND[status], payload, actor, at)
        return row

    # ---- messages (the outbox) ------------------------------------------------------------------

    def queue_message(
        self,
        *,
        idempotency_key: str,
        kind: str,
        template: str,
        recipients: Sequence[str],
        subject: str,
        body_text: str,
        at: datetime,
        body_html: str | None = None,
        incident_id: str | None = None,
        drill: bool = False,
        not_before: datetime | None = None,
        actor: str = "breachops",
        attachment: Mapping[str, Any] | None = None,
    ) -> Queued:
        """Put a message in the outbox unless its idempotency key is already there.

        The second caller with the same key (a retried task, another process) gets the stored message
        back with ``created=False``; nothing is written twice. A message of a drill incident is a
        drill message whatever ``drill`` says.
        """
        draft = MessageDraft(
            idempotency_key=idempotency_key, kind=kind, template=template, recipients=recipients,
            subject=subject, body_text=body_text, body_html=body_html, incident_id=incident_id,
            drill=drill, not_before=not_before, attachment=attachment,
        )  # fmt: skip
        return self.queue_messages([draft], at, actor)[0]

    def queue_messages(
        self, drafts: Sequence[MessageDraft], at: datetime, actor: str = "breachops"
    ) -> list[Queued]:
        """:meth:`queue_message` for each draft, in order, with one lookup of the keys, one insert and
        one audit append per stream for all of them (the reminders of an incident are queued so)."""
        for draft in drafts:
            if not draft.idempotency_key:
                raise ValueError("a message needs an idempotency key")
            recipients = draft.recipients
            if (
                isinstance(recipients, str)
                or not recipients
                or not all(isinstance(r, str) and r for r in recipients)
            ):
                raise InputError(
                    None, "recipients", list(recipients), "expected a non-empty list of addresses"
                )
        keys = list(dict.fromkeys(d.idempotency_key for d in drafts))
        stored = {
            m.idempotency_key: m
            for chunk in chunks(keys)
            for m in self.session.scalars(select(Message).where(Message.idempotency_key.in_(chunk)))
        }
        incident_ids = {d.incident_id for d in drafts if d.incident_id is not None}
        drills = {
            incident_id: drill
            for incident_id, drill in self.session.execute(
                select(Incident.id, Incident.drill).where(Incident.id.in_(incident_ids))
            )
        }
        results: list[Queued] = []
        fresh: list[Message] = []
        for draft in drafts:
            if draft.idempotency_key in stored:
                results.append(Queued(stored[draft.idempotency_key], False))
                continue
            drill = draft.drill
            if draft.incident_id is not None:
                if draft.incident_id not in drills:
                    self.get_incident(draft.incident_id)  # raises: no such incident
                drill = drill or drills[draft.incident_id]
            message = Message(
                idempotency_key=draft.idempotency_key,
                incident_id=draft.incident_id,
                kind=draft.kind,
                template=draft.template,
                recipients=list(draft.recipients),
                subject=draft.subject,
                body_text=draft.body_text,
                body_html=draft.body_html,
                status="queued",
                attempts=0,
                not_before=None if draft.not_before is None else _aware(draft.not_before, "not_before"),
                created_at=_aware(at, "at"),
                drill=drill,
                attachment=None if draft.attachment is None else dict(draft.attachment),
            )
            stored[draft.idempotency_key] = message
            fresh.append(message)
            results.append(Queued(message, True))
        if not fresh:
            return results
        try:
            with self.session.begin_nested():
                self.session.add_all(fresh)
                self.session.flush()
        except IntegrityError:
            # Another writer queued one of these keys meanwhile: one at a time, as a single call does.
            if len(drafts) > 1:
                return [self.queue_messages([draft], at, actor)[0] for draft in drafts]
            existing = self.get_message_by_key(drafts[0].idempotency_key)
            if existing is None:
                raise
            return [Queued(existing, False)]
        streams: dict[str, list[audit.Entry]] = {}
        for message in fresh:
            payload = {
                "message_id": message.id,
                "idempotency_key": message.idempotency_key,
                "kind": message.kind,
                "template": message.template,
                "recipients": list(message.recipients),
                "subject": message.subject,
                "drill": message.drill,
                "not_before": message.not_before,
            }
            entry = audit.Entry("message.queued", payload, actor, at)
            streams.setdefault(message.incident_id or SYSTEM_STREAM, []).append(entry)
        audit.append_streams(self.session, streams)
        return results

    def stored_message_keys(self, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are in the outbox."""
        return {
            key
            for chunk in chunks(keys)
            for key in self.session.scalars(
                select(Message.idempotency_key).where(Message.idempotency_key.in_(chunk))
            )
        }

    def get_message_by_key(self, idempotency_key: str) -> Message | None:
        return self.session.execute(
            select(Message).where(Message.idempotency_key == idempotency_key)
        ).scalar_one_or_none()

    def due_messages(self, now: datetime, limit: int = 100) -> list[Message]:
        """Messages ready for an attempt: queued or failed, and their ``not_before`` has passed."""
        now = _aware(now, "now")
        query = (
            select(Message)
            .where(
                Message.status.in_(_SENDABLE), or_(Message.not_before.is_(None), Message.not_before <= now)
            )
            .order_by(Message.created_at, Message.id)
            .limit(limit)
        )
        return list(self.session.scalars(query))

    def due_message_ids(
        self, now: datetime, limit: int = 100, keys: Collection[str] | None = None
    ) -> list[int]:
        """The ids of :meth:`due_messages` (only those with one of ``keys``, if given), without loading
        the messages: a dispatcher claims the ids and loads only what it won."""
        now = _aware(now, "now")
        query = select(Message.id).where(
            Message.status.in_(_SENDABLE), or_(Message.not_before.is_(None), Message.not_before <= now)
        )
        if keys is not None:
            query = query.where(Message.idempotency_key.in_(list(keys)))
        return list(self.session.scalars(query.order_by(Message.created_at, Message.id).limit(limit)))

    def claim_message(self, message_id: int, now: datetime) -> Message | None:
        """Mark a sendable message ``sending`` and count the attempt; None if someone else has it or it is
        not due. One atomic UPDATE, so two dispatchers never both claim it."""
        claimed = self.claim_messages([message_id], now)
        return claimed[0] if claimed else None

    def claim_messages(self, message_ids: Sequence[int], now: datetime) -> list[Message]:
        """:meth:`claim_message` for each id in one UPDATE (each row still moved by its own
        compare-and-set); returns the messages this call claimed, in the order of ``message_ids``."""
        now = _aware(now, "now")
        if not message_ids:
            return []
        result = self.session.execute(
            update(Message)
            .where(
                Message.id.in_(message_ids),
                Message.status.in_(_SENDABLE),
                or_(Message.not_before.is_(None), Message.not_before <= now),
            )
            .values(status="sending", attempts=Message.attempts + 1)
            .returning(Message.id)
            .execution_options(synchronize_session=False)
        )
        won = set(result.scalars())
        if not won:
            return []
        rows = {
            row.id: row
            for row in self.session.scalars(
                select(Message).where(Message.id.in_(won)).execution_options(populate_existing=True)
            )
        }
        return [rows[i] for i in dict.fromkeys(message_ids) if i in rows]

    def mark_sent(
        self,
        message: Message,
        at: datetime,
        channel: str,
        provider_message_id: str | None = None,
        actor: str = "breachops",
    ) -> Message:
        """Record one message as sent (see :meth:`mark_sent_many`); one already sent is left alone."""
        self.mark_sent_many([(message.id, channel, provider_message_id)], at, actor)
        return message

    def mark_sent_many(
        self, sent: Sequence[tuple[int, str, str | None]], at: datetime, actor: str = "breachops"
    ) -> list[int]:
        """:meth:`mark_sent` for each (message id, channel, provider message id), in this order, with one
        read, one UPDATE and one audit append per stream for all of them (the dispatcher records a
        batch this way); returns the ids it marked. A message already sent, or missing, is left alone.

        Only the few columns it needs are read (locked on PostgreSQL, as SQLite's write lock does), not
        the bodies; loaded copies of the rows in this session are expired so they read the new state.
        """
        at = _aware(at, "sent_at")
        found = {
            row.id: row
            for chunk in chunks([message_id for message_id, _, _ in sent])
            for row in self.session.execute(
                select(Message.id, Message.incident_id, Message.idempotency_key, Message.status)
                .where(Message.id.in_(chunk))
                .with_for_update()
            )
        }
        changes: list[dict[str, Any]] = []
        streams: dict[str, list[audit.Entry]] = {}
        for message_id, channel, provider_message_id in sent:
            row = found.pop(message_id, None)  # popped: a repeated id is marked once
            if row is None or row.status == "sent":
                continue
            changes.append({"row": message_id, "at": at, "channel": channel, "provider": provider_message_id})
            payload = {
                "message_id": message_id,
                "idempotency_key": row.idempotency_key,
                "channel": channel,
                "provider_message_id": provider_message_id,
            }
            entry = audit.Entry("message.sent", payload, actor, at)
            streams.setdefault(row.incident_id or SYSTEM_STREAM, []).append(entry)
        if changes:
            self.session.connection().execute(_MARK_SENT, changes)
            for change in changes:
                loaded = self.session.identity_map.get(identity_key(Message, change["row"]))
                if loaded is not None:
                    self.session.expire(loaded)
        audit.append_streams(self.session, streams)
        return [change["row"] for change in changes]

    def mark_failed(
        self,
        message: Message,
        error: str,
        at: datetime,
        retry_at: datetime | None = None,
        channel: str | None = None,
        actor: str = "breachops",
    ) -> Message:
        """Record a failed attempt; with ``retry_at`` the message becomes due again then."""
        if message.status == "sent":
            raise ValueError(f"message {message.id} was already sent")
        message.status, message.last_error = "failed", error
        message.channel = channel or message.channel
        message.not_before = None if retry_at is None else _aware(retry_at, "retry_at")
        self._audit_message(
            message,
            "message.failed",
            {"channel": message.channel, "error": error, "attempts": message.attempts, "retry_at": retry_at},
            actor,
            at,
        )
        return message

    def mark_fallback(
        self, message: Message, at: datetime, channel: str, error: str | None = None, actor: str = "breachops"
    ) -> Message:
        """Record that the message went to a fallback channel (e.g. the outbox folder) for a person."""
        message.status, message.channel = "fallback", channel
        message.last_error = error or message.last_error
        self._audit_message(message, "message.fallback", {"channel": channel, "error": error}, actor, at)
        return message

    def _audit_message(
        self, message: Message, kind: str, extra: dict[str, Any], actor: str, at: datetime
    ) -> None:
        payload = {"message_id": message.id, "idempotency_key": message.idempotency_key, **extra}
        audit.append(self.session, message.incident_id or SYSTEM_STREAM, kind, payload, actor, at)

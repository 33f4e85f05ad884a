"""What the drill flow, the scheduler and the CLI do to drill records, each change with its audit event.

Like `Repository`, a `DrillRepository` works inside the caller's transaction and never commits.
A drill's events go to the audit stream of its incident (the same id, ``DRL-<year>-<nnnn>``);
schedule changes go to the system stream.

Audit kinds: drill.started, drill.advanced, drill.inject_delivered, drill.completed, drill.cancelled,
drill.objective_rated, drill.question_answered, drill.hotwash, drill_schedule.created,
drill_schedule.fired, drill_schedule.skipped, drill_schedule.invited, drill_schedule.removed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from breachops.errors import InputError
from breachops.store import audit
from breachops.store.models import SYSTEM_STREAM, AuditEvent, Drill, DrillCounter, DrillInject, DrillSchedule
from breachops.store.repository import _aware, _insert_ignore

__all__ = ["DRILL_MODES", "DRILL_STATUSES", "DrillRepository", "UnknownDrill", "allocate_drill_id"]

# stopped: ended by a person (`drill stop`, or closing its record) before the scenario's end.
DRILL_STATUSES: Final = ("running", "completed", "cancelled", "failed", "stopped")
DRILL_MODES: Final = ("real", "compressed", "facilitated")


class UnknownDrill(InputError):
    def __init__(self, drill_id: str) -> None:
        super().__init__(None, None, None, f"unknown drill {drill_id}", "See `breachops drill list`.")


def allocate_drill_id(session: Session, year: int) -> str:
    """The next drill id of ``year`` (``DRL-2026-0003``), numbered like incidents but apart."""
    _insert_ignore(session, DrillCounter, {"year": year, "last_number": 0})
    session.execute(
        update(DrillCounter).where(DrillCounter.year == year).values(last_number=DrillCounter.last_number + 1)
    )
    number = session.execute(select(DrillCounter.last_number).where(DrillCounter.year == year)).scalar_one()
    return f"DRL-{year}-{number:04d}"


@dataclass
class DrillRepository:
    session: Session

    # ---- drills ---------------------------------------------------------------------------------

    def add_drill(
        self,
        *,
        scenario: Mapping[str, Any],
        agreement: Mapping[str, Any],
        agreement_path: str | None,
        participants: Sequence[Mapping[str, Any]],
        mode: str,
        speed: float,
        simulate: bool,
        at: datetime,
        actor: str,
        schedule_id: int | None = None,
    ) -> Drill:
        """Record a drill starting now: its scenario time starts at ``at`` (T+0)."""
        if mode not in DRILL_MODES:
            raise InputError("--mode", None, mode, f"expected one of {', '.join(DRILL_MODES)}")
        if speed < 0:
            raise InputError("--speed", None, speed, "must not be negative")
        at = _aware(at, "at")
        drill = Drill(
            id=allocate_drill_id(self.session, at.year),
            scenario_id=str(scenario["id"]),
            scenario_version=str(scenario.get("version", "")),
            scenario=audit.to_jsonable(scenario),
            agreement=audit.to_jsonable(agreement),
            agreement_path=agreement_path,
            participants=[dict(p) for p in participants],
            status="running",
            mode=mode,
            speed=float(speed),
            simulate=simulate,
            t0=at,
            started_at=at,
            advances=[],
            schedule_id=schedule_id,
            created_by=actor,
        )
        self.session.add(drill)
        self.session.flush()
        return drill

    def record_started(self, drill: Drill) -> None:
        """The ``drill.started`` event, written once the drill's incident stream exists."""
        audit.append(
            self.session,
            drill.id,
            "drill.started",
            {
                "scenario": {"id": drill.scenario_id, "version": drill.scenario_version},
                "mode": drill.mode,
                "speed": drill.speed,
                "simulate": drill.simulate,
                "participants": [p.get("email") for p in drill.participants],
                "schedule_id": drill.schedule_id,
            },
            drill.created_by,
            drill.started_at,
        )

    def get_drill(self, drill_id: str) -> Drill:
        drill = self.session.get(Drill, drill_id)
        if drill is None:
            raise UnknownDrill(drill_id)
        return drill

    def list_drills(self, status: str | None = None) -> list[Drill]:
        query = select(Drill).order_by(Drill.started_at, Drill.id)
        if status is not None:
            query = query.where(Drill.status == status)
        return list(self.session.scalars(query))

    def previous_drill(self, drill: Drill) -> Drill | None:
        """The latest completed drill before this one: its improvement plan carries over."""
        query = (
            select(Drill)
            .where(Drill.status == "completed", Drill.started_at < drill.started_at)
            .order_by(Drill.started_at.desc(), Drill.id.desc())
            .limit(1)
        )
        return self.session.scalars(query).first()

    def advance(self, drill: Drill, seconds: float, actor: str, at: datetime) -> Drill:
        if drill.status != "running":
            raise InputError(
                None, None, None, f"drill {drill.id} is {drill.status}", "Only a running drill moves."
            )
        if seconds <= 0:
            raise InputError("--by", None, seconds, "must move the drill clock forward")
        drill.advances = [*drill.advances, [_aware(at, "at").isoformat(), float(seconds)]]
        audit.append(self.session, drill.id, "drill.advanced", {"seconds": seconds}, actor, at)
        return drill

    def begin(self, drill: Drill, at: datetime) -> bool:
        """Start the drill clock now, if nothing has happened on it yet: the minutes a flow run takes
        to start must not eat into a compressed scenario. Returns whether the clock moved."""
        at = _aware(at, "at")
        delivered = any(i.delivered_at is not None for i in self.injects(drill.id))
        if delivered or drill.advances or drill.status != "running" or at <= drill.started_at:
            return False
        drill.started_at = at
        return True

    def attach_flow_run(self, drill: Drill, flow_run_id: str) -> None:
        drill.flow_run_id = flow_run_id

    def finish(
        self,
        drill: Drill,
        *,
        status: str,
        at: datetime,
        actor: str,
        score: Mapping[str, Any] | None = None,
        improvement_plan: Sequence[Mapping[str, Any]] | None = None,
        report_html: str | None = None,
        report_md: str | None = None,
    ) -> Drill:
        if status not in DRILL_STATUSES or status == "running":
            raise ValueError(f"a drill cannot finish as {status!r}")
        drill.status = status
        drill.ended_at = _aware(at, "at")
        if score is not None:
            drill.score = audit.to_jsonable(score)
        if improvement_plan is not None:
            drill.improvement_plan = [audit.to_jsonable(a) for a in improvement_plan]
        drill.report_html, drill.report_md = report_html, report_md
        payload: dict[str, Any] = {"report_html": report_html, "report_md": report_md}
        if score is not None:
            payload["summary"] = audit.to_jsonable(score.get("summary", {}))
        audit.append(self.session, drill.id, f"drill.{status}", payload, actor, at)
        return drill

    # ---- evaluation -----------------------------------------------------------------------------

    def rate_objective(
        self, drill: Drill, objective: str, rating: str, reason: str, by: str, at: datetime
    ) -> None:
        """An evaluator's rating of an objective; the latest one of each objective stands."""
        payload = {"objective": objective, "rating": rating, "reason": reason}
        audit.append(self.session, drill.id, "drill.objective_rated", payload, by, _aware(at, "at"))

    def objective_ratings(self, drill_id: str) -> list[tuple[dict[str, Any], str]]:
        """Every evaluator rating of the drill, oldest first, as (payload, who)."""
        return [(payload, by) for payload, by, _ in self.evaluation_events(drill_id, "drill.objective_rated")]

    def answer_question(
        self, drill: Drill, inject: str, question: str, text: str, by: str, at: datetime
    ) -> None:
        payload = {"inject": inject, "question": question, "text": text}
        audit.append(self.session, drill.id, "drill.question_answered", payload, by, _aware(at, "at"))

    def record_hotwash(
        self,
        drill: Drill,
        party: str,
        went_well: Sequence[str],
        improve: Sequence[str],
        by: str,
        at: datetime,
    ) -> None:
        payload = {"party": party, "went_well": list(went_well), "improve": list(improve)}
        audit.append(self.session, drill.id, "drill.hotwash", payload, by, _aware(at, "at"))

    def evaluation_events(self, drill_id: str, kind: str) -> list[tuple[dict[str, Any], str, datetime]]:
        """The drill's audit events of one kind, oldest first, as (payload, who, when)."""
        query = (
            select(AuditEvent)
            .where(AuditEvent.incident_id == drill_id, AuditEvent.kind == kind)
            .order_by(AuditEvent.seq)
        )
        return [
            (json.loads(e.payload), e.actor, e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC))
            for e in self.session.scalars(query)
        ]

    # ---- injects --------------------------------------------------------------------------------

    def plan_injects(self, drill: Drill, injects: Sequence[tuple[str, str, datetime]]) -> None:
        """Record each inject (id, title, scenario due time) once; a replayed flow changes nothing."""
        for inject_id, title, due_at in injects:
            _insert_ignore(
                self.session,
                DrillInject,
                {
                    "drill_id": drill.id,
                    "inject_id": inject_id,
                    "title": title,
                    "due_at": _aware(due_at, "due_at"),
                },
            )

    def injects(self, drill_id: str) -> list[DrillInject]:
        query = (
            select(DrillInject)
            .where(DrillInject.drill_id == drill_id)
            .order_by(DrillInject.due_at, DrillInject.id)
        )
        return list(self.session.scalars(query))

    def mark_delivered(self, drill: Drill, inject_id: str, scenario_at: datetime, at: datetime) -> bool:
        """Mark an inject delivered; False when it already was (the flow replays)."""
        row = self.session.scalars(
            select(DrillInject).where(DrillInject.drill_id == drill.id, DrillInject.inject_id == inject_id)
        ).one()
        if row.delivered_at is not None:
            return False
        row.delivered_at = _aware(scenario_at, "scenario_at")
        audit.append(
            self.session,
            drill.id,
            "drill.inject_delivered",
            {"inject_id": inject_id, "scenario_at": row.delivered_at},
            "drill",
            at,
        )
        return True

    # ---- schedules ------------------------------------------------------------------------------

    def add_schedule(
        self,
        *,
        scenario_id: str,
        cron: str,
        timezone: str,
        speed: float,
        simulate: bool,
        invite_ahead_hours: float,
        agreement: Mapping[str, Any],
        agreement_path: str | None,
        next_run_at: datetime,
        at: datetime,
        actor: str,
    ) -> DrillSchedule:
        schedule = DrillSchedule(
            scenario_id=scenario_id,
            cron=cron,
            timezone=timezone,
            speed=float(speed),
            simulate=simulate,
            invite_ahead_hours=float(invite_ahead_hours),
            agreement=audit.to_jsonable(agreement),
            agreement_path=agreement_path,
            active=True,
            created_at=_aware(at, "at"),
            created_by=actor,
            next_run_at=_aware(next_run_at, "next_run_at"),
        )
        self.session.add(schedule)
        self.session.flush()
        audit.append(
            self.session,
            SYSTEM_STREAM,
            "drill_schedule.created",
            {
                "schedule_id": schedule.id,
                "scenario": scenario_id,
                "cron": cron,
                "timezone": timezone,
                "speed": speed,
                "simulate": simulate,
                "next_run_at": schedule.next_run_at,
            },
            actor,
            at,
        )
        return schedule

    def schedules(self, active_only: bool = True) -> list[DrillSchedule]:
        query = select(DrillSchedule).order_by(DrillSchedule.id)
        if active_only:
            query = query.where(DrillSchedule.active.is_(True))
        return list(self.session.scalars(query))

    def get_schedule(self, schedule_id: int, lock: bool = False) -> DrillSchedule:
        query = select(DrillSchedule).where(DrillSchedule.id == schedule_id)
        if lock:
            query = query.with_for_update()
        schedule = self.session.scalars(query).first()
        if schedule is None:
            raise InputError(
                None,
                None,
                schedule_id,
                f"unknown drill schedule {schedule_id}",
                "See `breachops drill list`.",
            )
        return schedule

    def mark_fired(
        self,
        schedule: DrillSchedule,
        fired_for: datetime,
        next_run_at: datetime | None,
        drill_id: str,
        at: datetime,
    ) -> None:
        schedule.last_fired_at = _aware(fired_for, "fired_for")
        schedule.next_run_at = next_run_at
        audit.append(
            self.session,
            SYSTEM_STREAM,
            "drill_schedule.fired",
            {
                "schedule_id": schedule.id,
                "occurrence": fired_for,
                "drill_id": drill_id,
                "next_run_at": next_run_at,
            },
            "scheduler",
            at,
        )

    def mark_skipped(
        self,
        schedule: DrillSchedule,
        occurrence: datetime,
        next_run_at: datetime | None,
        reason: str,
        at: datetime,
    ) -> None:
        """An occurrence that could not start (its scenario or agreement no longer loads): recorded and
        passed over, so the schedule neither retries it forever nor stops."""
        schedule.next_run_at = next_run_at
        audit.append(
            self.session,
            SYSTEM_STREAM,
            "drill_schedule.skipped",
            {
                "schedule_id": schedule.id,
                "occurrence": occurrence,
                "reason": reason,
                "next_run_at": next_run_at,
            },
            "scheduler",
            at,
        )

    def mark_invited(
        self, schedule: DrillSchedule, occurrence: datetime, recipients: Sequence[str], at: datetime
    ) -> None:
        schedule.invited_for = _aware(occurrence, "occurrence")
        audit.append(
            self.session,
            SYSTEM_STREAM,
            "drill_schedule.invited",
            {"schedule_id": schedule.id, "occurrence": occurrence, "recipients": list(recipients)},
            "scheduler",
            at,
        )

    def remove_schedule(self, schedule: DrillSchedule, actor: str, at: datetime) -> None:
        schedule.active = False
        audit.append(
            self.session, SYSTEM_STREAM, "drill_schedule.removed", {"schedule_id": schedule.id}, actor, at
        )

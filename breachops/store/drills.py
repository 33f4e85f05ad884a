"""What the drill flow, the scheduler and the CLI do to drill records, each change with its audit event.

Like `Repository`, a `DrillRepository` works inside the caller's transaction and never commits.
A drill's events go to the audit stream of its incident (the same id, ``DRL-<year>-<nnnn>``);
schedule changes go to the system stream. The kinds are listed in docs/audit-events.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from breachops.errors import InputError
from breachops.store import audit
from breachops.store.base import aware, insert_ignore, next_in_year
from breachops.store.corrective_actions import CorrectiveActionRecords
from breachops.store.drill_schedules import DrillScheduleRecords
from breachops.store.models import AuditEvent, Drill, DrillCounter, DrillInject

__all__ = ["DRILL_MODES", "DRILL_STATUSES", "DrillRepository", "UnknownDrill", "allocate_drill_id"]

# stopped: ended by a person (`drill stop`, or closing its record) before the scenario's end.
DRILL_STATUSES: Final = ("running", "completed", "cancelled", "failed", "stopped")
DRILL_MODES: Final = ("real", "compressed", "facilitated")


class UnknownDrill(InputError):
    def __init__(self, drill_id: str) -> None:
        super().__init__(None, None, None, f"unknown drill {drill_id}", "See `breachops drill list`.")


def allocate_drill_id(session: Session, year: int) -> str:
    """The next drill id of ``year`` (``DRL-2026-0003``), numbered like incidents but apart."""
    return f"DRL-{year}-{next_in_year(session, DrillCounter, year):04d}"


class DrillRepository(DrillScheduleRecords):
    """Drills (their record, injects, evaluation) and their schedules, each change audited."""

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
        at = aware(at, "at")
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

    def ended_drill(self, drill_id: str, what_next: str) -> Drill:
        """The drill, refused with ``what_next`` while it still runs."""
        drill = self.get_drill(drill_id)
        if drill.status == "running":
            raise InputError("DRILL", None, drill_id, f"drill {drill_id} is still running", what_next)
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
        drill.advances = [*drill.advances, [aware(at, "at").isoformat(), float(seconds)]]
        audit.append(self.session, drill.id, "drill.advanced", {"seconds": seconds}, actor, at)
        return drill

    def pause(self, drill: Drill, actor: str, at: datetime) -> None:
        """Stop the scenario clock from ``at`` until :meth:`resume` (the caller checks it runs)."""
        at = aware(at, "at")
        drill.pauses = [*(drill.pauses or []), [at.isoformat(), None]]
        audit.append(self.session, drill.id, "drill.paused", {}, actor, at)

    def resume(self, drill: Drill, actor: str, at: datetime) -> None:
        at = aware(at, "at")
        *earlier, (begin, _) = drill.pauses or [[None, None]]
        drill.pauses = [*earlier, [begin, at.isoformat()]]
        audit.append(self.session, drill.id, "drill.resumed", {"paused_since": begin}, actor, at)

    def begin(self, drill: Drill, at: datetime) -> bool:
        """Start the drill clock now, if nothing has happened on it yet: the minutes a flow run takes
        to start must not eat into a compressed scenario. Returns whether the clock moved."""
        at = aware(at, "at")
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
        drill.ended_at = aware(at, "at")
        if score is not None:
            drill.score = audit.to_jsonable(score)
        if improvement_plan is not None:
            drill.improvement_plan = [audit.to_jsonable(a) for a in improvement_plan]
            CorrectiveActionRecords(self.session).sync_plan(drill.id, drill.improvement_plan, at)
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
        audit.append(self.session, drill.id, "drill.objective_rated", payload, by, aware(at, "at"))

    def objective_ratings(self, drill_id: str) -> list[tuple[dict[str, Any], str]]:
        """Every evaluator rating of the drill, oldest first, as (payload, who)."""
        return [(payload, by) for payload, by, _ in self.evaluation_events(drill_id, "drill.objective_rated")]

    def answer_question(
        self, drill: Drill, inject: str, question: str, text: str, by: str, at: datetime
    ) -> None:
        payload = {"inject": inject, "question": question, "text": text}
        audit.append(self.session, drill.id, "drill.question_answered", payload, by, aware(at, "at"))

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
        audit.append(self.session, drill.id, "drill.hotwash", payload, by, aware(at, "at"))

    def finalize_report(self, drill: Drill, by: str, at: datetime) -> None:
        audit.append(self.session, drill.id, "drill.report_finalized", {}, by, aware(at, "at"))

    def finalized(self, drill_id: str) -> bool:
        """Whether the drill's after-action report was finalized (no more evaluation is added)."""
        return bool(self.evaluation_events(drill_id, "drill.report_finalized"))

    def record_feedback(self, drill: Drill, payload: dict[str, Any], by: str, at: datetime) -> None:
        audit.append(self.session, drill.id, "drill.feedback", payload, by, aware(at, "at"))

    def record_observation(self, drill: Drill, payload: dict[str, Any], by: str, at: datetime) -> None:
        audit.append(self.session, drill.id, "drill.observed", payload, by, aware(at, "at"))

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
            insert_ignore(
                self.session,
                DrillInject,
                {
                    "drill_id": drill.id,
                    "inject_id": inject_id,
                    "title": title,
                    "due_at": aware(due_at, "due_at"),
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
        row.delivered_at = aware(scenario_at, "scenario_at")
        audit.append(
            self.session,
            drill.id,
            "drill.inject_delivered",
            {"inject_id": inject_id, "scenario_at": row.delivered_at},
            "drill",
            at,
        )
        return True

    def skip_inject(self, drill: Drill, inject_id: str, reason: str, at: datetime) -> bool:
        """A contingency inject whose test did not hold at its time: never delivered. False when it
        was delivered or skipped already (the flow replays)."""
        row = self.session.scalars(
            select(DrillInject).where(DrillInject.drill_id == drill.id, DrillInject.inject_id == inject_id)
        ).one()
        if row.delivered_at is not None or row.skipped is not None:
            return False
        row.skipped = reason
        payload = {"inject_id": inject_id, "reason": reason}
        audit.append(self.session, drill.id, "drill.inject_skipped", payload, "drill", aware(at, "at"))
        return True

    def flowless_scheduled(self, started_before: datetime) -> list[str]:
        """Scheduled drills still running without a flow run, started before ``started_before``: their
        flow failed to start (Prefect was down when the schedule fired)."""
        query = select(Drill.id).where(
            Drill.schedule_id.is_not(None),
            Drill.status == "running",
            Drill.flow_run_id.is_(None),
            Drill.started_at <= aware(started_before, "started_before"),
        )
        return list(self.session.scalars(query))

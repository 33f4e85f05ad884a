"""Drill schedules: a scenario on a cron in a zone, and what became of each occurrence (audited on the
``system`` stream: created, invited, fired, skipped, removed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select

from breachops.errors import InputError
from breachops.store import audit
from breachops.store.base import RepositoryBase, aware
from breachops.store.models import SYSTEM_STREAM, DrillSchedule

__all__ = ["DrillScheduleRecords"]


class DrillScheduleRecords(RepositoryBase):
    """Adds, reads and retires drill schedules, and records each occurrence."""

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
            created_at=aware(at, "at"),
            created_by=actor,
            next_run_at=aware(next_run_at, "next_run_at"),
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
        schedule.last_fired_at = aware(fired_for, "fired_for")
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
        schedule.invited_for = aware(occurrence, "occurrence")
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

"""Recurring drills: when a schedule's next occurrence comes, invitations go out ahead of it and the
drill starts on time. No Prefect and no APScheduler here: `serve` hands in the function that starts a
drill's flow, and the caller the trigger that says when a schedule fires (``flows/triggers.py``).

Exactly once per occurrence, across any number of `serve` processes on one database: an occurrence
is fired inside one transaction that locks the schedule row, re-reads it, records the drill and
advances ``next_run_at`` together. A second process waits on the lock, then finds the occurrence gone.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol

from breachops.bootstrap import App
from breachops.config.agreements import Agreement, agreement_file, load_agreement, parse_agreement
from breachops.errors import InputError
from breachops.notifications.render import DRILL_PREFIX, render
from breachops.playbooks.loader import find_scenario, load_scenario
from breachops.playbooks.participants import Participant, participants_of
from breachops.playbooks.scenarios import Scenario
from breachops.reports.ics import drill_invitation_ics
from breachops.services.checks import check_text
from breachops.services.drills import start_drill
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.models import DrillSchedule

__all__ = [
    "INVITATION_KIND",
    "StartFlow",
    "Trigger",
    "TriggerOf",
    "create_schedule",
    "fire_due",
    "invitation_key",
    "remove_schedule",
    "send_invitations",
    "start_pending_flows",
]

log = logging.getLogger("breachops.drill_schedules")

INVITATION_KIND: Final = "drill_invitation"
StartFlow = Callable[[App, str], Any]
"""Starts the flow run of a recorded drill (in `serve`: ``launcher.start_drill_flow``)."""

_START_GRACE = timedelta(minutes=2)


class Trigger(Protocol):
    """When a schedule fires (``flows.triggers.DrillTrigger``). ``cron`` is what is stored."""

    @property
    def cron(self) -> str: ...

    @property
    def timezone(self) -> str: ...

    def next_after(self, instant: datetime) -> datetime | None:
        """The first occurrence strictly after ``instant`` (UTC), or None if there is none."""
        ...


TriggerOf = Callable[[DrillSchedule], Trigger]
"""The trigger a stored schedule was created with (``flows.triggers.trigger_of``)."""


# ---- creating and removing ----------------------------------------------------------------------


def create_schedule(
    app: App,
    scenario_name: str,
    *,
    trigger: Trigger,
    speed: float,
    simulate: bool,
    invite_ahead: timedelta,
    agreement_path: Path | None,
    actor: str,
) -> DrillSchedule:
    """Check everything a future occurrence needs, then store the schedule. Nothing is stored when
    any of it is wrong: a quarterly drill must not fail for the first time three months from now."""
    check_text("--by", actor, max_length=254)
    if not (math.isfinite(speed) and speed > 0):
        raise InputError(
            "--speed", None, speed, "must be a number above 0",
            "A scheduled drill runs on its own clock; run a facilitated one with `drill run --facilitated`.",
        )  # fmt: skip
    if invite_ahead < timedelta(0):
        raise InputError("--invite-ahead", None, str(invite_ahead), "must not be negative", "E.g. 7d.")
    scenario = load_scenario(scenario_name, _scenario_search(app), app.playbook_search)
    _findable_by_id(app, scenario, scenario_name)
    agreement = load_agreement(agreement_file(app.workspace, agreement_path))
    participants_of(scenario, agreement)
    now = app.clock.now()
    first = trigger.next_after(now)
    if first is None:
        raise InputError("--cron", None, trigger.cron, "has no occurrence after now")
    with app.transaction() as session:
        schedule = DrillRepository(session).add_schedule(
            scenario_id=scenario.id,
            cron=trigger.cron,
            timezone=trigger.timezone,
            speed=speed,
            simulate=simulate,
            invite_ahead_hours=invite_ahead.total_seconds() / 3600,
            agreement=agreement.model_dump(mode="json", by_alias=True, exclude_none=True),
            agreement_path=str(Path(agreement.origin).resolve()) if agreement.origin else None,
            next_run_at=first,
            at=now,
            actor=actor,
        )
        session.flush()
        session.expunge(schedule)
    return schedule


def remove_schedule(app: App, schedule_id: int, actor: str) -> DrillSchedule:
    with app.transaction() as session:
        drills = DrillRepository(session)
        schedule = drills.get_schedule(schedule_id, lock=True)
        if not schedule.active:
            raise InputError(None, "ID", schedule_id, f"drill schedule {schedule_id} was already removed")
        drills.remove_schedule(schedule, actor, app.clock.now())
        session.flush()
        session.expunge(schedule)
    return schedule


def _scenario_search(app: App) -> list[Path]:
    return [app.workspace / "scenarios"]


def _findable_by_id(app: App, scenario: Scenario, given: str) -> None:
    """The schedule stores the scenario's id and loads it again at each occurrence, so a file given by
    path must be the one that id finds (the workspace's scenarios/ folder, or a shipped scenario)."""
    try:
        found = find_scenario(scenario.id, _scenario_search(app)).resolve()
    except InputError:
        found = None
    if scenario.origin and found != Path(scenario.origin).resolve():
        raise InputError(
            None, "SCENARIO", given,
            f"scenario {scenario.id!r} is not found by its id, and a schedule loads it by id at each drill",
            f"Put the file in {app.workspace / 'scenarios'}/ and schedule it as {scenario.id}.",
        )  # fmt: skip


def _agreement_of(schedule: DrillSchedule) -> Agreement:
    """The agreement as its file says now (people change over a year of drills); the copy taken when
    the schedule was made if the file is gone. A file that no longer loads is an error, not a reason to
    fall back on old contacts. (No incident has it yet: the drill's incident snapshots what this gives,
    and from then on its agreement is read through ``App.agreements``.)"""
    if schedule.agreement_path and Path(schedule.agreement_path).is_file():
        return load_agreement(Path(schedule.agreement_path))
    return parse_agreement(dict(schedule.agreement), f"drill schedule {schedule.id} agreement")


def _scenario_of(app: App, schedule: DrillSchedule) -> Scenario:
    return load_scenario(schedule.scenario_id, _scenario_search(app), app.playbook_search)


# ---- firing ---------------------------------------------------------------------------------------


def fire_due(app: App, now: datetime, start_flow: StartFlow | None, trigger_of: TriggerOf) -> list[str]:
    """Start the drill of every schedule whose occurrence has come; return the drill ids.

    After downtime the missed occurrences start one drill, not one each: the next run is the first
    occurrence after ``now``. An occurrence whose scenario or agreement no longer loads is recorded as
    skipped (audit ``drill_schedule.skipped``) and the schedule goes on.
    """
    with app.transaction() as session:
        due = [
            s.id
            for s in DrillRepository(session).schedules()
            if s.next_run_at is not None and s.next_run_at <= now
        ]
    fired = []
    for schedule_id in due:
        drill_id = _fire(app, schedule_id, now, trigger_of)
        if drill_id is None:
            continue
        fired.append(drill_id)
        if start_flow is not None:
            _start(app, drill_id, start_flow)
    return fired


def _fire(app: App, schedule_id: int, now: datetime, trigger_of: TriggerOf) -> str | None:
    # One transaction for the lock, the re-check, the drill and the mark: that is why start_drill takes
    # our session. On SQLite every transaction begins IMMEDIATE (database.py), which serialises it too.
    with app.transaction() as session:
        drills = DrillRepository(session)
        schedule = drills.get_schedule(schedule_id, lock=True)
        occurrence = schedule.next_run_at
        if not schedule.active or occurrence is None or occurrence > now:
            return None  # another process fired it (or it was removed) while we looked
        following = trigger_of(schedule).next_after(now)
        try:
            with session.begin_nested():  # a drill that fails half-way leaves nothing behind
                drill_id = start_drill(
                    app,
                    _scenario_of(app, schedule),
                    _agreement_of(schedule),
                    speed=schedule.speed,
                    mode="real" if schedule.speed == 1 else "compressed",
                    simulate=schedule.simulate,
                    actor=schedule.created_by,
                    schedule_id=schedule.id,
                    session=session,
                )
        except InputError as exc:
            log.error("drill schedule %s: the drill due at %s cannot start: %s", schedule.id, occurrence, exc)
            drills.mark_skipped(schedule, occurrence, following, str(exc), now)
            return None
        drills.mark_fired(schedule, occurrence, following, drill_id, now)
        log.info("drill schedule %s: started %s (occurrence %s)", schedule.id, drill_id, occurrence)
        return drill_id


def _start(app: App, drill_id: str, start_flow: StartFlow) -> None:
    try:
        start_flow(app, drill_id)
    except Exception:  # Prefect unreachable: start_pending_flows tries again on the next round
        log.exception("drill %s is recorded but its flow did not start; will retry", drill_id)


def start_pending_flows(app: App, now: datetime, start_flow: StartFlow) -> list[str]:
    """Start the flow of a scheduled drill whose start failed (Prefect was down when it fired). Safe
    alongside `_start` in another process: a flow run is created with the drill's idempotency key."""
    with app.transaction() as session:
        pending = DrillRepository(session).flowless_scheduled(now - _START_GRACE)
    for drill_id in pending:
        _start(app, drill_id, start_flow)
    return pending


# ---- invitations ----------------------------------------------------------------------------------


def invitation_key(schedule_id: int, occurrence: datetime, email: str) -> str:
    """``schedule:<id>:<occurrence>:invite:<email>``, the address hashed if the key would be too long."""
    stamp = occurrence.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    key = f"schedule:{schedule_id}:{stamp}:invite:{email.lower()}"
    if len(key) <= 200 and re.fullmatch(r"[\x21-\x7e]+", key):
        return key
    return f"schedule:{schedule_id}:{stamp}:invite:{hashlib.sha256(email.lower().encode()).hexdigest()[:32]}"


def send_invitations(app: App, now: datetime) -> list[str]:
    """Queue the invitations of every occurrence within its schedule's invite-ahead time and not yet
    invited: one message per participant, with a calendar request. Return the keys queued."""
    with app.transaction() as session:
        ready = [s.id for s in DrillRepository(session).schedules() if _invitations_due(s, now)]
    queued: list[str] = []
    for schedule_id in ready:
        try:
            queued += _invite(app, schedule_id, now)
        except InputError as exc:  # fire_due records the occurrence as skipped when it comes
            log.warning("drill schedule %s: no invitations: %s", schedule_id, exc)
    return queued


def _invitations_due(schedule: DrillSchedule, now: datetime) -> bool:
    occurrence = schedule.next_run_at
    if not schedule.active or occurrence is None or schedule.invited_for == occurrence:
        return False
    # An occurrence already due (serve was down) is still invited: its calendar entry still tells
    # people the drill is on for the next days.
    return occurrence - timedelta(hours=schedule.invite_ahead_hours) <= now


def _invite(app: App, schedule_id: int, now: datetime) -> list[str]:
    with app.transaction() as session:
        drills = DrillRepository(session)
        schedule = drills.get_schedule(schedule_id, lock=True)
        if not _invitations_due(schedule, now):
            return []
        occurrence = schedule.next_run_at
        assert occurrence is not None
        scenario = _scenario_of(app, schedule)
        agreement = _agreement_of(schedule)
        people = participants_of(scenario, agreement)
        organizer = _facilitator(agreement)
        ends = occurrence + scenario.duration / schedule.speed
        stamp = occurrence.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        exercise = {
            "id": f"drill schedule {schedule.id}, {stamp}",
            "name": scenario.title,
            "scenario": scenario.id,
            "starts_at": occurrence,
            "ends_at": ends,
            "location": "by email: injects arrive in your inbox; answer with `breachops step done`",
        }
        ics = drill_invitation_ics(
            uid=f"drill-schedule-{schedule.id}-{stamp}@breachops",
            summary=f"{DRILL_PREFIX} Tabletop exercise: {scenario.title}",
            description=_ics_description(scenario, agreement, schedule, organizer),
            start=occurrence,
            end=ends,
            organizer=organizer,
            attendees=[(p.name, p.email) for p in people],
            stamp=now,
        )
        attachment = {"filename": "drill-invitation.ics", "method": "REQUEST", "content": ics.decode("utf-8")}
        listed = [
            {"name": p.name, "role": _role_label(p), "party": agreement.parties[p.party].name} for p in people
        ]
        repo = Repository(session)
        queued = []
        for person in people:
            rendered = render(
                INVITATION_KIND,
                {
                    "recipient": {"name": person.name, "timezone": person.timezone},
                    "exercise": exercise,
                    "facilitator": {"name": organizer[0], "email": organizer[1]},
                    "participants": listed,
                },
                drill=True,  # the [DRILL] subject and banner; the message itself belongs to no incident
                template_dir=app.template_dir,
            )
            key = invitation_key(schedule.id, occurrence, person.email)
            made = repo.queue_message(
                idempotency_key=key,
                kind=INVITATION_KIND,
                template=INVITATION_KIND,
                recipients=[person.email],
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                at=now,
                actor="scheduler",
                attachment=attachment,
            )
            if made.created:
                queued.append(key)
        drills.mark_invited(schedule, occurrence, [p.email for p in people], now)
        return queued


def _facilitator(agreement: Agreement) -> tuple[str, str]:
    """The organizer: the disclosing party's incident lead (the first party's, if none is named so)."""
    party = agreement.parties.get("disclosing") or next(iter(agreement.parties.values()))
    lead = party.contacts["incident_lead"]
    return (lead.name, lead.email)


def _role_label(person: Participant) -> str:
    label = person.role.replace("_", " ")
    if person.stands_in_for:
        label += f", standing in for {person.stands_in_for.replace('_', ' ')}"
    return label


def _ics_description(
    scenario: Scenario, agreement: Agreement, schedule: DrillSchedule, organizer: tuple[str, str]
) -> str:
    return (
        f"Tabletop exercise of both parties under {agreement.id}: {scenario.title}.\n"
        f"During the exercise injects arrive by email, marked {DRILL_PREFIX}; act on them only inside it.\n"
        f"Facilitator: {organizer[0]} <{organizer[1]}>.\n"
        f"Drill schedule {schedule.id} ({schedule.cron}, {schedule.timezone})."
    )

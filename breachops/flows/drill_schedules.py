"""Recurring drills: when a schedule's next occurrence comes, invitations go out ahead of it and the
drill starts on time. No Prefect here: `serve` hands in the function that starts a drill's flow.

A schedule is a crontab expression (or a preset) in a named zone. Occurrences are computed on the wall
clock of that zone, so "10:00 Europe/Berlin" is 10:00 in winter and in summer; each wall-clock time
fires once, also in the hour that repeats when clocks go back.

Exactly once per occurrence, across any number of `serve` processes on one database: an occurrence
is fired inside one transaction that locks the schedule row, re-reads it, records the drill and
advances ``next_run_at`` together. A second process waits on the lock, then finds the occurrence gone.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from breachops.bootstrap import App
from breachops.config.agreements import Agreement, load_agreement, parse_agreement
from breachops.errors import InputError
from breachops.flows.checks import check_text
from breachops.flows.drill_service import Participant, participants_of, start_drill
from breachops.notifications.render import DRILL_PREFIX, render
from breachops.playbooks.loader import find_scenario, load_scenario
from breachops.playbooks.scenarios import Scenario
from breachops.reports.ics import drill_invitation_ics
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.models import Drill, DrillSchedule

__all__ = [
    "INVITATION_KIND",
    "PRESETS",
    "DrillTrigger",
    "StartFlow",
    "create_schedule",
    "describe",
    "fire_due",
    "invitation_key",
    "parse_schedule",
    "remove_schedule",
    "run_schedules",
    "send_invitations",
    "start_pending_flows",
    "trigger_of",
]

log = logging.getLogger("breachops.drill_schedules")

INVITATION_KIND: Final = "drill_invitation"
StartFlow = Callable[[App, str], Any]
"""Starts the flow run of a recorded drill (in `serve`: ``launcher.start_drill_flow``)."""

# name → (what it means, the cron fields on the wall clock). "1st tue" is APScheduler's own syntax:
# crontab cannot say "the first Tuesday", and a Tuesday keeps the drill off weekends and Mondays after
# a holiday.
PRESETS: Final[dict[str, tuple[str, dict[str, str]]]] = {
    "weekly": ("every Tuesday at 10:00", {"day_of_week": "tue", "hour": "10", "minute": "0"}),
    "monthly": ("the first Tuesday of every month at 10:00", {"day": "1st tue", "hour": "10", "minute": "0"}),
    "quarterly": (
        "the first Tuesday of January, April, July and October at 10:00",
        {"month": "1,4,7,10", "day": "1st tue", "hour": "10", "minute": "0"},
    ),
    "yearly": (
        "the first Tuesday of January at 10:00",
        {"month": "1", "day": "1st tue", "hour": "10", "minute": "0"},
    ),
}
_PRESET_MARK = "@"  # a preset is stored in the cron column as "@quarterly"
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 (and 7) is Sunday
_WEEKDAY_TERM = re.compile(r"^(\*|[0-7a-z]{1,3}(?:-[0-7a-z]{1,3})?)(?:/([0-9]+))?$")
_EPSILON = timedelta(microseconds=1)
_START_GRACE = timedelta(minutes=2)


# ---- when ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrillTrigger:
    """When a schedule fires. ``cron`` is what is stored (a crontab expression or ``@preset``)."""

    cron: str
    timezone: str
    description: str
    wall: BaseTrigger  # the fields evaluated on the zone's wall clock (see ``next_after``)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_after(self, instant: datetime) -> datetime | None:
        """The first occurrence strictly after ``instant`` (UTC), or None if there is none.

        APScheduler 3 evaluated in the zone itself fires a time of the repeated autumn hour twice, and
        can answer with an instant before the one asked about, which would start one drill twice. So
        the trigger runs in UTC (no DST) on wall-clock values, and each wall time is placed in the zone
        at its first instance (``fold=0``); a wall time whose first instance has passed is not fired
        again, and one in the spring gap lands an hour later, as PEP 495 resolves it.
        """
        zone = self.zone
        probe = instant.astimezone(zone).replace(tzinfo=UTC, fold=0)
        for _ in range(240):  # only the minutes of one repeated hour are ever passed over
            found = self.wall.get_next_fire_time(None, probe + _EPSILON)
            if found is None:
                return None
            candidate = found.replace(tzinfo=zone, fold=0).astimezone(UTC)
            if candidate > instant:
                return candidate
            probe = found
        return None

    def occurrences(self, after: datetime, count: int) -> list[datetime]:
        found: list[datetime] = []
        at = after
        while len(found) < count:
            following = self.next_after(at)
            if following is None:
                break
            found.append(following)
            at = following
        return found


def parse_schedule(cron: str | None, preset: str | None, tz: str) -> DrillTrigger:
    """A crontab expression (minute hour day-of-month month day-of-week, as crontab(5) reads it) or
    a preset (weekly, monthly, quarterly, yearly), in the IANA zone ``tz``."""
    if (cron is None) == (preset is None):
        given = "both --cron and --preset" if cron is not None else "neither --cron nor --preset"
        raise InputError(
            "--cron/--preset", None, None, f"{given} given",
            f"Give exactly one: --cron '0 10 * * 2' or --preset {'|'.join(PRESETS)}.",
        )  # fmt: skip
    zone_name = _zone(tz)
    if preset is not None:
        name = preset.strip().lower().removeprefix(_PRESET_MARK)
        if name not in PRESETS:
            raise InputError("--preset", None, preset, "is not a preset", f"Presets: {', '.join(PRESETS)}.")
        meaning, fields = PRESETS[name]
        return DrillTrigger(
            f"{_PRESET_MARK}{name}",
            zone_name,
            f"{name}: {meaning} ({zone_name})",
            CronTrigger(**fields, timezone=UTC),
        )
    assert cron is not None
    expression = " ".join(cron.split())
    return DrillTrigger(expression, zone_name, f"cron '{expression}' ({zone_name})", _crontab(expression))


def trigger_of(schedule: DrillSchedule) -> DrillTrigger:
    """The trigger a stored schedule was created with."""
    if schedule.cron.startswith(_PRESET_MARK):
        return parse_schedule(None, schedule.cron, schedule.timezone)
    return parse_schedule(schedule.cron, None, schedule.timezone)


def _zone(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            "--tz", None, tz, "is not a time zone this machine knows",
            "Give an IANA zone name such as Europe/Berlin, America/Sao_Paulo or UTC.",
        ) from None  # fmt: skip
    return tz


def _crontab(expression: str) -> BaseTrigger:
    """A crontab expression with crontab's meaning, which APScheduler 3 alone does not give:
    its weekday numbers start at Monday (crontab's 0 is Sunday), and when both the day of the month
    and the day of the week are restricted, crontab fires on either (APScheduler only on both)."""
    fields = expression.split(" ")
    hint = "Five fields: minute hour day-of-month month day-of-week, e.g. '0 10 * * 2' (Tuesdays 10:00)."
    if expression.startswith(_PRESET_MARK):
        raise InputError(
            "--cron", None, expression, "is a nickname, not a crontab expression", "Use --preset."
        )
    if len(fields) != 5:
        raise InputError("--cron", None, expression, f"has {len(fields)} field(s), not 5", hint)
    minute, hour, day, month, weekday = fields
    try:
        weekdays = _weekdays(weekday)
        if not day.startswith("*") and not weekday.startswith("*"):
            trigger: BaseTrigger = OrTrigger([
                CronTrigger.from_crontab(f"{minute} {hour} {day} {month} *", timezone=UTC),
                CronTrigger.from_crontab(f"{minute} {hour} * {month} {weekdays}", timezone=UTC),
            ])  # fmt: skip
        else:
            trigger = CronTrigger.from_crontab(f"{minute} {hour} {day} {month} {weekdays}", timezone=UTC)
    except ValueError as exc:
        raise InputError(
            "--cron", None, expression, f"is not a valid crontab expression: {exc}", hint
        ) from None
    if trigger.get_next_fire_time(None, datetime(2000, 1, 1, tzinfo=UTC)) is None:
        raise InputError("--cron", None, expression, "never fires", hint)
    return trigger


def _weekdays(text: str) -> str:
    """Crontab's day-of-week field as APScheduler names (``1-5`` → ``mon,tue,wed,thu,fri``)."""
    if text == "*":
        return "*"
    days: set[int] = set()
    for term in text.lower().split(","):
        match = _WEEKDAY_TERM.match(term)
        if match is None:
            raise ValueError(f"day of week {term!r} is not a day (0-7 or sun-sat), a range or a step")
        span, step = match.group(1), int(match.group(2) or 1)
        if step < 1:
            raise ValueError(f"day of week {term!r} has a step of 0")
        if span == "*":
            first, last = 0, 6
        else:
            start, _, end = span.partition("-")
            first = _weekday(start)
            last = _weekday(end) if end else (6 if match.group(2) else first)
            if last == 0 and first > 0:
                last = 7  # "fri-sun": Sunday closes the week
            if last < first:
                raise ValueError(f"day of week range {span!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[day] for day in sorted(days))


def _weekday(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    raise ValueError(f"{text!r} is not a day of the week (0-7 or sun-sat)")


# ---- creating and removing ----------------------------------------------------------------------


def create_schedule(
    app: App,
    scenario_name: str,
    *,
    cron: str | None,
    preset: str | None,
    tz: str,
    speed: float,
    simulate: bool,
    invite_ahead: timedelta,
    agreement_path: Path | None,
    actor: str,
) -> DrillSchedule:
    """Check everything a future occurrence needs, then store the schedule. Nothing is stored when
    any of it is wrong: a quarterly drill must not fail for the first time three months from now."""
    check_text("--by", actor, max_length=254)
    trigger = parse_schedule(cron, preset, tz)
    if not (math.isfinite(speed) and speed > 0):
        raise InputError(
            "--speed", None, speed, "must be a number above 0",
            "A scheduled drill runs on its own clock; run a facilitated one with `drill run --facilitated`.",
        )  # fmt: skip
    if invite_ahead < timedelta(0):
        raise InputError("--invite-ahead", None, str(invite_ahead), "must not be negative", "E.g. 7d.")
    scenario = load_scenario(scenario_name, _scenario_search(app), app.playbook_search)
    _findable_by_id(app, scenario, scenario_name)
    agreement = load_agreement(_agreement_file(app, agreement_path))
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


def _agreement_file(app: App, given: Path | None) -> Path:
    if given is not None:
        return given
    default = app.workspace / "agreement.yaml"
    if not default.exists():
        raise InputError(
            "--agreement", None, None, f"no agreement given and {default} does not exist",
            "Pass --agreement FILE, or run `breachops init` to create a workspace with one to edit.",
        )  # fmt: skip
    return default


def _agreement_of(schedule: DrillSchedule) -> Agreement:
    """The agreement as its file says now (people change over a year of drills); the copy taken when
    the schedule was made if the file is gone. A file that no longer loads is an error, not a reason to
    fall back on old contacts."""
    if schedule.agreement_path and Path(schedule.agreement_path).is_file():
        return load_agreement(Path(schedule.agreement_path))
    return parse_agreement(dict(schedule.agreement), f"drill schedule {schedule.id} agreement")


def _scenario_of(app: App, schedule: DrillSchedule) -> Scenario:
    return load_scenario(schedule.scenario_id, _scenario_search(app), app.playbook_search)


# ---- firing ---------------------------------------------------------------------------------------


def fire_due(app: App, now: datetime, start_flow: StartFlow | None) -> list[str]:
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
        drill_id = _fire(app, schedule_id, now)
        if drill_id is None:
            continue
        fired.append(drill_id)
        if start_flow is not None:
            _start(app, drill_id, start_flow)
    return fired


def _fire(app: App, schedule_id: int, now: datetime) -> str | None:
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
        pending = list(
            session.scalars(
                select(Drill.id).where(
                    Drill.schedule_id.is_not(None),
                    Drill.status == "running",
                    Drill.flow_run_id.is_(None),
                    Drill.started_at <= now - _START_GRACE,
                )
            )
        )
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
                template_dir=_template_dir(app),
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


def _template_dir(app: App) -> Path | None:
    folder = app.workspace / "templates"
    return folder if folder.is_dir() else None


# ---- the job in `serve` ---------------------------------------------------------------------------


def run_schedules(
    app: App, start_flow: StartFlow, send_queued: Callable[[], Any] | None = None
) -> tuple[list[str], list[str]]:
    """One round, every 30 s in `serve`: invitations (sent at once through ``send_queued``), then
    due drills, then flows that failed to start. Returns (invitation keys, drill ids)."""
    now = app.clock.now()
    invited = send_invitations(app, now)
    if invited and send_queued is not None:
        send_queued()
    fired = fire_due(app, now, start_flow)
    start_pending_flows(app, now, start_flow)
    return invited, fired


def describe(trigger: DrillTrigger, occurrences: Sequence[datetime]) -> list[dict[str, str]]:
    """Occurrences as the CLI shows them: in the schedule's zone and in UTC."""
    zone: tzinfo = trigger.zone
    return [
        {"local": f"{o.astimezone(zone):%Y-%m-%d %H:%M %Z}", "utc": f"{o.astimezone(UTC):%Y-%m-%d %H:%M} UTC"}
        for o in occurrences
    ]

"""When recurring drills fire, and the job in `serve` that fires them (APScheduler's cron triggers).

A schedule is a crontab expression (or a preset) in a named zone. Occurrences are computed on the wall
clock of that zone, so "10:00 Europe/Berlin" is 10:00 in winter and in summer; each wall-clock time
fires once, also in the hour that repeats when clocks go back. What an occurrence does (invitations,
the drill) is in ``services/drill_schedules.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

from breachops.bootstrap import App
from breachops.errors import InputError
from breachops.services.drill_schedules import StartFlow, fire_due, send_invitations, start_pending_flows
from breachops.store.models import DrillSchedule

__all__ = ["PRESETS", "DrillTrigger", "describe", "parse_schedule", "run_schedules", "trigger_of"]

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


def describe(trigger: DrillTrigger, occurrences: Sequence[datetime]) -> list[dict[str, str]]:
    """Occurrences as the CLI shows them: in the schedule's zone and in UTC."""
    zone: tzinfo = trigger.zone
    return [
        {"local": f"{o.astimezone(zone):%Y-%m-%d %H:%M %Z}", "utc": f"{o.astimezone(UTC):%Y-%m-%d %H:%M} UTC"}
        for o in occurrences
    ]


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
    fired = fire_due(app, now, start_flow, trigger_of)
    start_pending_flows(app, now, start_flow)
    return invited, fired

"""`breachops drill schedule` and `drill unschedule`: recurring drills, fired by `breachops serve`.

``register(drill_app)`` adds the two commands to the `drill` group; ``schedules_json`` and
``schedules_table`` are what `drill list` shows of the schedules.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from breachops.bootstrap import App
from breachops.commands.common import TableOrJson, actor, make_app, out
from breachops.errors import InputError
from breachops.flows.triggers import describe, parse_schedule, trigger_of
from breachops.playbooks.scenario_time import parse_span
from breachops.services.drill_schedules import create_schedule, remove_schedule
from breachops.store.drills import DrillRepository
from breachops.store.models import DrillSchedule
from breachops.textsafe import cell, json_text, markup

__all__ = ["register", "schedules_json", "schedules_table"]

SHOWN_OCCURRENCES = 3


def register(app: typer.Typer) -> None:
    """Add `schedule` and `unschedule` to the `drill` command group."""
    app.command("schedule")(drill_schedule)
    app.command("unschedule")(drill_unschedule)


def drill_schedule(
    scenario_name: Annotated[str, typer.Argument(metavar="SCENARIO", help="A scenario id or file.")],
    cron: Annotated[
        str | None, typer.Option("--cron", help="A crontab expression, e.g. '0 10 * * 2' (Tuesdays 10:00).")
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option("--preset", help="weekly, monthly, quarterly or yearly (first Tuesdays, 10:00)."),
    ] = None,
    tz: Annotated[
        str | None, typer.Option("--tz", help="The zone the times are in (IANA, e.g. Europe/Berlin).")
    ] = None,
    speed: Annotated[float, typer.Option("--speed", help="Scenario hours per real hour.")] = 1.0,
    simulate: Annotated[bool, typer.Option("--simulate", help="Scripted participants answer.")] = False,
    invite_ahead: Annotated[
        str, typer.Option("--invite-ahead", help="How long before each drill the invitations go out.")
    ] = "7d",
    agreement: Annotated[
        Path | None, typer.Option("--agreement", "-a", help="agreement.yaml (default: the workspace's).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who schedules it (the facilitator).")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Schedule a recurring drill. `breachops serve` sends the invitations and starts each drill."""
    if tz is None:
        raise InputError(
            "--tz", None, None, "is required: a schedule's times are wall-clock times in a zone",
            "E.g. --tz Europe/Berlin.",
        )  # fmt: skip
    try:
        ahead = parse_span(invite_ahead)
    except ValueError as exc:
        raise InputError("--invite-ahead", None, invite_ahead, str(exc)) from None
    app = make_app()
    schedule = create_schedule(
        app,
        scenario_name,
        trigger=parse_schedule(cron, preset, tz),
        speed=speed,
        simulate=simulate,
        invite_ahead=ahead,
        agreement_path=agreement,
        actor=actor(by),
    )
    data = _schedule_dict(schedule, app.clock.now())
    if fmt is TableOrJson.json:
        print(json_text(data, indent=2))
        return
    out.print(
        f"drill schedule [bold]{schedule.id}[/bold]: {markup(schedule.scenario_id)}, {markup(data['when'])}",
        highlight=False,
    )
    table = Table(f"next drills ({markup(schedule.timezone)})", "UTC", "invitations go out (UTC)")
    for item in data["next"]:
        table.add_row(cell(item["local"]), cell(item["utc"]), cell(item["invitations_at"]))
    out.print(table)
    out.print("drills start and invitations go out while `breachops serve` runs")


def drill_unschedule(
    schedule_id: Annotated[
        int, typer.Argument(metavar="ID", min=1, max=2**63 - 1, help="The schedule id (see `drill list`).")
    ],
    by: Annotated[str | None, typer.Option("--by", help="Who removes it.")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table for people, json for scripts.")] = (
        TableOrJson.table
    ),
) -> None:
    """Stop a recurring drill. Drills it already started go on."""
    app = make_app()
    schedule = remove_schedule(app, schedule_id, actor(by))
    if fmt is TableOrJson.json:
        print(json_text({"schedule": schedule.id, "scenario": schedule.scenario_id, "removed": True}))
        return
    out.print(f"drill schedule {schedule.id} ({markup(schedule.scenario_id)}) removed", highlight=False)


def schedules_json(app: App) -> list[dict[str, Any]]:
    """The active schedules, each with its next occurrences, for `drill list --format json`."""
    now = app.clock.now()
    with app.transaction() as session:
        return [_schedule_dict(s, now) for s in DrillRepository(session).schedules()]


def schedules_table(app: App) -> str:
    """The active schedules as a plain-text table, for `drill list`."""
    rows = schedules_json(app)
    table = Table("id", "scenario", "when", "speed", "next drill", "invited", title="Schedules")
    for row in rows:
        upcoming = row["next"][0] if row["next"] else None
        table.add_row(
            str(row["id"]),
            cell(row["scenario"]),
            cell(row["when"]),
            f"{row['speed']:g}" + (", simulated" if row["simulate"] else ""),
            cell(f"{upcoming['local']} ({upcoming['utc']})" if upcoming else "—"),
            "yes" if row["invited_for"] and row["invited_for"] == row["next_run_at"] else "no",
        )
    buffer = io.StringIO()
    Console(file=buffer, width=140, color_system=None, highlight=False).print(
        table if rows else "Schedules: none (add one with `breachops drill schedule`)"
    )
    return buffer.getvalue().rstrip("\n")


def _schedule_dict(schedule: DrillSchedule, now: datetime) -> dict[str, Any]:
    trigger = trigger_of(schedule)
    ahead = timedelta(hours=schedule.invite_ahead_hours)
    first = schedule.next_run_at
    upcoming = [first, *trigger.occurrences(first, SHOWN_OCCURRENCES - 1)] if first is not None else []
    shown = describe(trigger, upcoming)
    for item, occurrence in zip(shown, upcoming, strict=True):
        invite = occurrence - ahead
        if schedule.invited_for == occurrence:
            item["invitations_at"] = "sent"
        elif invite <= now:
            item["invitations_at"] = "now"
        else:
            item["invitations_at"] = f"{invite.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return {
        "id": schedule.id,
        "scenario": schedule.scenario_id,
        "cron": schedule.cron,
        "timezone": schedule.timezone,
        "when": trigger.description,
        "speed": schedule.speed,
        "simulate": schedule.simulate,
        "invite_ahead_hours": schedule.invite_ahead_hours,
        "agreement_path": schedule.agreement_path,
        "next_run_at": _iso(schedule.next_run_at),
        "last_fired_at": _iso(schedule.last_fired_at),
        "invited_for": _iso(schedule.invited_for),
        "created_by": schedule.created_by,
        "next": [{**item, "at": _iso(o)} for item, o in zip(shown, upcoming, strict=True)],
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()

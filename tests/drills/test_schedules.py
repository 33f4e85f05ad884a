"""Recurring drills: schedules parsed as crontab reads them, on the zone's wall clock across DST; each
occurrence fired once (twice called, two processes, after downtime); invitations sent once, ahead of
time, only to the participants, as a calendar request; bad `drill schedule` input stores nothing."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from icalendar import Calendar
from sqlalchemy import func, select
from typer.testing import CliRunner

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.commands.drill_schedules import register, schedules_json, schedules_table
from breachops.config.agreements import load_agreement
from breachops.config.audit_key import KEY_FILE
from breachops.config.settings import Settings
from breachops.errors import InputError
from breachops.files import create_private, private_dir
from breachops.flows.triggers import parse_schedule, trigger_of
from breachops.notifications.channels.guard import DrillGuard
from breachops.notifications.channels.smtp import SmtpChannel
from breachops.notifications.outbox import dispatch, drill_participants
from breachops.playbooks.loader import load_scenario
from breachops.playbooks.participants import participants_of
from breachops.services.drill_schedules import (
    create_schedule,
    fire_due,
    send_invitations,
    start_pending_flows,
)
from breachops.store.drills import DrillRepository
from breachops.store.models import AuditEvent, Drill, DrillSchedule, Message
from tests.reminders.conftest import Smtp
from tests.store.conftest import _reset_postgres, postgres_url  # noqa: F401 - the fixture is used below

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "examples" / "agreement.yaml"
SCENARIO = "subcontractor-source-leak"
CREATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
# The quarterly preset's next occurrence after CREATED: the first Tuesday of April, 10:00 in Berlin.
FIRST = datetime(2026, 4, 7, 8, 0, tzinfo=UTC)
SECOND = datetime(2026, 7, 7, 8, 0, tzinfo=UTC)
OUTSIDERS = {"petra.schulz@nordlicht.example", "carlos.mendes@horizonte.example", "arjun.mehta@ganga.example"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(CREATED)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> App:
    return App(Settings(workspace=tmp_path / "ws"), clock=clock)


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


def schedule(app: App, **changes: Any) -> DrillSchedule:
    scenario = changes.pop("scenario", SCENARIO)
    options: dict[str, Any] = {
        "cron": None,
        "preset": "quarterly",
        "tz": "Europe/Berlin",
        "speed": 1.0,
        "simulate": False,
        "invite_ahead": timedelta(days=7),
        "agreement_path": AGREEMENT,
        "actor": "jana.weber@nordlicht.example",
        **changes,
    }
    trigger = parse_schedule(options.pop("cron"), options.pop("preset"), options.pop("tz"))
    return create_schedule(app, scenario, trigger=trigger, **options)


class Starter:
    """The fake `start_flow`: records the drill ids it is asked to start."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, _app: App, drill_id: str) -> None:
        with self.lock:
            self.ids.append(drill_id)


def stored(app: App) -> DrillSchedule:
    with app.transaction() as session:
        row = DrillRepository(session).schedules(active_only=False)[0]
        session.expunge(row)
        return row


def drills(app: App) -> list[Drill]:
    with app.transaction() as session:
        found = DrillRepository(session).list_drills()
        session.expunge_all()
        return found


def participant_emails() -> set[str]:
    people = participants_of(load_scenario(SCENARIO), load_agreement(AGREEMENT))
    return {p.email for p in people}


# ---- parsing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cron", "preset", "tz", "needles"),
    [
        ("0 10 * *", None, "UTC", ["--cron", "'0 10 * *'", "not 5", "minute hour"]),
        ("61 10 * * *", None, "UTC", ["--cron", "'61 10 * * *'", "59"]),
        ("0 10 * * 9", None, "UTC", ["--cron", "day of week", "'9'"]),
        ("0 0 31 2 *", None, "UTC", ["--cron", "never fires"]),
        ("@monthly", None, "UTC", ["--cron", "--preset"]),
        (None, "fortnightly", "UTC", ["--preset", "'fortnightly'", "quarterly"]),
        ("0 10 * * 2", None, "Europe/Atlantis", ["--tz", "'Europe/Atlantis'", "Europe/Berlin"]),
        ("0 10 * * 2", "weekly", "UTC", ["both --cron and --preset", "exactly one"]),
        (None, None, "UTC", ["neither --cron nor --preset", "exactly one"]),
    ],
)
def test_bad_schedule_names_the_option_the_value_and_what_to_do(cron, preset, tz, needles):
    with pytest.raises(InputError) as caught:
        parse_schedule(cron, preset, tz)
    for needle in needles:
        assert needle in str(caught.value)


def test_crontab_weekday_numbers_count_from_sunday_as_crontab_does():
    mondays = parse_schedule("0 10 * * 1", None, "UTC").occurrences(datetime(2026, 3, 1, tzinfo=UTC), 3)
    assert [o.strftime("%a %H:%M") for o in mondays] == ["Mon 10:00"] * 3
    weekend = parse_schedule("0 10 * * 0,6", None, "UTC").occurrences(datetime(2026, 3, 2, tzinfo=UTC), 2)
    assert [o.strftime("%a") for o in weekend] == ["Sat", "Sun"]


def test_day_of_month_and_weekday_both_given_fire_on_either_as_crontab_does():
    found = parse_schedule("0 10 13 * fri", None, "UTC").occurrences(datetime(2026, 3, 1, tzinfo=UTC), 5)
    assert [o.day for o in found] == [6, 13, 20, 27, 3]  # Fridays, and Friday the 13th once, then Apr 3


def test_next_drill_stays_at_ten_berlin_time_across_the_spring_dst_change():
    weekly = parse_schedule(None, "weekly", "Europe/Berlin")  # Tuesdays 10:00
    found = weekly.occurrences(datetime(2026, 3, 20, tzinfo=UTC), 2)
    # Clocks go forward on Sunday 29 March 2026: 10:00 CET is 09:00 UTC, 10:00 CEST is 08:00 UTC.
    assert found == [datetime(2026, 3, 24, 9, 0, tzinfo=UTC), datetime(2026, 3, 31, 8, 0, tzinfo=UTC)]
    assert {o.astimezone(weekly.zone).strftime("%H:%M") for o in found} == {"10:00"}


def test_a_time_in_the_repeated_autumn_hour_fires_once_and_one_in_the_spring_gap_fires_once():
    nightly = parse_schedule("30 2 * * *", None, "Europe/Berlin")
    autumn = nightly.occurrences(datetime(2026, 10, 24, 12, 0, tzinfo=UTC), 2)
    # 02:30 happens twice on 25 October 2026 (CEST, then CET): the drill starts at the first only.
    assert autumn == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 1, 30, tzinfo=UTC)]
    assert nightly.next_after(datetime(2026, 10, 25, 1, 10, tzinfo=UTC)) == autumn[1]
    spring = nightly.occurrences(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), 2)
    # 02:30 does not exist on 29 March 2026; it fires once, an hour later on the wall clock (03:30 CEST).
    assert spring == [datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 3, 30, 0, 30, tzinfo=UTC)]


# ---- creating ----------------------------------------------------------------------------------------


def test_a_new_schedule_runs_next_at_the_first_occurrence_after_now(app):
    made = schedule(app)
    row = stored(app)
    assert (made.id, row.next_run_at, row.cron, row.timezone) == (
        made.id,
        FIRST,
        "@quarterly",
        "Europe/Berlin",
    )
    assert row.agreement["id"] == load_agreement(AGREEMENT).id
    assert row.invite_ahead_hours == 168


@pytest.mark.parametrize(
    ("changes", "needles"),
    [
        ({"scenario": "no-such-scenario"}, ["no-such-scenario", "Known scenarios"]),
        ({"speed": 0.0}, ["--speed", "above 0"]),
        ({"invite_ahead": timedelta(hours=-1)}, ["--invite-ahead", "negative"]),
        ({"agreement_path": None}, ["--agreement", "agreement.yaml", "does not exist"]),
        ({"cron": "0 25 * * *", "preset": None}, ["--cron", "'0 25 * * *'"]),
    ],
)
def test_a_schedule_that_could_not_run_is_refused_and_nothing_is_stored(app, changes, needles):
    with pytest.raises(InputError) as caught:
        schedule(app, **changes)
    for needle in needles:
        assert needle in str(caught.value)
    with app.transaction() as session:
        assert session.scalar(select(func.count()).select_from(DrillSchedule)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_scenario_file_outside_the_workspace_is_refused_since_it_is_loaded_by_id_later(app, tmp_path):
    elsewhere = tmp_path / "elsewhere" / f"{SCENARIO}-copy.yaml"
    elsewhere.parent.mkdir()
    text = load_scenario(SCENARIO).origin
    elsewhere.write_text(Path(text).read_text().replace(f"id: {SCENARIO}", f"id: {SCENARIO}-copy"))
    with pytest.raises(InputError, match="scenarios/"):
        schedule(app, scenario=str(elsewhere))


# ---- firing --------------------------------------------------------------------------------------------


def test_fire_due_starts_one_drill_per_occurrence_even_when_called_twice(app, clock):
    made = schedule(app)
    starter = Starter()
    clock.set(FIRST - timedelta(seconds=1))
    assert fire_due(app, clock.now(), starter, trigger_of) == []
    clock.set(FIRST + timedelta(seconds=5))
    fired = fire_due(app, clock.now(), starter, trigger_of)
    assert fire_due(app, clock.now(), starter, trigger_of) == []
    assert len(fired) == 1 and starter.ids == fired
    (drill,) = drills(app)
    assert (drill.id, drill.schedule_id, drill.mode, drill.speed) == (fired[0], made.id, "real", 1.0)
    assert {p["email"] for p in drill.participants} == participant_emails()
    row = stored(app)
    assert (row.last_fired_at, row.next_run_at) == (FIRST, SECOND)


def test_after_downtime_the_missed_occurrences_start_one_drill_not_one_each(app, clock):
    schedule(app, preset="weekly")  # Tuesdays 10:00 Berlin; the first is 3 March, 09:00 UTC
    starter = Starter()
    clock.set(datetime(2026, 3, 26, 12, 0, tzinfo=UTC))  # four Tuesdays later, on a Thursday
    assert len(fire_due(app, clock.now(), starter, trigger_of)) == 1
    assert fire_due(app, clock.now(), starter, trigger_of) == []
    row = stored(app)
    assert row.last_fired_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # the oldest missed occurrence
    assert row.next_run_at == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)  # the first after now (CEST)
    assert len(drills(app)) == 1 and len(starter.ids) == 1


def test_a_compressed_schedule_starts_a_compressed_drill(app, clock):
    schedule(app, speed=36.0, simulate=True)
    clock.set(FIRST)
    (drill_id,) = fire_due(app, clock.now(), None, trigger_of)
    (drill,) = drills(app)
    assert (drill.id, drill.mode, drill.speed, drill.simulate) == (drill_id, "compressed", 36.0, True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared' / 'breachops.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


def test_two_serves_on_one_database_start_one_drill_per_occurrence(tmp_path, database_url):
    clocks = [ManualClock(CREATED), ManualClock(CREATED)]
    apps = [
        App(Settings(workspace=tmp_path / f"ws{i}", database_url=database_url), clock=clocks[i])
        for i in (0, 1)
    ]
    try:
        schedule(apps[0])
        # Serves sharing one database share its audit key (in team mode: one Prefect Secret block).
        create_private(private_dir(apps[1].workspace) / KEY_FILE, (apps[0].workspace / KEY_FILE).read_bytes())
        starter = Starter()
        for occurrence in (FIRST, SECOND):
            for c in clocks:
                c.set(occurrence + timedelta(seconds=1))
            barrier = threading.Barrier(6)
            results: list[list[str]] = []
            errors: list[BaseException] = []

            def race(
                app: App,
                barrier: threading.Barrier = barrier,
                results: list[list[str]] = results,
                errors: list[BaseException] = errors,
            ) -> None:
                barrier.wait()
                try:
                    results.append(fire_due(app, app.clock.now(), starter, trigger_of))
                except BaseException as exc:  # pragma: no cover - shown by the assertion below
                    errors.append(exc)

            threads = [threading.Thread(target=race, args=(apps[i % 2],)) for i in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert errors == []
            assert sum(len(r) for r in results) == 1
        assert len(drills(apps[0])) == 2 and len(starter.ids) == 2 and len(set(starter.ids)) == 2
        with apps[1].transaction() as session:
            fired = session.scalars(select(AuditEvent).where(AuditEvent.kind == "drill_schedule.fired")).all()
            assert len(fired) == 2
    finally:
        for one in apps:
            one.engine.dispose()


def test_an_occurrence_whose_scenario_is_gone_is_recorded_as_skipped_and_the_schedule_goes_on(app, clock):
    folder = app.workspace / "scenarios"
    folder.mkdir(parents=True)
    mine = folder / "quarterly-leak.yaml"
    mine.write_text(
        Path(load_scenario(SCENARIO).origin).read_text().replace(f"id: {SCENARIO}", "id: quarterly-leak")
    )
    schedule(app, scenario="quarterly-leak")
    mine.unlink()
    clock.set(FIRST)
    assert send_invitations(app, clock.now()) == []
    assert fire_due(app, clock.now(), Starter(), trigger_of) == []
    assert drills(app) == []
    assert stored(app).next_run_at == SECOND
    with app.transaction() as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "drill_schedule.skipped")
        ).all()
        assert "quarterly-leak" in event.payload


def test_a_drill_whose_flow_did_not_start_is_started_on_a_later_round(app, clock):
    schedule(app)
    clock.set(FIRST)

    def unreachable(_app: App, _drill_id: str) -> None:
        raise ConnectionError("Prefect is restarting")

    (drill_id,) = fire_due(app, clock.now(), unreachable, trigger_of)
    starter = Starter()
    assert start_pending_flows(app, clock.now(), starter) == []  # it may still be starting elsewhere
    clock.advance(timedelta(minutes=3))
    assert start_pending_flows(app, clock.now(), starter) == [drill_id] == starter.ids


# ---- invitations ---------------------------------------------------------------------------------------


def test_invitations_go_out_once_seven_days_ahead_only_to_participants_with_a_calendar_request(
    app, clock, smtp
):
    made = schedule(app)
    clock.set(FIRST - timedelta(days=7, seconds=1))
    assert send_invitations(app, clock.now()) == []
    clock.set(FIRST - timedelta(days=7))
    keys = send_invitations(app, clock.now())
    assert send_invitations(app, clock.now()) == []
    clock.advance(timedelta(hours=1))
    assert send_invitations(app, clock.now()) == []
    everyone = participant_emails()
    assert len(keys) == len(everyone) == 11
    assert f"schedule:{made.id}:2026-04-07T08:00:00Z:invite:jana.weber@nordlicht.example" in keys

    channel = DrillGuard(
        SmtpChannel(smtp.host, smtp.port, tls="none", timeout=5, clock=clock), drill_participants(app)
    )
    report = dispatch(app, channel, clock.now())
    assert sorted(report.sent) == sorted(keys) and report.failed == []
    dispatch(app, channel, clock.now())  # nothing is sent twice
    mails = smtp.recorder.messages
    assert len(mails) == 11
    recipients = {str(m["To"].addresses[0].addr_spec) for m in mails}
    assert recipients == everyone and not recipients & OUTSIDERS

    for mail in mails:
        assert str(mail["Subject"]).startswith("[DRILL] ")
        (part,) = [p for p in mail.iter_attachments() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") == "REQUEST"
        calendar = Calendar.from_ical(part.get_content())
        assert calendar["METHOD"] == "REQUEST"
        (event,) = calendar.walk("VEVENT")
        assert str(event["UID"]) == f"drill-schedule-{made.id}-20260407T080000Z@breachops"
        assert event.decoded("DTSTART") == FIRST
        assert event.decoded("DTEND") == FIRST + timedelta(hours=72)  # the scenario's 72 h at speed 1
        assert str(event["SUMMARY"]).startswith("[DRILL] ")
        assert str(event["ORGANIZER"]) == "mailto:jana.weber@nordlicht.example"
        attendees = event.get("ATTENDEE")
        assert {str(a).removeprefix("mailto:") for a in attendees} == everyone
        assert {(a.params["ROLE"], a.params["RSVP"]) for a in attendees} == {("REQ-PARTICIPANT", "TRUE")}
    to_rafael = smtp.recorder.to("rafael.costa@horizonte.example")[0]
    assert "Rafael Costa" in to_rafael.get_body(("plain",)).get_content()

    with app.transaction() as session:
        rows = session.scalars(select(Message).where(Message.kind == "drill_invitation")).all()
        assert {r.incident_id for r in rows} == {None} and {r.drill for r in rows} == {False}
    assert stored(app).invited_for == FIRST


def test_the_next_occurrence_is_invited_for_seven_days_before_it_and_not_earlier(app, clock):
    schedule(app)
    clock.set(FIRST - timedelta(days=7))
    assert len(send_invitations(app, clock.now())) == 11
    clock.set(FIRST)
    fire_due(app, clock.now(), None, trigger_of)
    clock.set(SECOND - timedelta(days=7, minutes=1))
    assert send_invitations(app, clock.now()) == []
    clock.set(SECOND - timedelta(days=7))
    keys = send_invitations(app, clock.now())
    assert len(keys) == 11 and all(":2026-07-07T08:00:00Z:" in k for k in keys)


def test_a_schedule_made_inside_the_invitation_window_invites_at_once(app, clock):
    clock.set(FIRST - timedelta(days=2))
    schedule(app)
    assert len(send_invitations(app, clock.now())) == 11


# ---- the commands ---------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    workspace = tmp_path / "cli-ws"
    workspace.mkdir()
    (workspace / "agreement.yaml").write_text(AGREEMENT.read_text())
    for name in [n for n in os.environ if n.startswith(("BREACHOPS_", "PREFECT_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BREACHOPS_WORKSPACE", str(workspace))
    group = typer.Typer()
    register(group)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(group, list(args))

    return workspace, run


def test_drill_schedule_prints_the_id_the_next_three_drills_in_both_zones_and_the_invitations(cli):
    _workspace, run = cli
    result = run("schedule", SCENARIO, "--preset", "quarterly", "--tz", "Europe/Berlin", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == 1 and data["scenario"] == SCENARIO and data["cron"] == "@quarterly"
    assert len(data["next"]) == 3
    first = data["next"][0]
    at = datetime.fromisoformat(first["at"])  # the command runs on the real clock: any season
    assert (
        first["local"]
        == f"{at.astimezone(ZoneInfo('Europe/Berlin')):%Y-%m-%d} 10:00 {at.astimezone(ZoneInfo('Europe/Berlin')):%Z}"
    )
    assert first["utc"] == f"{at:%Y-%m-%d %H:%M} UTC" and at.hour in (8, 9)
    assert datetime.fromisoformat(
        first["invitations_at"].removesuffix(" UTC") + "+00:00"
    ) == datetime.fromisoformat(first["at"]) - timedelta(days=7)
    table = run(
        "schedule", SCENARIO, "--cron", "0 9 * * 1", "--tz", "America/Sao_Paulo", "--invite-ahead", "2d"
    )
    assert table.exit_code == 0, table.output
    assert "drill schedule 2" in table.output and "09:00" in table.output and "12:00 UTC" in table.output


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--cron", "0 10 * *", "--tz", "UTC"], ["--cron", "not 5"]),
        (["--preset", "quarterly", "--tz", "Berlin"], ["--tz", "'Berlin'"]),
        (["--preset", "quarterly"], ["--tz", "required"]),
        (["--tz", "UTC"], ["neither --cron nor --preset"]),
        (
            ["--preset", "quarterly", "--tz", "UTC", "--invite-ahead", "a week"],
            ["--invite-ahead", "'a week'"],
        ),
    ],
)
def test_drill_schedule_with_bad_input_says_what_is_wrong_and_stores_nothing(cli, args, needles):
    workspace, run = cli
    result = run("schedule", SCENARIO, *args)
    assert isinstance(result.exception, InputError), result.output
    for needle in needles:
        assert needle in str(result.exception)
    database = workspace / "breachops.db"
    if database.exists():
        app = App(Settings(workspace=workspace))
        with app.transaction() as session:
            assert session.scalar(select(func.count()).select_from(DrillSchedule)) == 0


def test_unschedule_stops_the_schedule_and_drill_list_shows_what_is_left(cli, clock):
    workspace, run = cli
    assert run("schedule", SCENARIO, "--preset", "monthly", "--tz", "UTC").exit_code == 0
    assert run("schedule", SCENARIO, "--preset", "yearly", "--tz", "UTC").exit_code == 0
    result = run("unschedule", "1")
    assert result.exit_code == 0 and "removed" in result.output
    again = run("unschedule", "1")
    assert isinstance(again.exception, InputError) and "already removed" in str(again.exception)
    app = App(Settings(workspace=workspace))
    assert [s["id"] for s in schedules_json(app)] == [2]
    text = schedules_table(app)
    assert "yearly" in text and "monthly" not in text and "\x1b[" not in text

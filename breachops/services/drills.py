"""Drills: start one (its record and its incident), read where it stands, advance, stop and finish it.

No Prefect here. A drill is an incident record marked ``drill`` (same id as the drill) walked through
the same playbook and the same ``step done``; on top of it, the drill delivers the scenario's injects
on the drill clock (``drill_ticks.py``), answers as scripted participants when simulated, and is
scored at the end (``drill_reports.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from breachops.bootstrap import App
from breachops.clock import DrillClock
from breachops.config.agreements import Agreement
from breachops.deadlines.models import parse_facts
from breachops.errors import InputError
from breachops.playbooks import Playbook, load_playbook
from breachops.playbooks.loader import parse_scenario
from breachops.playbooks.participants import participants_of
from breachops.playbooks.scenarios import Scenario
from breachops.services.checks import MAX_NOTE, MAX_TITLE, check_text
from breachops.services.drill_feedback import queue_feedback_requests
from breachops.services.incidents import recompute, record_of
from breachops.store import Repository
from breachops.store.database import Session
from breachops.store.drills import DrillRepository
from breachops.store.models import Drill
from breachops.store.obligations import UNMET_STATUSES

if TYPE_CHECKING:
    from breachops.services.drill_reports import ReportOutcome

__all__ = [
    "DrillStatus",
    "advance_drill",
    "close_drill",
    "drill_clock",
    "finish_drill",
    "scenario_of",
    "scenario_snapshot",
    "start_drill",
    "status",
    "stop_drill",
]


@dataclass(frozen=True)
class DrillStatus:
    drill: Drill
    clock: DrillClock
    scenario_now: datetime


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 1440}d{minutes % 1440 // 60}h{minutes % 60}m"


def scenario_snapshot(scenario: Scenario) -> dict[str, Any]:
    """The scenario as its YAML would say it, so the drill keeps it however the file changes later."""
    data = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
    data["duration"] = _span(scenario.duration)
    for inject in data["injects"]:
        inject["at"] = f"T+{_span(inject['at'])}"
    simulation = data.get("simulation", {})
    simulation["default_delay"] = _span(scenario.simulation.default_delay)
    for step in simulation.get("steps", {}).values():
        if step.get("delay") is not None:
            step["delay"] = _span(step["delay"])
    return data


def scenario_of(drill: Drill) -> Scenario:
    return parse_scenario(dict(drill.scenario), f"drill {drill.id} scenario")


def drill_clock(drill: Drill) -> DrillClock:
    advances = [(datetime.fromisoformat(at), timedelta(seconds=seconds)) for at, seconds in drill.advances]
    pauses = [
        (datetime.fromisoformat(begin), None if end is None else datetime.fromisoformat(end))
        for begin, end in drill.pauses or []
    ]
    return DrillClock(drill.t0, drill.started_at, drill.speed, advances, pauses)


def start_drill(
    app: App,
    scenario: Scenario,
    agreement: Agreement,
    *,
    speed: float,
    mode: str,
    simulate: bool,
    actor: str,
    schedule_id: int | None = None,
    playbook: Playbook | None = None,
    session: Session | None = None,
) -> str:
    """Record the drill and its incident (T+0 is now) in one transaction; return the drill id.

    With ``session`` the records join the caller's transaction instead: the scheduler marks the
    occurrence fired in the same one, so a drill is never started without the mark or the reverse."""
    playbook = playbook or load_playbook(scenario.playbook, app.playbook_search)
    participants = participants_of(scenario, agreement)
    check_text(f"scenario {scenario.id}: title", scenario.title, max_length=MAX_TITLE)
    check_text("--by", actor, max_length=254)
    now = app.clock.now()
    facts = parse_facts(scenario.facts_at(now), f"scenario {scenario.id} facts")
    with _unit_of_work(app, session) as session:
        drills = DrillRepository(session)
        drill = drills.add_drill(
            scenario=scenario_snapshot(scenario),
            agreement=agreement.model_dump(mode="json", by_alias=True, exclude_none=True),
            agreement_path=agreement.origin or None,
            participants=[p.as_dict() for p in participants],
            mode=mode,
            speed=speed,
            simulate=simulate,
            at=now,
            actor=actor,
            schedule_id=schedule_id,
        )
        repo = Repository(session)
        incident = repo.add_incident(
            title=f"Drill: {scenario.title}",
            opened_by=actor,
            opened_at=now,
            **record_of(facts, playbook, agreement),
            drill=True,
            drill_id=drill.id,
            incident_id=drill.id,
        )
        drills.record_started(drill)
        drills.plan_injects(drill, [(i.id, i.title, now + i.at) for i in scenario.injects])
        recompute(app, repo, incident, facts, actor, agreement=agreement)  # not cached before the commit
        return drill.id


@contextmanager
def _unit_of_work(app: App, session: Session | None) -> Iterator[Session]:
    if session is not None:
        yield session
        return
    with app.transaction() as own:
        yield own


def status(app: App, drill_id: str) -> DrillStatus:
    with app.transaction() as session:
        drill = DrillRepository(session).get_drill(drill_id)
        session.expunge(drill)
    clock = drill_clock(drill)
    now = app.clock.now()
    if drill.status != "running" and drill.ended_at is not None:
        now = min(now, drill.ended_at)  # a finished or stopped drill's clock stands where it ended
    return DrillStatus(drill, clock, clock.scenario_time(now))


def _running(drills: DrillRepository, drill_id: str, otherwise: str, what_next: str) -> Drill:
    drill = drills.get_drill(drill_id)
    if drill.status != "running":
        raise InputError("DRILL", None, drill_id, f"drill {drill_id} is {drill.status}{otherwise}", what_next)
    return drill


def stop_drill(app: App, drill_id: str, *, reason: str, actor: str) -> DrillStatus:
    """End a running drill now: its clock stops, nothing more is delivered, and its record closes
    (obligations still owed in the exercise are recorded as closed-unmet)."""
    if reason:  # optional: a stop needs no explanation, but one given is checked like any note
        check_text("--reason", reason, max_length=MAX_NOTE, newlines=True)
    check_text("--by", actor, max_length=254)
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = _running(drills, drill_id, ", not running", "Only a running drill can be stopped.")
        now = app.clock.now()
        drills.finish(drill, status="stopped", at=now, actor=actor)
        repo = Repository(session)
        incident = repo.get_incident(drill_id)
        if incident.status == "open":
            unmet = [o.key for o in repo.obligations(drill_id) if o.status in UNMET_STATUSES]
            repo.close_incident(
                incident, f"drill stopped: {reason}" if reason else "drill stopped", actor, now, unmet=unmet
            )
    queue_feedback_requests(app, drill_id)
    return status(app, drill_id)


def advance_drill(app: App, drill_id: str, by: timedelta | None, actor: str) -> DrillStatus:
    """Move a drill's clock forward by ``by``, or to its next inject when ``by`` is None."""
    check_text("--as", actor, max_length=254)
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = _running(
            drills, drill_id, ": its clock no longer moves", "Start a new drill with `breachops drill run`."
        )
        clock = drill_clock(drill)
        now_s = clock.scenario_time(app.clock.now())
        if by is None:
            pending = [
                i.due_at
                for i in drills.injects(drill_id)
                if i.delivered_at is None and i.skipped is None and i.due_at > now_s
            ]
            if not pending:
                raise InputError(
                    "--for", None, None, f"drill {drill_id} has no inject left to advance to",
                    "Give --for (e.g. 4h) to move the clock anyway.",
                )  # fmt: skip
            by = min(pending) - now_s
        drills.advance(drill, by.total_seconds(), actor, app.clock.now())
    return status(app, drill_id)


def pause_drill(app: App, drill_id: str, actor: str, *, resume: bool = False) -> DrillStatus:
    """Stop a running drill's scenario clock until it is resumed (nothing is delivered meanwhile), or
    ``resume`` it; the pause is recorded with who made it."""
    check_text("--by", actor, max_length=254)
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = _running(drills, drill_id, "", "Only a running drill pauses or resumes.")
        paused = drill_clock(drill).paused_at(app.clock.now())
        if paused != resume:
            state = "paused" if paused else "not paused"
            verb = "breachops drill resume" if paused else "breachops drill pause"
            raise InputError("DRILL", None, drill_id, f"drill {drill_id} is {state}", f"Use `{verb}`.")
        (drills.resume if resume else drills.pause)(drill, actor, app.clock.now())
    return status(app, drill_id)


def finish_drill(app: App, drill_id: str) -> Drill:
    """Score the drill, write its after-action report, close its incident record. Idempotent."""
    from breachops.services.drill_reports import build_report  # imports this module: import when used

    with app.transaction() as session:
        drill = DrillRepository(session).get_drill(drill_id)
        if drill.status != "running":
            session.expunge(drill)
            return drill
    return close_drill(app, drill_id, build_report(app, drill_id))


def close_drill(app: App, drill_id: str, outcome: ReportOutcome) -> Drill:
    """Store the drill's score and report, close its incident record and ask the participants for
    feedback. Idempotent: a drill that has ended already is left as it is (its survey is asked once)."""
    drill = _close(app, drill_id, outcome)
    queue_feedback_requests(app, drill_id)
    return drill


def _close(app: App, drill_id: str, outcome: ReportOutcome) -> Drill:
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        if drill.status != "running":
            session.expunge(drill)
            return drill
        drills.finish(
            drill,
            status="completed",
            at=app.clock.now(),
            actor="drill",
            score=outcome.score,
            improvement_plan=outcome.plan,
            report_html=str(outcome.html_path),
            report_md=str(outcome.md_path),
        )
        repo = Repository(session)
        incident = repo.get_incident(drill_id)
        if incident.status == "open":
            repo.close_incident(incident, "drill completed", "drill", app.clock.now())
        session.flush()
        session.expunge(drill)
        return drill

"""Drill operations shared by the drill flow, the scheduler and the CLI: start, tick, advance, finish.

No Prefect here. A drill is an incident record marked ``drill`` (same id as the drill) walked through
the same playbook and the same ``step done``; on top of it, the drill delivers the scenario's injects
on the drill clock, answers as scripted participants when simulated, and scores the result.

``tick`` is idempotent: it reads where the drill stands from the store and does only what is due
and not yet done, so the flow can be killed and rerun at any moment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from breachops.bootstrap import App
from breachops.clock import DrillClock
from breachops.config.agreements import Agreement
from breachops.deadlines.models import parse_facts
from breachops.errors import InputError
from breachops.flows import service
from breachops.flows.checks import MAX_NOTE, MAX_TITLE, check_text
from breachops.notifications.render import render
from breachops.playbooks import Playbook, Step, load_playbook
from breachops.playbooks.scenarios import Scenario, parse_scenario, simulated_answer
from breachops.services.moot_steps import skip_if_moot
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.models import Drill
from breachops.store.repository import UNMET_STATUSES

__all__ = [
    "DrillStatus",
    "Participant",
    "TickResult",
    "advance_drill",
    "drill_clock",
    "finish_drill",
    "participants_of",
    "run_drill",
    "scenario_of",
    "start_drill",
    "status",
    "stop_drill",
    "tick",
]

log = logging.getLogger("breachops.flows.drill")
SIMULATED_SOURCE = "drill-simulation"


@dataclass(frozen=True)
class Participant:
    party: str
    role: str
    name: str
    email: str
    timezone: str
    stands_in_for: str | None = None  # the role this person covers when the party has no such contact

    def as_dict(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "role": self.role,
            "name": self.name,
            "email": self.email,
            "timezone": self.timezone,
            "stands_in_for": self.stands_in_for,
        }


@dataclass
class TickResult:
    scenario_now: datetime
    delivered: list[str] = field(default_factory=list)  # inject ids
    answered: list[str] = field(default_factory=list)  # step ids answered by simulated participants
    skipped: list[str] = field(default_factory=list)  # step ids the simulated answers made moot
    ran: list[str] = field(default_factory=list)  # automatic steps
    next_wake: datetime | None = None  # scenario time of the next thing the drill waits for
    finished: bool = False


@dataclass(frozen=True)
class DrillStatus:
    drill: Drill
    clock: DrillClock
    scenario_now: datetime


def participants_of(scenario: Scenario, agreement: Agreement) -> list[Participant]:
    """The people of the drill: each scenario role at its party, the incident lead standing in where
    the party has no contact for that role. Refused when a party is not in the agreement."""
    found: dict[str, Participant] = {}
    for wanted in scenario.participants:
        party = agreement.parties.get(wanted.party)
        if party is None:
            raise InputError(
                None,
                "participants",
                wanted.party,
                f"scenario {scenario.id} names a party the agreement {agreement.id} does not have",
                f"Parties in the agreement: {', '.join(agreement.parties)}.",
            )
        contact = party.contacts.get(wanted.role) or party.contacts.get("incident_lead")
        if contact is None:
            raise InputError(
                None,
                "participants",
                f"{wanted.role}@{wanted.party}",
                "has no contact and no incident lead to stand in",
                "Add the contact to the agreement.",
            )
        stands_in = None if wanted.role in party.contacts else wanted.role
        key = contact.email.lower()
        if key not in found:
            found[key] = Participant(
                wanted.party, wanted.role if stands_in is None else "incident_lead",
                contact.name, contact.email, contact.timezone, stands_in,
            )  # fmt: skip
    return list(found.values())


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
    return DrillClock(drill.t0, drill.started_at, drill.speed, advances)


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
            facts=facts.model_dump(mode="json", exclude_none=True),
            playbook_name=playbook.name,
            playbook_version=playbook.version,
            playbook=playbook.model_dump(mode="json", by_alias=True, exclude_none=True),
            agreement=agreement.model_dump(mode="json", by_alias=True, exclude_none=True),
            agreement_path=agreement.origin or None,
            drill=True,
            drill_id=drill.id,
            incident_id=drill.id,
        )
        drills.record_started(drill)
        drills.plan_injects(drill, [(i.id, i.title, now + i.at) for i in scenario.injects])
        service._recompute(app, repo, incident, facts, actor)
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


def stop_drill(app: App, drill_id: str, *, reason: str, actor: str) -> DrillStatus:
    """End a running drill now: its clock stops, nothing more is delivered, and its record closes
    (obligations still owed in the exercise are recorded as closed-unmet)."""
    if reason:  # optional: a stop needs no explanation, but one given is checked like any note
        check_text("--reason", reason, max_length=MAX_NOTE, newlines=True)
    check_text("--by", actor, max_length=254)
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        if drill.status != "running":
            raise InputError(
                "DRILL", None, drill_id, f"drill {drill_id} is {drill.status}, not running",
                "Only a running drill can be stopped.",
            )  # fmt: skip
        now = app.clock.now()
        drills.finish(drill, status="stopped", at=now, actor=actor)
        repo = Repository(session)
        incident = repo.get_incident(drill_id)
        if incident.status == "open":
            unmet = [o.key for o in repo.obligations(drill_id) if o.status in UNMET_STATUSES]
            repo.close_incident(
                incident, f"drill stopped: {reason}" if reason else "drill stopped", actor, now, unmet=unmet
            )
    return status(app, drill_id)


def advance_drill(app: App, drill_id: str, by: timedelta | None, actor: str) -> DrillStatus:
    """Move a drill's clock forward by ``by``, or to its next inject when ``by`` is None."""
    check_text("--as", actor, max_length=254)
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        if drill.status != "running":
            raise InputError(
                "DRILL", None, drill_id, f"drill {drill_id} is {drill.status}: its clock no longer moves",
                "Start a new drill with `breachops drill run`.",
            )  # fmt: skip
        clock = drill_clock(drill)
        now_s = clock.scenario_time(app.clock.now())
        if by is None:
            pending = [
                i.due_at for i in drills.injects(drill_id) if i.delivered_at is None and i.due_at > now_s
            ]
            if not pending:
                raise InputError(
                    "--for", None, None, f"drill {drill_id} has no inject left to advance to",
                    "Give --for (e.g. 4h) to move the clock anyway.",
                )  # fmt: skip
            by = min(pending) - now_s
        drills.advance(drill, by.total_seconds(), actor, app.clock.now())
    return status(app, drill_id)


# ---- the tick -------------------------------------------------------------------------------------


Send = Callable[[list[str]], Any]
"""Sends the queued messages with these idempotency keys now (the outbox dispatcher)."""


def tick(app: App, drill_id: str, send: Send | None = None) -> TickResult:
    """Do what is due on the drill clock: injects, automatic steps, simulated answers, the end.

    Inject emails are queued in the outbox and handed to ``send`` at once, so they go out on time
    rather than at the dispatcher's next wake-up (which sends anything ``send`` could not)."""
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        if drill.status != "running":  # ended: its clock stands where it ended
            ended = drill_clock(drill).scenario_time(drill.ended_at) if drill.ended_at else drill.t0
            return TickResult(scenario_now=ended, finished=True)
        clock = drill_clock(drill)
        scenario = scenario_of(drill)
        injects = [(i.inject_id, i.due_at, i.delivered_at) for i in drills.injects(drill_id)]
    now_s = clock.scenario_time(app.clock.now())
    result = TickResult(scenario_now=now_s)
    by_id = {i.id: i for i in scenario.injects}
    for number, (inject_id, due_at, delivered_at) in enumerate(injects, start=1):
        if delivered_at is None and due_at <= now_s:
            keys = _deliver(app, drill_id, scenario, by_id[inject_id], number, now_s)
            result.delivered.append(inject_id)
            if send is not None and keys:
                send(keys)
    _walk(app, drill_id, result)
    if _simulated(app, drill_id):
        _answer_as_scripted(app, drill_id, scenario, clock, now_s, result)
        _walk(app, drill_id, result)
    where = service.progress(app, drill_id)
    undelivered = [due for _i, due, delivered in injects if delivered is None and due > now_s]
    end = clock.t0 + scenario.duration
    if not undelivered and (where.finished or now_s >= end):
        result.finished = True
        return result
    wakes = [*undelivered, end]
    if _simulated(app, drill_id):
        wakes += _simulated_wakes(app, drill_id, scenario, clock)
    result.next_wake = min(w for w in wakes if w is not None)
    return result


def _simulated(app: App, drill_id: str) -> bool:
    with app.transaction() as session:
        return DrillRepository(session).get_drill(drill_id).simulate


def _walk(app: App, drill_id: str, result: TickResult) -> None:
    """The same playbook walk as the incident flow: automatic steps done, gated ones waiting."""
    while True:
        where = service.progress(app, drill_id)
        if where.closed or where.finished or not where.runnable:
            break
        for step in where.runnable:
            if service.run_automatic_step(app, drill_id, step.id):
                result.ran.append(step.id)
    if not where.closed and where.waiting:
        service.mark_waiting(app, drill_id, [s.id for s in where.waiting])


def _deliver(
    app: App, drill_id: str, scenario: Scenario, inject: Any, number: int, now_s: datetime
) -> list[str]:
    """Reveal the inject's facts and queue its email to its participants, once; return the keys."""
    with app.transaction() as session:
        t0 = DrillRepository(session).get_drill(drill_id).t0
    reveals = inject.reveals_at(t0)
    if reveals:
        with app.transaction() as session:
            incident = Repository(session).get_incident(drill_id)
            closed = incident.status != "open"
        if not closed:
            service.change_facts(app, drill_id, reveals, source=f"inject:{inject.id}", actor="drill")
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        repo = Repository(session)
        incident = repo.get_incident(drill_id)
        facilitator = _facilitator(drill)
        keys = []
        for person in _recipients(drill, inject):
            rendered = render(
                "drill_inject",
                {
                    "recipient": {"name": person["name"], "timezone": person["timezone"]},
                    "incident": {"id": incident.id, "title": incident.title},
                    "exercise": {"name": scenario.title, "scenario": scenario.id},
                    "inject": {
                        "number": number,
                        "title": inject.title,
                        "body": inject.message,
                        "at": t0 + inject.at,
                    },
                    "questions": [f"{q.text} (question {q.id})" for q in inject.questions],
                    "respond_by": None,
                    "facilitator": facilitator,
                },
                drill=True,
                template_dir=_template_dir(app),
            )
            keys.append(f"{drill_id}:inject:{inject.id}:{person['email'].lower()}")
            repo.queue_message(
                idempotency_key=keys[-1],
                kind="drill_inject",
                template="drill_inject",
                recipients=[person["email"]],
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                at=app.clock.now(),
                incident_id=drill_id,
                drill=True,
                actor="drill",
            )
        drills.mark_delivered(drill, inject.id, now_s, app.clock.now())
        return keys


def _recipients(drill: Drill, inject: Any) -> list[dict[str, Any]]:
    people = list(drill.participants)
    if inject.to == "all":
        return people
    wanted = {(t.party, t.role) for t in inject.to}
    chosen = [p for p in people if (p["party"], _role_of(p)) in wanted]
    return chosen or people


def _facilitator(drill: Drill) -> dict[str, str]:
    for person in drill.participants:
        if person["role"] == "incident_lead":
            return {"name": person["name"], "email": person["email"]}
    first = drill.participants[0]
    return {"name": first["name"], "email": first["email"]}


def _template_dir(app: App) -> Path | None:
    folder = app.workspace / "templates"
    return folder if folder.is_dir() else None


# ---- simulated participants -----------------------------------------------------------------------


def _ready_at(app: App, drill_id: str, clock: DrillClock) -> dict[str, datetime]:
    """Scenario time at which each waiting step became ready: when the last step it depends on was
    done (or T+0 for a step that depends on nothing)."""
    with app.transaction() as session:
        repo = Repository(session)
        playbook = service.playbook_of(repo.get_incident(drill_id))
        rows = {r.step_id: r for r in repo.steps(drill_id)}
    ready = {}
    for step_id, row in rows.items():
        if row.status != "waiting":
            continue
        done = [rows[d].completed_at for d in playbook.step(step_id).depends_on]
        real = max([clock.started_at, *(d for d in done if d is not None)])
        ready[step_id] = clock.scenario_time(real)
    return ready


def _answer_time(scenario: Scenario, step_id: str, ready: datetime) -> datetime:
    return ready + scenario.simulation.delay_for(step_id)


def _simulated_wakes(app: App, drill_id: str, scenario: Scenario, clock: DrillClock) -> list[datetime]:
    return [_answer_time(scenario, s, r) for s, r in _ready_at(app, drill_id, clock).items()]


def _answer_as_scripted(
    app: App, drill_id: str, scenario: Scenario, clock: DrillClock, now_s: datetime, result: TickResult
) -> None:
    for _round in range(64):  # answers unlock further steps whose delay may already have passed
        progressed = False
        ready = _ready_at(app, drill_id, clock)
        where = service.progress(app, drill_id)
        with app.transaction() as session:
            drill = DrillRepository(session).get_drill(drill_id)
            playbook = service.playbook_of(Repository(session).get_incident(drill_id))
            people = list(drill.participants)
        for step in where.waiting:
            if step.id not in ready or _answer_time(scenario, step.id, ready[step.id]) > now_s:
                continue
            by, on_behalf_of = _owner_address(step, people)
            if skip_if_moot(app, drill_id, playbook, step.id, actor=by, source=SIMULATED_SOURCE):
                result.skipped.append(step.id)  # the answers so far leave it nothing to do
                progressed = True
                continue
            service.complete_step(
                app,
                drill_id,
                step.id,
                simulated_answer(playbook.step(step.id), scenario, t0=clock.t0, at=now_s),
                by=by,
                note="answered by a simulated participant",
                source=SIMULATED_SOURCE,
                on_behalf_of=on_behalf_of,
            )
            result.answered.append(step.id)
            progressed = True
        if not progressed:
            return
        _walk(app, drill_id, result)


def _role_of(person: dict[str, Any]) -> str:
    return str(person.get("stands_in_for") or person["role"])


def _owner_address(step: Step, people: Sequence[dict[str, Any]]) -> tuple[str, str | None]:
    """Who of the participants answers ``step`` in a simulation, and for which role if they do not
    hold it: the participant holding (or standing in for) the step's role at an owning party, else
    that party's incident lead, else any participant, answering on behalf of the role (recorded)."""
    for party in step.owner.parties:
        for person in people:
            if person["party"] == party and _role_of(person) == step.owner.role:
                return str(person["email"]), None
    for party in step.owner.parties:
        for person in people:
            if person["party"] == party and person["role"] == "incident_lead":
                return str(person["email"]), None
    for party in step.owner.parties:
        for person in people:
            if person["party"] == party:
                return str(person["email"]), step.owner.role
    return str(people[0]["email"]), step.owner.role


# ---- the loop -------------------------------------------------------------------------------------


def run_drill(
    app: App,
    drill_id: str,
    *,
    sleep: Callable[[float], None],
    send: Send | None = None,
    poll_seconds: float = 1.0,
    on_tick: Callable[[TickResult], None] | None = None,
    finish: Callable[[App, str], Any] | None = None,
) -> TickResult:
    """Tick the drill until it ends, sleeping (real time) until its next scenario event.

    ``sleep`` is injected: the flow passes ``time.sleep``, tests a function that moves a ManualClock.
    A facilitated drill (speed 0) polls, so an ``advance`` is noticed within ``poll_seconds``.
    """
    with app.transaction() as session:
        drills = DrillRepository(session)
        drills.begin(drills.get_drill(drill_id), app.clock.now())
    while True:
        result = tick(app, drill_id, send)
        if on_tick is not None:
            on_tick(result)
        if result.finished:
            (finish or finish_drill)(app, drill_id)
            return result
        clock = status(app, drill_id).clock
        wait = poll_seconds
        if result.next_wake is not None:
            real = clock.real_time(result.next_wake, app.clock.now())
            if real is not None:
                wait = min(poll_seconds, max((real - app.clock.now()).total_seconds(), 0.0))
        sleep(max(wait, 0.001))


def finish_drill(app: App, drill_id: str) -> Drill:
    """Score the drill, write its after-action report, close its incident record. Idempotent."""
    from breachops.flows.drill_report import build_report  # the report needs the scoring layer only here

    with app.transaction() as session:
        drill = DrillRepository(session).get_drill(drill_id)
        if drill.status != "running":
            session.expunge(drill)
            return drill
    outcome = build_report(app, drill_id)
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
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

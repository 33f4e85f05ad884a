"""The drill's tick: what is due on the drill clock is done (injects delivered, automatic steps run,
simulated participants' answers given), and the loop that ticks a drill until it ends.

No Prefect here. ``tick`` is idempotent: it reads where the drill stands from the store and does only
what is due and not yet done, so the flow can be killed and rerun at any moment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from breachops.bootstrap import App
from breachops.clock import DrillClock
from breachops.errors import InputError
from breachops.notifications.render import render
from breachops.playbooks import Step
from breachops.playbooks.participants import Participant, stored_participants
from breachops.playbooks.scenarios import Contingency, Inject, Scenario
from breachops.playbooks.simulation import simulated_answer
from breachops.services.drills import drill_clock, finish_drill, scenario_of, status
from breachops.services.facts import change_facts
from breachops.services.incidents import playbook_of
from breachops.services.moot_steps import skip_if_moot
from breachops.services.steps import complete_step, mark_waiting, progress, run_automatic_step
from breachops.store import Repository
from breachops.store.drills import DrillRepository

__all__ = [
    "SIMULATED_SOURCE",
    "Send",
    "TickResult",
    "begin",
    "deliver_inject",
    "due_injects",
    "play",
    "run_drill",
    "seconds_to_wait",
    "tick",
]

SIMULATED_SOURCE = "drill-simulation"


@dataclass
class TickResult:
    scenario_now: datetime
    delivered: list[str] = field(default_factory=list)  # inject ids
    answered: list[str] = field(default_factory=list)  # step ids answered by simulated participants
    skipped: list[str] = field(default_factory=list)  # step ids the simulated answers made moot
    ran: list[str] = field(default_factory=list)  # automatic steps
    next_wake: datetime | None = None  # scenario time of the next thing the drill waits for
    finished: bool = False


Send = Callable[[list[str]], Any]
"""Sends the queued messages with these idempotency keys now (the outbox dispatcher)."""


def tick(app: App, drill_id: str, send: Send | None = None) -> TickResult:
    """Do what is due on the drill clock: injects, automatic steps, simulated answers, the end.

    Inject emails are queued in the outbox and handed to ``send`` at once, so they go out on time
    rather than at the dispatcher's next wake-up (which sends anything ``send`` could not)."""
    delivered = [i for i in due_injects(app, drill_id) if deliver_inject(app, drill_id, i, send) is not None]
    result = play(app, drill_id)
    result.delivered[:0] = delivered
    return result


def due_injects(app: App, drill_id: str) -> list[str]:
    """The injects due on the drill clock and not yet delivered, in the scenario's order (none once
    the drill has ended)."""
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        if drill.status != "running":
            return []
        now_s = drill_clock(drill).scenario_time(app.clock.now())
        return [i.inject_id for i in drills.injects(drill_id) if _waiting(i) and i.due_at <= now_s]


def deliver_inject(app: App, drill_id: str, inject_id: str, send: Send | None = None) -> list[str] | None:
    """Deliver one inject now: reveal its facts, queue its email to its participants and hand the keys
    to ``send``; return the keys. Once only: an inject already delivered, or one of a drill that has
    ended, delivers nothing (None), so a delivery can be retried."""
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        planned = {
            i.inject_id: (n, i.delivered_at if i.skipped is None else i.due_at)
            for n, i in enumerate(drills.injects(drill_id), start=1)
        }
        clock, scenario, running = drill_clock(drill), scenario_of(drill), drill.status == "running"
        simulated = drill.simulate
    if inject_id not in planned:
        raise InputError("DRILL", "inject", inject_id, f"drill {drill_id} has no such inject")
    number, delivered_at = planned[inject_id]
    if not running or delivered_at is not None:
        return None
    inject = next(i for i in scenario.injects if i.id == inject_id)
    if inject.when is not None:
        if simulated:
            _catch_up(app, drill_id, scenario, clock, clock.t0 + inject.at)
        holds, why = contingency_holds(app, drill_id, inject.when)
        if not holds:
            with app.transaction() as session:
                drills = DrillRepository(session)
                drills.skip_inject(drills.get_drill(drill_id), inject_id, why, app.clock.now())
            return None
    keys = _deliver(app, drill_id, scenario, inject, number, clock.scenario_time(app.clock.now()))
    if send is not None and keys:
        send(keys)
    return keys


def _waiting(inject: Any) -> bool:
    """Neither delivered nor skipped (a contingency whose test did not hold)."""
    return inject.delivered_at is None and inject.skipped is None


def contingency_holds(app: App, drill_id: str, when: Contingency) -> tuple[bool, str]:
    """Whether a contingency inject's test holds now, and why not when it does not."""
    with app.transaction() as session:
        rows = {r.step_id: r for r in Repository(session).steps(drill_id)}
        row = rows.get(when.step)
        status, answer = (row.status, dict(row.answer or {})) if row else ("pending", {})
    if when.step_not_done is not None:
        done = status in ("done", "skipped")
        return not done, f"{when.step} was {status} at the inject's time"
    field = str(when.answer).split(".", 1)[1]
    given = answer.get(field)
    values = given if isinstance(given, list) else [given]
    wanted = str(when.equals).strip().lower()
    if any(str(v).strip().lower() == wanted for v in values if v is not None):
        return True, ""
    return False, f"{when.answer} was {given!r}, not {when.equals!r}, at the inject's time"


def play(app: App, drill_id: str) -> TickResult:
    """The rest of a turn on the drill clock, once the due injects are out: automatic steps,
    simulated answers, and whether the drill is over or when it next has something to do."""
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        if drill.status != "running":  # ended: its clock stands where it ended
            ended = drill_clock(drill).scenario_time(drill.ended_at) if drill.ended_at else drill.t0
            return TickResult(scenario_now=ended, finished=True)
        clock = drill_clock(drill)
        scenario = scenario_of(drill)
        undelivered = [i.due_at for i in drills.injects(drill_id) if _waiting(i)]
    now_s = clock.scenario_time(app.clock.now())
    result = TickResult(scenario_now=now_s)
    _walk(app, drill_id, result)
    if _simulated(app, drill_id):
        _answer_as_scripted(app, drill_id, scenario, clock, now_s, result)
        _walk(app, drill_id, result)
    where = progress(app, drill_id)
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
        where = progress(app, drill_id)
        if where.closed or where.finished or not where.runnable:
            break
        for step in where.runnable:
            if run_automatic_step(app, drill_id, step.id):
                result.ran.append(step.id)
    if not where.closed and where.waiting:
        mark_waiting(app, drill_id, [s.id for s in where.waiting])


def _deliver(
    app: App, drill_id: str, scenario: Scenario, inject: Inject, number: int, now_s: datetime
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
            change_facts(app, drill_id, reveals, source=f"inject:{inject.id}", actor="drill")
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        repo = Repository(session)
        incident = repo.get_incident(drill_id)
        people = stored_participants(drill.participants)
        facilitator = _facilitator(people)
        keys = []
        for person in _recipients(people, inject):
            rendered = render(
                "drill_inject",
                {
                    "recipient": {"name": person.name, "timezone": person.timezone},
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
                    "facilitator": {"name": facilitator.name, "email": facilitator.email},
                },
                drill=True,
                template_dir=app.template_dir,
            )
            keys.append(f"{drill_id}:inject:{inject.id}:{person.email.lower()}")
            repo.queue_message(
                idempotency_key=keys[-1],
                kind="drill_inject",
                template="drill_inject",
                recipients=[person.email],
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


def _recipients(people: list[Participant], inject: Inject) -> list[Participant]:
    if inject.to == "all":
        return people
    wanted = {(t.party, t.role) for t in inject.to}
    chosen = [p for p in people if (p.party, p.acting_role) in wanted]
    return chosen or people


def _facilitator(people: list[Participant]) -> Participant:
    """Who runs the exercise, as the injects name them: the first incident lead among the people."""
    return next((p for p in people if p.role == "incident_lead"), people[0])


# ---- simulated participants -----------------------------------------------------------------------


def _ready_at(app: App, drill_id: str, clock: DrillClock) -> dict[str, datetime]:
    """Scenario time at which each waiting step became ready: when the last step it depends on was
    done (or T+0 for a step that depends on nothing)."""
    with app.transaction() as session:
        repo = Repository(session)
        playbook = playbook_of(repo.get_incident(drill_id))
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
        where = progress(app, drill_id)
        with app.transaction() as session:
            drill = DrillRepository(session).get_drill(drill_id)
            playbook = playbook_of(Repository(session).get_incident(drill_id))
            people = stored_participants(drill.participants)
        for step in where.waiting:
            if step.id not in ready or _answer_time(scenario, step.id, ready[step.id]) > now_s:
                continue
            by, on_behalf_of = _owner_address(step, people)
            if skip_if_moot(app, drill_id, playbook, step.id, actor=by, source=SIMULATED_SOURCE):
                result.skipped.append(step.id)  # the answers so far leave it nothing to do
                progressed = True
                continue
            complete_step(
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


def _catch_up(app: App, drill_id: str, scenario: Scenario, clock: DrillClock, until: datetime) -> None:
    """The scripted answers due by ``until`` (scenario time), before a contingency inject's test: a turn
    that comes late (a compressed clock, a slow task) must not find undone a step the simulated
    participants did before the inject's time."""
    result = TickResult(scenario_now=until)
    _walk(app, drill_id, result)
    _answer_as_scripted(app, drill_id, scenario, clock, until, result)


def _owner_address(step: Step, people: Sequence[Participant]) -> tuple[str, str | None]:
    """Who of the participants answers ``step`` in a simulation, and for which role if they do not
    hold it: the participant holding (or standing in for) the step's role at an owning party, else
    that party's incident lead, else any participant, answering on behalf of the role (recorded)."""
    for party in step.owner.parties:
        for person in people:
            if person.party == party and person.acting_role == step.owner.role:
                return person.email, None
    for party in step.owner.parties:
        for person in people:
            if person.party == party and person.role == "incident_lead":
                return person.email, None
    for party in step.owner.parties:
        for person in people:
            if person.party == party:
                return person.email, step.owner.role
    return people[0].email, step.owner.role


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
    """
    begin(app, drill_id)
    while True:
        result = tick(app, drill_id, send)
        if on_tick is not None:
            on_tick(result)
        if result.finished:
            (finish or finish_drill)(app, drill_id)
            return result
        sleep(seconds_to_wait(app, drill_id, result, poll_seconds))


def begin(app: App, drill_id: str) -> None:
    """Start the drill clock now, unless something has happened on it already: the minutes a flow
    run takes to start must not eat into a compressed scenario."""
    with app.transaction() as session:
        drills = DrillRepository(session)
        drills.begin(drills.get_drill(drill_id), app.clock.now())


def seconds_to_wait(app: App, drill_id: str, turn: TickResult, poll_seconds: float = 1.0) -> float:
    """Real seconds until the drill's next scenario event, at most ``poll_seconds``: a facilitated
    drill (speed 0) polls, so an ``advance`` is noticed within ``poll_seconds``."""
    clock = status(app, drill_id).clock
    wait = poll_seconds
    if turn.next_wake is not None:
        real = clock.real_time(turn.next_wake, app.clock.now())
        if real is not None:
            wait = min(poll_seconds, max((real - app.clock.now()).total_seconds(), 0.0))
    return max(wait, 0.001)

"""The drill on its clock: injects delivered in order and on time to the participants (at a real SMTP
server), simulated participants answering through the same `complete_step`, a facilitator's clock,
replays that deliver nothing twice, and a drill message to an outsider refused and recorded."""

from __future__ import annotations

import email.utils
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from breachops.bootstrap import App
from breachops.clock import DrillClock, ManualClock
from breachops.config.agreements import load_agreement
from breachops.deadlines.engine import assess
from breachops.deadlines.models import parse_facts
from breachops.errors import InputError
from breachops.notifications.channels.smtp import SmtpChannel
from breachops.notifications.outbox import dispatch, drill_participants
from breachops.playbooks.loader import load_scenario
from breachops.services.drill_ticks import (
    SIMULATED_SOURCE,
    Send,
    TickResult,
    deliver_inject,
    due_injects,
    run_drill,
    tick,
)
from breachops.services.drills import advance_drill, start_drill
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.models import AuditEvent, Message
from tests.drills.running import START
from tests.reminders.conftest import Smtp

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "subcontractor-source-leak"
AGREEMENT = load_agreement(ROOT / "examples" / "agreement.yaml")


def sender(app: App, smtp: Smtp, clock: ManualClock) -> Send:
    channel = SmtpChannel(smtp.host, smtp.port, tls="none", timeout=5, clock=clock)

    def send(keys: list[str]) -> Any:
        return dispatch(app, channel, keys=keys)

    return send


def start(app: App, *, speed: float = 36.0, simulate: bool = True, mode: str = "compressed") -> str:
    return start_drill(
        app,
        load_scenario(SCENARIO),
        load_agreement(ROOT / "examples" / "agreement.yaml"),
        speed=speed,
        mode=mode,
        simulate=simulate,
        actor="jana.weber@nordlicht.example",
    )


def travel(clock: ManualClock) -> Any:
    return lambda seconds: clock.advance(timedelta(seconds=seconds))


def no_report(_app: App, _drill_id: str) -> None:
    return None


def test_the_drill_clock_compresses_stands_still_and_keeps_past_events_where_they_were():
    t0 = START
    compressed = DrillClock(t0, t0, 36)
    assert compressed.scenario_time(t0 + timedelta(hours=2)) == t0 + timedelta(hours=72)
    assert compressed.real_time(t0 + timedelta(hours=72), t0) == t0 + timedelta(hours=2)
    advanced_at = t0 + timedelta(minutes=10)
    facilitated = DrillClock(t0, t0, 0, [(advanced_at, timedelta(hours=2))])
    assert facilitated.scenario_time(t0 + timedelta(minutes=5)) == t0  # before the advance
    assert facilitated.scenario_time(t0 + timedelta(hours=9)) == t0 + timedelta(hours=2)
    assert facilitated.real_time(t0 + timedelta(hours=3), advanced_at) is None
    with pytest.raises(ValueError, match="backwards"):
        DrillClock(t0, t0, -1)


def test_a_compressed_simulated_drill_delivers_each_inject_in_order_on_time_to_its_participants(
    app, clock, smtp
):
    drill_id = start(app)
    ticks: list[TickResult] = []
    run_drill(
        app, drill_id, sleep=travel(clock), send=sender(app, smtp, clock), on_tick=ticks.append,
        finish=no_report, poll_seconds=3600,
    )  # fmt: skip
    scenario = load_scenario(SCENARIO)
    with app.transaction() as session:
        drill = DrillRepository(session).get_drill(drill_id)
        participants = {p["email"].lower() for p in drill.participants}
        injects = DrillRepository(session).injects(drill_id)
        steps = Repository(session).steps(drill_id)
    # On time: each inject went out at exactly its scenario time (the loop sleeps until it is due),
    # but the contingency inject: the simulated participants froze access before its time.
    assert [i.inject_id for i in injects] == [i.id for i in scenario.injects]
    assert {i.inject_id: i.skipped for i in injects if i.skipped is not None} == {
        "repo-still-growing": "freeze-access was done at the inject's time"
    }
    assert all(i.delivered_at == i.due_at for i in injects if i.skipped is None)
    # In order, at the SMTP server, and only to participants of both parties.
    received = smtp.recorder.messages
    assert received
    order = [str(m["X-Breachops-Key"]).split(":inject:")[1].split(":")[0] for m in received]
    assert order == sorted(order, key=[i.id for i in scenario.injects].index)
    addressed = {email.utils.parseaddr(str(m["To"]))[1].lower() for m in received}
    assert addressed <= participants
    assert any(a.endswith("nordlicht.example") for a in addressed)
    assert any(a.endswith("horizonte.example") for a in addressed)
    assert all(str(m["Subject"]).startswith("[DRILL]") for m in received)
    assert max(smtp.recorder.keys().values()) == 1
    # Simulated participants answered every gate, through the same validation as `step done`, but
    # the one their answers made moot (not material: nothing to disclose to the market).
    assert all(s.status == "done" for s in steps if s.step_id != "disclose-to-market")
    answers = [s.answer for s in steps if s.answer and s.answer.get("source") == SIMULATED_SOURCE]
    assert answers
    assert all(s.completed_by is None or s.completed_by.lower() in participants | {"flow"} for s in steps)


def test_an_inject_reveals_its_facts_and_the_obligations_follow(app, clock, smtp):
    drill_id = start(app, simulate=False)
    scenario = load_scenario(SCENARIO)
    later = next(i for i in scenario.injects if i.reveals)  # personal data in the commit history
    with app.transaction() as session:
        before = {o.key for o in Repository(session).obligations(drill_id)}
        t0 = DrillRepository(session).get_drill(drill_id).t0
    clock.advance(later.at / 36 + timedelta(seconds=1))
    result = tick(app, drill_id, sender(app, smtp, clock))
    assert later.id in result.delivered
    with app.transaction() as session:
        repo = Repository(session)
        sources = {e.source for e in repo.fact_events(drill_id)}
        after = {o.key for o in repo.obligations(drill_id) if o.status != "withdrawn"}
    assert f"inject:{later.id}" in sources
    known = scenario.facts_at(t0)
    for inject in scenario.injects[: scenario.injects.index(later) + 1]:
        known.update(inject.reveals_at(t0))
    expected = assess(parse_facts(known, SCENARIO), app.catalogue, now=t0, agreement=AGREEMENT)
    assert after == {o.key for o in expected.obligations}
    assert after > before  # personal data revealed: the data-protection duties join the contract's


def test_ticking_again_at_the_same_moment_delivers_and_answers_nothing_twice(app, clock, smtp):
    drill_id = start(app)
    send = sender(app, smtp, clock)
    clock.advance(timedelta(minutes=40))
    first = tick(app, drill_id, send)
    count = len(smtp.recorder.messages)
    second = tick(app, drill_id, send)
    assert first.delivered and not second.delivered
    assert not second.answered
    assert len(smtp.recorder.messages) == count
    with app.transaction() as session:
        keys = [m.idempotency_key for m in session.query(Message).all()]
    assert len(keys) == len(set(keys))


def test_an_inject_delivery_retried_sends_nothing_twice_and_an_unknown_inject_is_named(app, clock, smtp):
    drill_id = start(app, simulate=False)
    send = sender(app, smtp, clock)
    first = load_scenario(SCENARIO).injects[0].id
    assert due_injects(app, drill_id) == [first]
    keys = deliver_inject(app, drill_id, first, send)
    assert keys and len(smtp.recorder.messages) == len(keys)
    assert deliver_inject(app, drill_id, first, send) is None  # the flow's task, retried
    assert len(smtp.recorder.messages) == len(keys)
    assert due_injects(app, drill_id) == []
    with pytest.raises(InputError, match="no-such-inject"):
        deliver_inject(app, drill_id, "no-such-inject", send)


def test_a_facilitated_drill_moves_only_when_advanced(app, clock, smtp):
    drill_id = start(app, speed=0, mode="facilitated", simulate=False)
    send = sender(app, smtp, clock)
    first = tick(app, drill_id, send)
    assert first.delivered == ["public-repo-found"]
    clock.advance(timedelta(days=3))  # real time passes; the scenario does not
    assert tick(app, drill_id, send).delivered == []
    moved = advance_drill(app, drill_id, None, "jana.weber@nordlicht.example")
    scenario = load_scenario(SCENARIO)
    assert moved.clock.offset(moved.scenario_now) == scenario.injects[1].at
    assert tick(app, drill_id, send).delivered == [scenario.injects[1].id]
    # Later advances leave earlier deliveries where they were in scenario time.
    advance_drill(app, drill_id, timedelta(hours=30), "jana.weber@nordlicht.example")
    with app.transaction() as session:
        delivered = {i.inject_id: i.delivered_at for i in DrillRepository(session).injects(drill_id)}
        kinds = [e.kind for e in session.query(AuditEvent).filter_by(incident_id=drill_id)]
    assert delivered[scenario.injects[1].id] == START + scenario.injects[1].at
    assert kinds.count("drill.advanced") == 2
    with pytest.raises(InputError, match="forward"):
        advance_drill(app, drill_id, timedelta(hours=-1), "jana.weber@nordlicht.example")


def test_a_drill_message_to_someone_outside_the_drill_is_refused_and_recorded(app, clock, smtp):
    drill_id = start(app, simulate=False)
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    everyone = {c.email.lower() for p in agreement.parties.values() for c in p.contacts.values()}
    outsider = sorted(everyone - set(drill_participants(app)(drill_id)))[0]  # in the agreement, not the drill
    for key, to in (("colleague", outsider), ("press", "editor@newspaper.example")):
        with app.transaction() as session:
            Repository(session).queue_message(
                idempotency_key=f"{drill_id}:{key}", kind="drill_inject", template="drill_inject",
                recipients=[to], subject="[DRILL] a journalist asks", body_text="x", at=clock.now(),
                incident_id=drill_id,
            )  # fmt: skip
    report = dispatch(app, SmtpChannel(smtp.host, smtp.port, tls="none", timeout=5, clock=clock))
    assert {f"{drill_id}:colleague", f"{drill_id}:press"} <= set(report.failed)
    assert not smtp.recorder.to(outsider) and not smtp.recorder.to("editor@newspaper.example")
    with app.transaction() as session:
        events = session.query(AuditEvent).filter_by(incident_id=drill_id, kind="message.failed").all()
    assert any("not a participant of the drill" in e.payload and outsider in e.payload for e in events)


def test_only_the_scenarios_participants_pass_the_drill_guard(app):
    drill_id = start(app, simulate=False)
    allowed = drill_participants(app)(drill_id)
    scenario = load_scenario(SCENARIO)
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    everyone = {c.email.lower() for p in agreement.parties.values() for c in p.contacts.values()}
    assert allowed < everyone
    assert len(allowed) == len({(p.party, p.role) for p in scenario.participants})


def test_drill_records_stay_out_of_the_incident_list(app):
    drill_id = start(app, simulate=False)
    with app.transaction() as session:
        repo = Repository(session)
        assert drill_id not in {i.id for i in repo.list_incidents()}
        assert drill_id in {i.id for i in repo.list_incidents(include_drills=True)}
    assert drill_id.startswith("DRL-2026-")

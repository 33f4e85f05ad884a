"""A drill ends when a person says so: `drill stop`, or closing its record. Its clock then stands
where it ended, as does a completed drill's, and nothing more is delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from breachops.errors import InputError
from breachops.services.drill_ticks import tick
from breachops.services.drills import advance_drill, status, stop_drill
from breachops.services.incidents import close_incident
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from tests.drills.running import START, start


def test_a_stopped_drill_keeps_its_clock_where_it_stopped_and_closes_its_record(app, clock):
    drill_id = start(app)
    clock.advance(timedelta(hours=48, minutes=24))
    stopped = stop_drill(app, drill_id, reason="out of time", actor="facilitator")
    assert stopped.drill.status == "stopped"
    assert stopped.scenario_now == START + timedelta(hours=48, minutes=24)
    clock.advance(timedelta(hours=11))  # a later `drill show` must not move
    assert status(app, drill_id).scenario_now == START + timedelta(hours=48, minutes=24)
    with app.transaction() as session:
        repo = Repository(session)
        assert repo.get_incident(drill_id).status == "closed"
        statuses = {o.status for o in repo.obligations(drill_id)}
    assert "pending" not in statuses and "closed-unmet" in statuses
    ticked = tick(app, drill_id)  # the drill's flow finds it stopped
    assert ticked.finished and not ticked.delivered
    assert ticked.scenario_now == START + timedelta(hours=48, minutes=24)
    with pytest.raises(InputError, match="no longer moves"):
        advance_drill(app, drill_id, timedelta(hours=1), "facilitator")


def test_stopping_a_drill_that_is_not_running_is_refused(app):
    drill_id = start(app)
    stop_drill(app, drill_id, reason="", actor="facilitator")
    with pytest.raises(InputError, match="is stopped, not running"):
        stop_drill(app, drill_id, reason="", actor="facilitator")


def test_closing_a_drills_record_stops_the_drill(app, clock):
    drill_id = start(app)
    clock.advance(timedelta(hours=2))
    with pytest.raises(InputError, match="--accept-pending"):
        close_incident(app, drill_id, reason="done for today", actor="facilitator")
    with app.transaction() as session:
        assert DrillRepository(session).get_drill(drill_id).status == "running"  # refused: unchanged
    close_incident(app, drill_id, reason="done for today", actor="facilitator", accept_pending=True)
    clock.advance(timedelta(hours=5))
    current = status(app, drill_id)
    assert current.drill.status == "stopped"
    assert current.scenario_now == START + timedelta(hours=2)


def test_a_completed_drills_clock_stands_at_its_end(app, clock):
    drill_id = start(app)
    clock.advance(timedelta(hours=3))
    with app.transaction() as session:
        drills = DrillRepository(session)
        drills.finish(drills.get_drill(drill_id), status="completed", at=clock.now(), actor="drill")
    clock.advance(timedelta(hours=11))
    assert status(app, drill_id).scenario_now == START + timedelta(hours=3)

"""During and after play: the facilitator pauses and resumes the drill clock, evaluators observe
objectives at scenario times, and the report stays a DRAFT until it is finalized."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from breachops.bootstrap import App
from breachops.clock import DrillClock
from breachops.errors import InputError
from breachops.services.drill_evaluation import finalize_report, observations_of, observe, rate_objective
from breachops.services.drill_reports import build_report
from breachops.services.drill_ticks import tick
from breachops.services.drills import pause_drill, status, stop_drill
from tests.drills.running import FACILITATOR, START, start

EVALUATOR = "dpo@nordlicht.example"


def offset(app: App, drill_id: str) -> timedelta:
    now = status(app, drill_id)
    return now.scenario_now - now.drill.t0


def test_the_clock_stands_still_while_paused_and_goes_on_from_there():
    clock = DrillClock(START, START, 2.0, pauses=[(START + timedelta(hours=1), START + timedelta(hours=4))])
    # Two scenario hours per real hour, none from real 1 h to 4 h: at real 5 h, 2 h + 2 h = T+4 h.
    assert clock.scenario_time(START + timedelta(hours=5)) == START + timedelta(hours=4)
    assert clock.scenario_time(START + timedelta(hours=3)) == START + timedelta(hours=2)
    assert clock.real_time(START + timedelta(hours=6), START + timedelta(hours=5)) == START + timedelta(
        hours=6
    )
    still = DrillClock(START, START, 1.0, pauses=[(START + timedelta(hours=1), None)])
    assert (
        still.paused_at(START + timedelta(hours=9))
        and still.real_time(START, START + timedelta(hours=2)) is None
    )


def test_a_paused_drill_delivers_nothing_and_its_clock_resumes_where_it_stood(app, clock):
    drill_id = start(app)
    clock.advance(timedelta(minutes=30))
    tick(app, drill_id)
    pause_drill(app, drill_id, FACILITATOR)
    with pytest.raises(InputError, match="is paused"):
        pause_drill(app, drill_id, FACILITATOR)
    clock.advance(timedelta(hours=6))  # past the injects of T+2h and beyond, had it run
    assert offset(app, drill_id) == timedelta(minutes=30)
    assert not tick(app, drill_id).delivered
    resumed = pause_drill(app, drill_id, FACILITATOR, resume=True)
    assert resumed.scenario_now - resumed.drill.t0 == timedelta(minutes=30)
    with pytest.raises(InputError, match="not paused"):
        pause_drill(app, drill_id, FACILITATOR, resume=True)
    clock.advance(timedelta(minutes=45))
    assert offset(app, drill_id) == timedelta(minutes=75)


def test_observations_carry_the_scenario_time_and_are_refused_when_malformed(app, clock):
    drill_id = start(app)
    clock.advance(timedelta(minutes=40))
    made = observe(app, drill_id, "contain-both-sides", "access frozen on one side only", "S", EVALUATOR)
    assert made.scenario_offset == "T+00:40"
    with pytest.raises(InputError, match="--objective"):
        observe(app, drill_id, "no-such-objective", "x", None, EVALUATOR)
    with pytest.raises(InputError, match="not a rating"):
        observe(app, drill_id, "contain-both-sides", "x", "Z", EVALUATOR)
    with pytest.raises(InputError, match="email"):
        observe(app, drill_id, "contain-both-sides", "x", None, "evaluator")
    [seen] = observations_of(app, drill_id)
    assert (seen.objective, seen.rating, seen.by) == ("contain-both-sides", "S", EVALUATOR)
    stop_drill(app, drill_id, reason="time is up", actor=FACILITATOR)
    with pytest.raises(InputError, match="Observe during play"):
        observe(app, drill_id, "contain-both-sides", "late remark", None, EVALUATOR)


def test_the_report_is_a_draft_until_finalized_and_then_takes_no_more_evaluation(app, clock):
    drill_id = start(app)
    clock.advance(timedelta(minutes=20))
    observe(app, drill_id, "contain-both-sides", "freeze ordered at T+00:20", None, EVALUATOR)
    with pytest.raises(InputError, match="still running"):
        finalize_report(app, drill_id, FACILITATOR)
    stop_drill(app, drill_id, reason="time is up", actor=FACILITATOR)
    draft = Path(build_report(app, drill_id).html_path).read_text()
    assert "DRAFT: NOT YET FINALIZED" in draft and "freeze ordered at T+00:20" in draft
    rate_objective(app, drill_id, "contain-both-sides", "M", "one side froze late", EVALUATOR)

    assert finalize_report(app, drill_id, FACILITATOR) is True
    assert finalize_report(app, drill_id, FACILITATOR) is False  # once
    final = build_report(app, drill_id)
    assert "DRAFT" not in Path(final.html_path).read_text() and "DRAFT" not in Path(final.md_path).read_text()
    with pytest.raises(InputError, match=r"evaluation of drill .* is closed"):
        rate_objective(app, drill_id, "contain-both-sides", "P", "second thoughts", EVALUATOR)

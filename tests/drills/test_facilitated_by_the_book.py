"""A facilitated drill by the book, end to end through the services the commands call: the facilitator
moves the clock, participants answer the injects' questions, evaluators observe twice, each party holds
its hotwash, two participants give feedback, the report is finalized with every objective rated from its
measures, and a corrective action it raised is updated, closed with evidence and verified by a later
drill."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from breachops.playbooks.loader import load_scenario
from breachops.services.corrective_actions import ActionChange, change_action, list_actions
from breachops.services.drill_evaluation import (
    answer_question,
    finalize_report,
    observe,
    record_hotwash,
)
from breachops.services.drill_feedback import record_feedback
from breachops.services.drill_reports import build_report
from breachops.services.drill_ticks import tick
from breachops.services.drills import advance_drill, close_drill
from breachops.services.steps import complete_step, mark_waiting
from tests.drills.running import FACILITATOR, start

LEAD_BR, SECURITY_BR, EVALUATOR = (
    "rafael.costa@horizonte.example",
    "tiago.rocha@horizonte.example",
    "dpo@nordlicht.example",
)
SCENARIO = load_scenario("subcontractor-source-leak")


def facilitated(app) -> str:
    drill_id = start(app, speed=0.0, mode="facilitated")
    tick(app, drill_id)  # T+0: the first inject goes out
    return drill_id


def test_a_facilitated_drill_is_played_evaluated_reported_and_followed_up(app, clock):
    drill_id = facilitated(app)
    answer_question(
        app, drill_id, "public-repo-found", "first-hour", "freeze, preserve, call the licensor", LEAD_BR
    )
    advance_drill(app, drill_id, timedelta(minutes=30), FACILITATOR)
    observe(
        app, drill_id, "contain-both-sides", "the licensee froze access before being asked", "P", EVALUATOR
    )
    advance_drill(app, drill_id, None, FACILITATOR)  # to the next inject, the journalist at T+2h
    tick(app, drill_id)
    observe(app, drill_id, "one-agreed-line", "two different lines drafted for the press", "M", EVALUATOR)
    record_hotwash(app, drill_id, "receiving", ["fast freeze"], ["one press line"], LEAD_BR)
    record_hotwash(app, drill_id, "disclosing", ["evidence kept"], [], "jana.weber@nordlicht.example")
    advance_drill(app, drill_id, timedelta(hours=71), FACILITATOR)
    close_drill(app, drill_id, build_report(app, drill_id))

    record_feedback(app, drill_id, LEAD_BR, {"useful": 5, "realistic": 4}, "more legal injects")
    record_feedback(app, drill_id, EVALUATOR, {"useful": 3, "ready": 2})
    assert finalize_report(app, drill_id, FACILITATOR)
    outcome = build_report(app, drill_id)
    html = Path(outcome.html_path).read_text(encoding="utf-8")
    assert "DRAFT" not in html
    for text in ("freeze, preserve, call the licensor", "two different lines drafted", "fast freeze",
                 "more legal injects", "2 of"):  # fmt: skip
        assert text in html, text
    # Every objective of the scenario has a row rated P, S, M or U, computed from its measures.
    capabilities = re.search(r'<section id="capabilities">(.*?)</section>', html, re.S)
    assert capabilities is not None
    for objective in SCENARIO.objectives:
        row = re.search(rf"<tr[^>]*>.*?\({objective.id}\).*?</tr>", capabilities.group(1), re.S)
        assert row is not None and re.search(r"<td>[PSMU]\b", row.group(0)), objective.id

    # Nobody answered the freeze-access gate: a corrective action, updated, evidenced, then verified.
    action = next(a for a in list_actions(app) if a["subject"] == "acknowledgement")
    change_action(app, action["id"], ActionChange(status="in_progress", owner_email=LEAD_BR), by=FACILITATOR)
    change_action(
        app, action["id"], ActionChange(status="done", evidence="https://wiki.example/on-call"), by=LEAD_BR
    )
    clock.advance(timedelta(days=30))  # the next quarter's drill
    later = facilitated(app)
    mark_waiting(app, later, ["freeze-access"])
    complete_step(app, later, "freeze-access", {"confirmed": True}, by=SECURITY_BR)  # answered at once
    clock.advance(timedelta(minutes=1))  # the facilitator moves the clock a minute later
    advance_drill(app, later, timedelta(hours=72), FACILITATOR)
    close_drill(app, later, build_report(app, later))
    verified = next(a for a in list_actions(app) if a["id"] == action["id"])
    assert (verified["status"], verified["verified_in"]) == ("verified", later)

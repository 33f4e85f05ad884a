"""Participants' feedback: asked by mail when a drill ends, answered by command or in the console,
summed up in the report beside earlier drills of the same scenario."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from breachops.errors import InputError
from breachops.services.drill_feedback import queue_feedback_requests, record_feedback, summary_of, trend_of
from breachops.services.drill_reports import build_report
from breachops.services.drills import stop_drill
from breachops.store.models import Message
from tests.drills.running import FACILITATOR, start
from tests.web.conftest import csrf_of, sign_in

PARTICIPANT = "tiago.rocha@horizonte.example"
OTHER = "dpo@nordlicht.example"


def requests(app) -> list[Message]:
    with app.transaction() as session:
        rows = list(session.scalars(select(Message).where(Message.kind == "drill_feedback_request")))
        session.expunge_all()
    return rows


def test_each_participant_is_asked_once_when_the_drill_ends(app, clock):
    drill_id = start(app)
    with pytest.raises(InputError, match="still running"):
        record_feedback(app, drill_id, PARTICIPANT, {"useful": 4})
    assert requests(app) == []
    clock.advance(timedelta(hours=1))
    stop_drill(app, drill_id, reason="time is up", actor=FACILITATOR)
    asked = requests(app)
    assert PARTICIPANT in {r for m in asked for r in m.recipients}
    assert all(m.drill and m.subject.startswith("[DRILL]") and len(m.recipients) == 1 for m in asked)
    assert f"breachops drill feedback {drill_id} --by {PARTICIPANT}" in next(
        m.body_text for m in asked if m.recipients == [PARTICIPANT]
    )
    assert queue_feedback_requests(app, drill_id) == []  # a retried close asks nobody twice
    assert len(requests(app)) == len(asked)


def test_answers_are_checked_averaged_replaced_and_trended(app, clock):
    first = start(app)
    stop_drill(app, first, reason="done", actor=FACILITATOR)
    with pytest.raises(InputError, match="not a participant"):
        record_feedback(app, first, "stranger@example.org", {"useful": 4})
    with pytest.raises(InputError, match="from 1"):
        record_feedback(app, first, PARTICIPANT, {"useful": 6})
    with pytest.raises(InputError, match="at least one"):
        record_feedback(app, first, PARTICIPANT, {"useful": None})
    record_feedback(app, first, PARTICIPANT, {"useful": 2, "realistic": 3}, "more injects")
    record_feedback(app, first, OTHER, {"useful": 4})
    record_feedback(app, first, PARTICIPANT, {"useful": 3, "realistic": 5}, "shorter, please")  # replaces
    summary = summary_of(app, first)
    assert summary.responses == 2 and summary.averages == {"useful": 3.5, "realistic": 5.0}
    assert summary.comments == ((PARTICIPANT, "shorter, please"),)

    clock.advance(timedelta(days=90))
    second = start(app)
    stop_drill(app, second, reason="done", actor=FACILITATOR)
    record_feedback(app, second, PARTICIPANT, {"useful": 5})
    assert [(s.drill_id, s.averages.get("useful")) for s in trend_of(app, second)] == [
        (first, 3.5),
        (second, 5.0),
    ]
    report = Path(build_report(app, second).html_path).read_text()
    assert "Participant feedback" in report and f"{second} (this drill)" in report and "3.5" in report


def test_the_console_form_records_feedback_and_refuses_a_form_without_its_token(app, clock):
    from fastapi.testclient import TestClient

    from breachops.web.app import create_app

    drill_id = start(app)
    stop_drill(app, drill_id, reason="done", actor=FACILITATOR)
    with TestClient(create_app(app, "http://testserver", wake=None), base_url="http://testserver") as client:
        sign_in(client, app, PARTICIPANT)
        page = client.get(f"/drills/{drill_id}/feedback")
        assert page.status_code == 200 and "How useful was the drill for your role?" in page.text
        refused = client.post(f"/drills/{drill_id}/feedback", data={"useful": "4"})
        assert refused.status_code == 403
        sent = client.post(
            f"/drills/{drill_id}/feedback", follow_redirects=False,
            data={"csrf": csrf_of(page.text), "useful": "4", "ready": "2", "comment": "more time for legal"},
        )  # fmt: skip
        assert sent.status_code == 303
    summary = summary_of(app, drill_id)
    assert summary.averages == {"useful": 4.0, "ready": 2.0}
    assert summary.comments == ((PARTICIPANT, "more time for legal"),)

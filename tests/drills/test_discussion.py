"""Discussion questions ride with their inject and participants answer them; each party gives a hotwash
after play. Both land in the drill's audit stream and in the after-action report, refused (nothing
stored) when they name an inject, question or party the drill does not have, or come from outside it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.errors import InputError
from breachops.playbooks.loader import load_scenario
from breachops.services import drill_evaluation
from breachops.services.drill_reports import build_report
from breachops.services.drill_ticks import tick
from breachops.services.drills import start_drill
from breachops.store.models import AuditEvent, Message
from tests.drills.test_scenarios import minimal, refusal, write

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
LARS = "lars.hoffmann@nordlicht.example"
RAFAEL = "rafael.costa@horizonte.example"


def test_bare_questions_get_ids_and_a_question_measure_must_name_one(tmp_path: Path):
    data = minimal()
    data["injects"][1]["questions"] = [
        "Who calls whom?",
        {"id": "press", "text": "What do we tell the press?"},
    ]
    data["objectives"] = [{"id": "talk", "text": "Talk", "measured_by": ["question:start/press"]}]
    scenario = load_scenario(write(tmp_path, data))
    start = scenario.inject("start")
    assert [(q.id, q.text) for q in start.questions] == [
        ("q1", "Who calls whom?"),
        ("press", "What do we tell the press?"),
    ]
    data["injects"][1]["questions"] = [{"id": "q1", "text": "A"}, {"id": "q1", "text": "B"}]
    data["objectives"] = []
    error = refusal(tmp_path, data)
    assert (error.field, error.value) == ("injects[0] (start).questions", "q1")


@pytest.fixture
def app(tmp_path: Path) -> App:
    return App(Settings(workspace=tmp_path / "ws"), clock=ManualClock(START))


def started(app: App) -> str:
    drill_id = start_drill(
        app,
        load_scenario("subcontractor-source-leak"),
        load_agreement(ROOT / "examples" / "agreement.yaml"),
        speed=0,
        mode="facilitated",
        simulate=False,
        actor="jana.weber@nordlicht.example",
    )
    tick(app, drill_id)  # the first inject, with its question
    return drill_id


def events(app: App, drill_id: str, kind: str) -> list[AuditEvent]:
    with app.transaction() as session:
        return list(session.query(AuditEvent).filter_by(incident_id=drill_id, kind=kind))


def test_the_question_goes_out_with_its_inject_and_answers_and_hotwash_reach_the_report(app: App):
    drill_id = started(app)
    with app.transaction() as session:
        bodies = [
            m.body_text for m in session.query(Message).filter_by(incident_id=drill_id, kind="drill_inject")
        ]
    assert bodies and all("who tells the other? (question first-hour)" in " ".join(b.split()) for b in bodies)
    drill_evaluation.answer_question(
        app, drill_id, "public-repo-found", "first-hour", "Tiago freezes access; Rafael calls Jana.", RAFAEL
    )
    drill_evaluation.record_hotwash(
        app,
        drill_id,
        "disclosing",
        ["Evidence held within the hour"],
        ["Know the licensee's on-call number"],
        LARS,
    )
    assert [e.actor for e in events(app, drill_id, "drill.question_answered")] == [RAFAEL]
    assert [e.actor for e in events(app, drill_id, "drill.hotwash")] == [LARS]
    md = build_report(app, drill_id, interim=True).md_path.read_text(encoding="utf-8")
    assert "## Discussion" in md
    assert "What does each party do in the first hour, and who tells the other?" in md
    assert "Tiago freezes access; Rafael calls Jana." in md and RAFAEL in md
    assert "## Hotwash" in md
    assert "- Went well: Evidence held within the hour" in md
    assert "- To improve: Know the licensee's on-call number" in md


@pytest.mark.parametrize(
    ("call", "flag"),
    [
        (lambda a, d: drill_evaluation.answer_question(a, d, "public-repo-found", "q9", "Yes.", RAFAEL), "--question"),
        (lambda a, d: drill_evaluation.answer_question(a, d, "no-such-inject", "q1", "Yes.", RAFAEL), "INJECT"),
        (lambda a, d: drill_evaluation.answer_question(a, d, "public-repo-found", "first-hour", "Yes.",
                                                      "outsider@example.com"), "--by"),
        (lambda a, d: drill_evaluation.answer_question(a, d, "public-repo-found", "first-hour", "  ", RAFAEL),
         "--text"),
        (lambda a, d: drill_evaluation.record_hotwash(a, d, "regulator", ["x"], [], LARS), "--party"),
        (lambda a, d: drill_evaluation.record_hotwash(a, d, "disclosing", [], [], LARS), "--went-well"),
        (lambda a, d: drill_evaluation.record_hotwash(a, d, "disclosing", ["x"], [], "nobody@example.com"), "--by"),
    ],
)  # fmt: skip
def test_a_bad_answer_or_hotwash_is_refused_and_nothing_is_recorded(app: App, call: Any, flag: str):
    drill_id = started(app)
    with pytest.raises(InputError) as caught:
        call(app, drill_id)
    assert caught.value.source == flag
    assert events(app, drill_id, "drill.question_answered") == []
    assert events(app, drill_id, "drill.hotwash") == []


def test_a_question_of_an_inject_not_yet_delivered_cannot_be_answered(app: App):
    drill_id = start_drill(
        app,
        load_scenario("authority-access-demand"),
        load_agreement(ROOT / "examples" / "agreement.yaml"),
        speed=0,
        mode="facilitated",
        simulate=False,
        actor="jana.weber@nordlicht.example",
    )
    tick(app, drill_id)  # delivers only demand-served, at T+0
    with pytest.raises(InputError, match="not been delivered"):
        drill_evaluation.answer_question(
            app,
            drill_id,
            "confidentiality-clause",
            "licensor-third-party",
            "Yes.",
            "marina.alves@horizonte.example",
        )


def test_drill_answer_and_drill_hotwash_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import os

    import typer
    from typer.testing import CliRunner

    from breachops.commands.drill_evaluation import register

    workspace = tmp_path / "cli-ws"
    for name in [n for n in os.environ if n.startswith(("BREACHOPS_", "PREFECT_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BREACHOPS_WORKSPACE", str(workspace))
    drill_id = started(App(Settings(workspace=workspace), clock=ManualClock(START)))
    group = typer.Typer()
    register(group)
    run = CliRunner().invoke
    hotwash = ["hotwash", drill_id, "--party", "receiving", "--by", RAFAEL]
    result = run(
        group, [*hotwash, "--went-well", "Fast freeze", "--went-well", "One voice", "--improve", "Logs"]
    )
    assert result.exit_code == 0, result.output
    assert "hotwash of receiving recorded (2 went well, 1 to improve)" in result.output
    answer = ["answer", drill_id, "public-repo-found", "--question", "first-hour", "--by", RAFAEL]
    result = run(group, [*answer, "--text", "We call the licensor."])
    assert result.exit_code == 0, result.output
    app = App(Settings(workspace=workspace), clock=ManualClock(START))
    (entry,) = drill_evaluation.hotwash_of(app, drill_id)
    assert (entry.went_well, entry.improve) == (("Fast freeze", "One voice"), ("Logs",))
    assert [a.text for a in drill_evaluation.answers_of(app, drill_id)] == ["We call the licensor."]

"""Exercise objectives in a scenario: free text and structured ones both load, every measure is checked
against the playbook and the rule catalogue at load (file, field and value named), and an evaluator's
rating of a drill's objective lands in the drill's audit stream and in its report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.errors import InputError
from breachops.playbooks.loader import list_scenarios, load_scenario
from breachops.services import drill_evaluation
from breachops.services.drill_reports import build_report
from breachops.services.drill_ticks import tick
from breachops.services.drills import start_drill
from breachops.services.steps import complete_step
from breachops.store.models import AuditEvent
from tests.drills.test_scenarios import minimal, refusal, write

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
EVALUATOR = "eva.evaluator@nordlicht.example"


def structured(**changes: Any) -> dict[str, Any]:
    return {
        "id": "contain",
        "text": "Freeze access and preserve evidence",
        "capability": "Cybersecurity",
        "measured_by": ["step:freeze-access", "step:preserve-evidence"],
        "target": "Within two hours",
        **changes,
    }


# ---- loading -------------------------------------------------------------------------------------


def test_the_shipped_scenarios_carry_structured_measured_objectives():
    for scenario in list_scenarios():
        assert len(scenario.objectives) >= 3, scenario.id
        for objective in scenario.objectives:
            assert objective.capability and objective.target and objective.measured_by, objective.id


def test_free_text_and_structured_objectives_both_load(tmp_path: Path):
    data = {**minimal(), "objectives": ["Tell the counterparty first", structured()]}
    scenario = load_scenario(write(tmp_path, data))
    free, measured = scenario.objectives
    assert (free.id, free.text, free.measured_by) == ("objective-1", "Tell the counterparty first", ())
    assert measured.measures("step") == ("freeze-access", "preserve-evidence")
    assert str(measured) == "Freeze access and preserve evidence"
    assert scenario.objective("contain") is measured


@pytest.mark.parametrize(
    ("objective", "field", "value", "problem"),
    [
        (structured(measured_by=["step:freeze-acces"]), "objectives[0] (contain).measured_by",
         "step:freeze-acces", "no such step"),
        (structured(measured_by=["obligation:gdpr-art-99"]), "objectives[0] (contain).measured_by",
         "obligation:gdpr-art-99", "no rule of the catalogue"),
        (structured(measured_by=["question:start/q9"]), "objectives[0] (contain).measured_by",
         "question:start/q9", "no inject asks this question"),
    ],
)  # fmt: skip
def test_a_measure_naming_nothing_the_drill_records_is_refused_at_load(
    tmp_path: Path, objective: dict[str, Any], field: str, value: str, problem: str
):
    error = refusal(tmp_path, {**minimal(), "objectives": [objective]})
    assert (error.field, error.value) == (field, value)
    assert problem in error.problem


def test_a_measure_of_an_unknown_kind_or_a_duplicate_objective_is_refused(tmp_path: Path):
    error = refusal(tmp_path, {**minimal(), "objectives": [structured(measured_by=["task:freeze-access"])]})
    assert error.field is not None and "measured_by" in error.field
    assert "kind of measure" in error.problem
    error = refusal(tmp_path, {**minimal(), "objectives": [structured(), structured()]})
    assert (error.field, error.value) == ("objectives[1] (contain).id", "contain")


def test_a_measure_naming_a_rule_of_the_catalogue_loads(tmp_path: Path):
    objective = structured(measured_by=["obligation:eu-gdpr-art33-authority", "step:freeze-access"])
    scenario = load_scenario(write(tmp_path, {**minimal(), "objectives": [objective]}))
    assert scenario.objectives[0].measures("obligation") == ("eu-gdpr-art33-authority",)


# ---- an evaluator's rating of a facilitated drill ------------------------------------------------


@pytest.fixture
def app(tmp_path: Path) -> App:
    return App(Settings(workspace=tmp_path / "ws"), clock=ManualClock(START))


def facilitated(app: App) -> str:
    return start_drill(
        app,
        load_scenario("subcontractor-source-leak"),
        load_agreement(ROOT / "examples" / "agreement.yaml"),
        speed=0,
        mode="facilitated",
        simulate=False,
        actor="jana.weber@nordlicht.example",
    )


def ratings_in_audit(app: App, drill_id: str) -> list[AuditEvent]:
    with app.transaction() as session:
        return list(session.query(AuditEvent).filter_by(incident_id=drill_id, kind="drill.objective_rated"))


def test_a_facilitated_drill_rates_its_objectives_and_an_evaluator_overrides_one(app: App):
    drill_id = facilitated(app)
    tick(app, drill_id)
    complete_step(app, drill_id, "freeze-access", {}, by="tiago.rocha@horizonte.example")
    made = drill_evaluation.rate_objective(
        app, drill_id, "tell-the-counterparty", "S", "Told by phone; the e-mail came late.", EVALUATOR
    )
    assert made.rating == "S"
    (event,) = ratings_in_audit(app, drill_id)
    assert event.actor == EVALUATOR and '"objective":"tell-the-counterparty"' in event.payload.replace(
        " ", ""
    )
    assert drill_evaluation.overrides_of(app, drill_id)["tell-the-counterparty"].reason.startswith("Told")
    outcome = build_report(app, drill_id, interim=True)
    md = outcome.md_path.read_text(encoding="utf-8")
    assert "## Objectives and capabilities" in md
    assert "step:freeze-access (on time)" in md
    assert f"S by {EVALUATOR}: Told by phone" in md


@pytest.mark.parametrize(
    ("objective", "rating", "reason", "by", "flag"),
    [
        ("no-such-objective", "P", "Fine.", EVALUATOR, "--objective"),
        ("contain-both-sides", "X", "Fine.", EVALUATOR, "--rating"),
        ("contain-both-sides", "P", "  ", EVALUATOR, "--reason"),
        ("contain-both-sides", "P", "Fine.", "not-an-address", "--by"),
    ],
)
def test_a_bad_rating_is_refused_and_nothing_is_recorded(
    app: App, objective: str, rating: str, reason: str, by: str, flag: str
):
    drill_id = facilitated(app)
    with pytest.raises(InputError) as caught:
        drill_evaluation.rate_objective(app, drill_id, objective, rating, reason, by)
    assert caught.value.source == flag
    assert ratings_in_audit(app, drill_id) == []


def test_the_latest_rating_of_an_objective_stands(app: App):
    drill_id = facilitated(app)
    drill_evaluation.rate_objective(app, drill_id, "scope-in-time", "M", "Slow.", EVALUATOR)
    app.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    drill_evaluation.rate_objective(app, drill_id, "scope-in-time", "S", "Second look: fair.", EVALUATOR)
    assert drill_evaluation.overrides_of(app, drill_id)["scope-in-time"].rating == "S"
    assert len(ratings_in_audit(app, drill_id)) == 2


def test_drill_rate_records_the_rating_and_names_the_bad_flag(
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
    drill_id = facilitated(App(Settings(workspace=workspace), clock=ManualClock(START)))
    group = typer.Typer()
    register(group)
    group.command("noop")(lambda: None)  # a group of one command would swallow its name
    run = CliRunner().invoke
    args = ["rate", drill_id, "--objective", "scope-in-time", "--reason", "Scoped fast.", "--by", EVALUATOR]
    result = run(group, [*args, "--rating", "p"])
    assert result.exit_code == 0, result.output
    assert "scope-in-time rated P (Performed without challenges)" in result.output
    refused = run(group, [*args, "--rating", "Q"])
    assert isinstance(refused.exception, InputError) and refused.exception.source == "--rating"
    app = App(Settings(workspace=workspace), clock=ManualClock(START))
    assert [e.actor for e in ratings_in_audit(app, drill_id)] == [EVALUATOR]

"""Contingency injects: delivered only when their test holds at their time, skipped (and said so)
otherwise; they travel through the MSEL, a spreadsheet included."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from breachops.config.agreements import load_agreement
from breachops.errors import InputError
from breachops.playbooks.loader import load_scenario
from breachops.playbooks.msel import export_rows, import_msel
from breachops.playbooks.msel_xlsx import export_xlsx
from breachops.services.drill_ticks import tick
from breachops.services.drills import start_drill
from breachops.services.steps import complete_step, mark_waiting
from breachops.store.drills import DrillRepository
from tests.drills.running import FACILITATOR, ROOT

SHIPPED = Path(__file__).resolve().parents[2] / "breachops" / "playbooks" / "scenarios"
STILL_OPEN = {
    "id": "access-still-open",
    "at": "T+1h",
    "title": "The repository is still public",
    "message": "An hour on, the repository can still be cloned. The licensor's CISO calls the licensee.",
    "to": "all",
    "expects": ["freeze-access"],
    "if": {"step_not_done": "freeze-access"},
}


def scenario_file(tmp_path: Path, extra: dict) -> Path:
    data = yaml.safe_load((SHIPPED / "subcontractor-source-leak.yaml").read_text(encoding="utf-8"))
    data["injects"].insert(1, extra)
    path = tmp_path / "with-contingency.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run(app, clock, path: Path, freeze_at: timedelta | None) -> tuple[str, dict]:
    drill_id = start_drill(
        app, load_scenario(path), load_agreement(ROOT / "examples" / "agreement.yaml"),
        speed=1.0, mode="real", simulate=False, actor=FACILITATOR,
    )  # fmt: skip
    tick(app, drill_id)
    if freeze_at is not None:
        mark_waiting(app, drill_id, ["freeze-access"])
        clock.advance(freeze_at)
        complete_step(app, drill_id, "freeze-access", {"confirmed": True}, by="tiago.rocha@horizonte.example")
    clock.advance(timedelta(hours=1, minutes=5) - (freeze_at or timedelta(0)))
    tick(app, drill_id)
    with app.transaction() as session:
        rows = {i.inject_id: (i.delivered_at, i.skipped) for i in DrillRepository(session).injects(drill_id)}
    return drill_id, rows


def test_a_contingency_inject_goes_out_only_while_its_step_is_not_done(app, clock, tmp_path):
    path = scenario_file(tmp_path, STILL_OPEN)
    _, late = run(app, clock, path, freeze_at=None)
    delivered, skipped = late["access-still-open"]
    assert delivered is not None and skipped is None

    _, prompt = run(app, clock, path, freeze_at=timedelta(minutes=10))
    delivered, skipped = prompt["access-still-open"]
    assert delivered is None and skipped == "freeze-access was done at the inject's time"


def test_an_answer_test_and_a_spreadsheet_round_trip(app, clock, tmp_path):
    on_answer = {
        **STILL_OPEN,
        "id": "regulator-calls",
        "if": {"answer": "assess-notifiability.risk", "equals": "high"},
    }
    path = scenario_file(tmp_path, on_answer)
    scenario = load_scenario(path)
    book = tmp_path / "msel.xlsx"
    book.write_bytes(export_xlsx(export_rows(scenario)))
    back = import_msel(book, "xlsx")
    assert back.model_dump() == scenario.model_dump()
    assert back.inject("regulator-calls").when.answer == "assess-notifiability.risk"  # type: ignore[union-attr]
    _, rows = run(app, clock, path, freeze_at=None)  # nobody assessed the risk by T+1h
    assert (
        rows["regulator-calls"][1] == "assess-notifiability.risk was None, not 'high', at the inject's time"
    )


@pytest.mark.parametrize(
    ("test", "problem"),
    [
        ({"step_not_done": "freeze"}, "no such step"),
        ({"step_not_done": "freeze-access", "answer": "x.y", "equals": 1}, "give one test"),
        ({"answer": "assess-notifiability"}, "STEP.FIELD"),
    ],
)
def test_a_malformed_test_is_refused_when_the_scenario_loads(tmp_path, test, problem):
    with pytest.raises(InputError, match=problem):
        load_scenario(scenario_file(tmp_path, {**STILL_OPEN, "if": test}))

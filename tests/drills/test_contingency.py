"""Contingency injects: delivered only when their test holds at their time, skipped (and said so)
otherwise; they travel through the MSEL, a spreadsheet included. The shipped leak scenario has one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from breachops.config.agreements import load_agreement
from breachops.errors import InputError
from breachops.playbooks.loader import load_scenario
from breachops.playbooks.msel import export_rows, import_msel, write_scenario_yaml
from breachops.playbooks.msel_xlsx import export_xlsx
from breachops.services.drill_ticks import run_drill, tick
from breachops.services.drills import drill_clock, start_drill
from breachops.services.steps import complete_step, mark_waiting
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.models import AuditEvent, Message
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
    imported = tmp_path / "imported.yaml"  # as `drill msel import --output` writes it; the drill runs it
    imported.write_text(write_scenario_yaml(back), encoding="utf-8")
    _, rows = run(app, clock, imported, freeze_at=None)  # nobody assessed the risk by T+1h
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


# ---- the shipped scenario's contingency inject ----------------------------------------------------

SPEED = 36.0  # the scenario's 72 hours in 2


def shipped(tmp_path: Path, freeze_delay: str | None = None) -> Path:
    """The shipped leak scenario, its simulated participants freezing access after ``freeze_delay``."""
    data = yaml.safe_load((SHIPPED / "subcontractor-source-leak.yaml").read_text(encoding="utf-8"))
    if freeze_delay is not None:
        data["simulation"]["steps"]["freeze-access"]["delay"] = freeze_delay
    path = tmp_path / f"leak-freeze-{freeze_delay or 'as-shipped'}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def simulated(app, path: Path) -> str:
    return start_drill(
        app, load_scenario(path), load_agreement(ROOT / "examples" / "agreement.yaml"),
        speed=SPEED, mode="compressed", simulate=True, actor=FACILITATOR,
    )  # fmt: skip


def simulated_to_the_end(app, clock, path: Path) -> str:
    drill_id = simulated(app, path)
    run_drill(
        app, drill_id, sleep=lambda s: clock.advance(timedelta(seconds=s)), finish=lambda *_: None,
        poll_seconds=3600,
    )  # fmt: skip
    return drill_id


def contingency_of(app, drill_id: str) -> dict:
    """Where the drill left the shipped contingency inject, and what its audit log and outbox say."""
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        inject = next(i for i in drills.injects(drill_id) if i.inject_id == "repo-still-growing")
        freeze = next(s for s in Repository(session).steps(drill_id) if s.step_id == "freeze-access")
        events = [
            e.kind for e in session.query(AuditEvent).filter_by(incident_id=drill_id)
            if '"repo-still-growing"' in e.payload
        ]  # fmt: skip
        mail = [
            m.recipients[0].lower() for m in session.query(Message).filter_by(incident_id=drill_id)
            if ":inject:repo-still-growing:" in m.idempotency_key
        ]  # fmt: skip
        scenario_time = drill_clock(drill).scenario_time
        return {
            "due": inject.due_at - drill.t0,
            "delivered": None if inject.delivered_at is None else inject.delivered_at - drill.t0,
            "skipped": inject.skipped,
            "frozen_at": scenario_time(freeze.completed_at) - drill.t0 if freeze.completed_at else None,
            "events": events,
            "mail": sorted(mail),
            "participants": sorted(p["email"].lower() for p in drill.participants),
        }


def test_the_shipped_scenario_escalates_only_when_access_is_not_frozen_by_t_plus_4h(app, clock, tmp_path):
    scenario = load_scenario("subcontractor-source-leak")
    (contingent,) = [i for i in scenario.injects if i.when is not None]
    test = contingent.when.step_not_done if contingent.when else None
    assert (contingent.id, contingent.at, test) == ("repo-still-growing", timedelta(hours=4), "freeze-access")

    # As shipped, the simulated security lead freezes access at T+1h: the escalation is skipped.
    in_time = contingency_of(app, simulated_to_the_end(app, clock, shipped(tmp_path)))
    assert in_time["frozen_at"] < timedelta(hours=4)
    assert in_time["delivered"] is None
    assert in_time["skipped"] == "freeze-access was done at the inject's time"
    assert in_time["events"] == ["drill.inject_skipped"] and in_time["mail"] == []

    # Frozen only at T+6h: at T+4h the repository is still growing, and every participant hears of it.
    late = contingency_of(app, simulated_to_the_end(app, clock, shipped(tmp_path, freeze_delay="6h")))
    assert late["frozen_at"] > timedelta(hours=4)
    assert late["delivered"] == late["due"] == timedelta(hours=4) and late["skipped"] is None
    assert late["events"] == ["drill.inject_delivered"]
    assert late["mail"] == late["participants"]


def test_a_late_turn_tests_the_contingency_after_the_answers_scripted_before_its_time(app, clock, tmp_path):
    drill_id = simulated(app, shipped(tmp_path))
    tick(app, drill_id)  # T+0
    clock.advance(timedelta(hours=5) / SPEED)  # the next turn comes only at T+5h (a slow machine)
    tick(app, drill_id)
    left = contingency_of(app, drill_id)
    assert left["skipped"] == "freeze-access was done at the inject's time" and left["mail"] == []
    assert left["frozen_at"] is not None

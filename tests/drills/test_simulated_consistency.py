"""Simulated participants keep to the facts their answers reveal: once `assess-materiality` is
answered `material: no`, "Disclose a material incident" is skipped with that reason, never confirmed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from breachops.playbooks.loader import load_playbook
from breachops.services import drill_ticks as drill_service
from breachops.services.moot_steps import moot_reason
from breachops.store import Repository
from breachops.store.models import AuditEvent
from tests.drills.test_drill_ticks import no_report, sender, start, travel


def test_a_simulated_drill_skips_the_market_disclosure_once_the_incident_is_not_material(
    app: Any,
    clock: Any,
    smtp: Any,
) -> None:
    # subcontractor-source-leak scripts `assess-materiality: {material: false}` ("neither party's
    # shares are listed") and names no public_company sector: no securities regulator duty follows.
    drill_id = start(app)
    ticks: list[drill_service.TickResult] = []
    drill_service.run_drill(
        app, drill_id, sleep=travel(clock), send=sender(app, smtp, clock), on_tick=ticks.append,
        finish=no_report, poll_seconds=3600,
    )  # fmt: skip
    with app.transaction() as session:
        repo = Repository(session)
        steps = {s.step_id: s for s in repo.steps(drill_id)}
        kinds = [
            (e.kind, json.loads(e.payload).get("step_id"))
            for e in session.query(AuditEvent).filter_by(incident_id=drill_id).order_by(AuditEvent.seq)
        ]
        securities = [o for o in repo.obligations(drill_id) if o.audience == "securities_regulator"]
    assert steps["assess-materiality"].answer["material"] is False
    disclose = steps["disclose-to-market"]
    assert disclose.status == "skipped"
    assert disclose.answer["skipped_because"] == (
        "no securities_regulator obligation applies to the facts (assess-materiality answered material: no)"
    )
    assert disclose.answer["source"] == drill_service.SIMULATED_SOURCE
    assert ("step.skipped", "disclose-to-market") in kinds
    assert ("step.done", "disclose-to-market") not in kinds
    assert not any(o.status == "met" for o in securities)
    assert any("disclose-to-market" in t.skipped for t in ticks)
    # Every other gate was answered as before.
    assert all(s.status == "done" for key, s in steps.items() if key != "disclose-to-market")


def _obligation(due: datetime | None) -> Any:
    return SimpleNamespace(
        rule_id="us-sec-8k-item-1-05", audience="securities_regulator", due=due, status="pending"
    )


def test_the_step_stays_when_the_answers_start_its_duty() -> None:
    step = load_playbook("confidential-information-leak").step("disclose-to-market")
    due = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)
    material = {"assess-materiality": {"material": True}}
    not_material = {"assess-materiality": {"material": False}}
    assert moot_reason(step, [_obligation(due)], material) is None
    # The duty applies (a listed party) but its clock waits for a materiality determination.
    assert moot_reason(step, [_obligation(None)], not_material) == (
        "no securities_regulator obligation has its clock started by the answers "
        "(assess-materiality answered material: no)"
    )
    assert moot_reason(step, [_obligation(None) for _ in range(1)], {}) is None  # nothing answered yet
    assert moot_reason(step, [_obligation(due + timedelta(days=1))], not_material) is None

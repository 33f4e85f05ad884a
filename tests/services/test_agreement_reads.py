"""An incident's agreement is parsed once per process, whichever operation reads it first.

The snapshot stored at opening never changes, so every reader (recomputing obligations, confirming a
step, queueing messages, the reminder service) takes it from ``App.agreements``; parsing it again in
each of them was most of the cost of a fact change and of a dispatcher's claim.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import Agreement, load_agreement, parse_agreement
from breachops.config.settings import Settings
from breachops.deadlines.models import load_facts
from breachops.flows.scheduler import ReminderService
from breachops.notifications import MemoryChannel
from breachops.playbooks import load_playbook
from breachops.playbooks.loader import load_scenario
from breachops.services.drills import start_drill
from breachops.services.facts import change_facts
from breachops.services.incidents import agreement_of, open_incident
from breachops.services.steps import complete_step, progress
from breachops.store import Repository

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every agreement parsed from here on (by any path: they all end in ``model_validate``)."""
    seen: list[str] = []
    original: Callable[..., Agreement] = Agreement.model_validate

    def counting(cls: type[Agreement], data: Any, *args: Any, **kwargs: Any) -> Agreement:
        seen.append(str(data.get("origin", "")) if isinstance(data, dict) else "")
        return original(data, *args, **kwargs)

    monkeypatch.setattr(Agreement, "model_validate", classmethod(counting))
    return seen


def test_one_incident_through_many_operations_parses_its_agreement_once(tmp_path: Path, parses: list[str]):
    clock = ManualClock(START)
    app = App(Settings(workspace=tmp_path / "ws"), clock=clock)
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    assert len(parses) == 1  # the file, read by the caller
    parses.clear()

    incident_id = open_incident(
        app,
        facts=load_facts(ROOT / "examples" / "facts.yaml"),
        agreement=agreement,
        playbook=load_playbook("confidential-information-leak"),
        title="Licensed source code on a public repository",
        actor="rafael.costa@horizonte.example",
    )
    assert parses == []  # opening uses the agreement it was given; the snapshot is not cached yet

    reminders = ReminderService(app, MemoryChannel(clock=clock))
    reminders.tick()  # the opening messages: planner and dispatcher read the snapshot
    clock.advance(timedelta(hours=1))
    change_facts(app, incident_id, {"risk": "high"}, source="cli", actor="rafael.costa@horizonte.example")
    complete_step(app, incident_id, "freeze-access", {}, by="tiago.rocha@horizonte.example")
    complete_step(
        app,
        incident_id,
        "preserve-evidence",
        {"evidence_links": "https://e.example/1", "legal_hold": "yes"},
        by="lars.hoffmann@nordlicht.example",
    )
    assert progress(app, incident_id).done >= {"freeze-access", "preserve-evidence"}
    clock.advance(timedelta(hours=30))
    reminders.tick()
    with app.transaction() as session:
        stored = agreement_of(app, Repository(session).get_incident(incident_id))

    assert len(parses) == 1, parses
    assert stored.id == agreement.id
    assert stored.parties.keys() == agreement.parties.keys()


def test_another_process_parses_the_snapshot_again(tmp_path: Path, parses: list[str]):
    # The cache lives in the App (one per process): a second one reads the stored snapshot itself.
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    first = App(Settings(workspace=tmp_path / "ws"), clock=ManualClock(START))
    incident_id = open_incident(
        first,
        facts=load_facts(ROOT / "examples" / "facts.yaml"),
        agreement=agreement,
        playbook=load_playbook("confidential-information-leak"),
        title="Licensed source code on a public repository",
        actor="rafael.costa@horizonte.example",
    )
    parses.clear()
    second = App(Settings(workspace=tmp_path / "ws"), clock=ManualClock(START))
    for app in (first, second, second):
        with app.transaction() as session:
            agreement_of(app, Repository(session).get_incident(incident_id))
    assert len(parses) == 2


def test_a_drill_rolled_back_leaves_no_agreement_behind_for_the_id_handed_out_again(tmp_path: Path):
    # The scheduler starts a drill inside its own transaction; when that rolls back, the drill's id is
    # handed out again, perhaps with another agreement: the first one must not answer for it.
    app = App(Settings(workspace=tmp_path / "ws"), clock=ManualClock(START))
    scenario = load_scenario("subcontractor-source-leak")
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    renewed = parse_agreement(
        {**agreement.model_dump(mode="json", by_alias=True, exclude_none=True), "id": "renewed-agreement"},
        "renewed.yaml",
    )
    options: dict[str, Any] = {"speed": 1.0, "mode": "real", "simulate": False, "actor": "facilitator"}
    with pytest.raises(RuntimeError), app.transaction() as session:
        first = start_drill(app, scenario, agreement, session=session, **options)
        raise RuntimeError("the occurrence could not be marked fired")
    second = start_drill(app, scenario, renewed, **options)

    assert second == first
    with app.transaction() as session:
        assert agreement_of(app, Repository(session).get_incident(second)).id == "renewed-agreement"

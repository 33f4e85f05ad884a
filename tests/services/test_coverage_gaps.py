"""The audit log records the jurisdictions whose obligations are unknown, when an incident opens and
when its facts change (services run without Prefect, as in test_service.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.deadlines.models import parse_facts
from breachops.playbooks import load_playbook
from breachops.services.facts import change_facts
from breachops.services.incidents import open_incident
from breachops.store import verify
from breachops.store.models import AuditEvent

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(tmp_path: Path) -> App:
    url = f"sqlite:///{tmp_path / 'db' / 'breachops.db'}"
    return App(
        Settings(workspace=tmp_path / "ws", database_url=url),
        clock=ManualClock(datetime(2026, 11, 24, tzinfo=UTC)),
    )


def gap_events(app: App, incident: str) -> list[dict]:
    with app.transaction() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == incident, AuditEvent.kind == "coverage.gap")
        )
        return [json.loads(r.payload) for r in rows]


def test_opening_an_incident_in_american_samoa_records_the_gap_and_a_facts_change_records_it_again(app):
    facts = parse_facts(
        {"aware_at": "2026-11-23T10:00:00-11:00", "jurisdictions": [{"code": "US-AS", "affected": 12}]}
    )
    incident = open_incident(
        app,
        facts=facts,
        agreement=load_agreement(ROOT / "examples" / "agreement.yaml"),
        playbook=load_playbook("confidential-information-leak"),
        title="Customer file on a public share",
        actor="rafael.costa@horizonte.example",
    )
    assert [e["jurisdictions"] for e in gap_events(app, incident)] == [["US-AS"]]

    result = change_facts(
        app,
        incident,
        {"jurisdictions": "US-AS=12,AQ=1"},
        source="cli",
        actor="rafael.costa@horizonte.example",
    )
    assert result.gaps == ("US-AS", "AQ")
    assert [e["jurisdictions"] for e in gap_events(app, incident)] == [["US-AS"], ["US-AS", "AQ"]]
    with app.transaction() as session:
        assert verify(session, incident).ok


def test_an_incident_whose_jurisdictions_are_all_known_records_no_gap(app):
    facts = parse_facts({"aware_at": "2026-11-23T10:00:00+01:00", "jurisdictions": ["DE"]})
    incident = open_incident(
        app,
        facts=facts,
        agreement=load_agreement(ROOT / "examples" / "agreement.yaml"),
        playbook=load_playbook("confidential-information-leak"),
        title="Roadmap on a personal drive",
        actor="rafael.costa@horizonte.example",
    )
    assert gap_events(app, incident) == []

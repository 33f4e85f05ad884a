"""Re-assessing open incidents when the rule catalogue changes: a plain service, tested without Prefect.

The worked example: the example incident became aware at 2026-11-24T16:30-03:00 = 19:30 UTC. A workspace
rule for Germany (DE has 1,200 affected people, personal data) with a 72-hour window is due
2026-11-27T19:30Z; edited to 24 hours it is due 2026-11-25T19:30Z (hour windows are elapsed time).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.deadlines.models import load_facts
from breachops.playbooks import load_playbook
from breachops.services.catalogue_changes import CatalogueWatch, reassess_open_incidents
from breachops.services.incidents import close_incident, open_incident
from breachops.store import AuditEvent, Message, Repository
from tests.store.conftest import db_url, postgres_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
RULE = """\
- id: de-test-authority
  jurisdiction: DE
  instrument: Test Act
  article: s 1
  title: Notify the test authority
  audience: regulator
  recipient: test authority
  clock: aware
  window: {{hours: {hours}}}
  applies_when: {{data_categories_any: [personal]}}
  source: https://example.org/test-act
  reviewed: 2026-12-01
"""
# Each party's incident lead, legal and DPO contacts in examples/agreement.yaml.
OWNERS = {
    "jana.weber@nordlicht.example",
    "felix.braun@nordlicht.example",
    "dpo@nordlicht.example",
    "rafael.costa@horizonte.example",
    "marina.alves@horizonte.example",
    "encarregado@horizonte.example",
}


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "my-rules.yaml"
    path.write_text(RULE.format(hours=72), encoding="utf-8")
    return path


@pytest.fixture
def app(db_url: str, tmp_path: Path, rules_file: Path) -> App:  # noqa: F811
    settings = Settings(workspace=tmp_path / "ws", database_url=db_url, rule_files=(rules_file,))
    return App(settings, clock=ManualClock(START))


def _open(app: App) -> str:
    return open_incident(
        app,
        facts=load_facts(ROOT / "examples" / "facts.yaml"),
        agreement=load_agreement(ROOT / "examples" / "agreement.yaml"),
        playbook=load_playbook("confidential-information-leak"),
        title="Licensed source code on a public repository",
        actor="rafael.costa@horizonte.example",
    )


def _due(app: App, incident_id: str, rule_id: str) -> list[datetime | None]:
    with app.transaction() as session:
        return [o.due for o in Repository(session).obligations(incident_id) if o.rule_id == rule_id]


def _events(app: App, incident_id: str, kind: str) -> list[dict[str, Any]]:
    """The payloads of the incident's audit events of ``kind``."""
    with app.transaction() as session:
        query = select(AuditEvent).where(AuditEvent.incident_id == incident_id, AuditEvent.kind == kind)
        return [json.loads(e.payload) for e in session.scalars(query)]


def _messages(app: App, kind: str) -> list[Message]:
    with app.transaction() as session:
        found = list(session.scalars(select(Message).where(Message.kind == kind)))
        session.expunge_all()
        return found


def test_an_edited_workspace_rule_moves_the_obligation_records_it_and_tells_the_owners_once(
    app: App, rules_file: Path
) -> None:
    incident_id = _open(app)
    assert _due(app, incident_id, "de-test-authority") == [datetime(2026, 11, 27, 19, 30, tzinfo=UTC)]
    baseline = reassess_open_incidents(app)  # the first run records the catalogue; nothing moved
    assert baseline.incidents == ()
    assert _events(app, incident_id, "catalogue.changed") == []

    rules_file.write_text(RULE.format(hours=24), encoding="utf-8")
    app.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    change = reassess_open_incidents(app)

    assert change.catalogue == {"rule:de-test-authority": "changed"}
    assert [c.incident_id for c in change.incidents] == [incident_id]
    assert _due(app, incident_id, "de-test-authority") == [datetime(2026, 11, 25, 19, 30, tzinfo=UTC)]
    (event,) = _events(app, incident_id, "catalogue.changed")
    assert event["rules"] == ["de-test-authority"]
    assert event["catalogue"] == {"de-test-authority": "changed"}
    (moved,) = event["obligations"]
    assert moved["change"] == "due changed"
    assert moved["old_due"].startswith("2026-11-27T19:30") and moved["new_due"].startswith("2026-11-25T19:30")
    messages = _messages(app, "catalogue_changed")
    assert {r for m in messages for r in m.recipients} == OWNERS
    assert len(messages) == len(OWNERS)  # one per owner
    assert all(m.incident_id == incident_id for m in messages)
    assert "de-test-authority" in messages[0].body_text and "due changed" in messages[0].body_text

    again = reassess_open_incidents(app)
    assert again.unchanged and again.incidents == ()
    assert len(_events(app, incident_id, "catalogue.changed")) == 1
    assert len(_messages(app, "catalogue_changed")) == len(OWNERS)


def test_a_removed_rule_withdraws_its_obligation_and_a_closed_incident_is_left_alone(
    app: App, rules_file: Path
) -> None:
    incident_id = _open(app)
    closed_id = _open(app)
    close_incident(
        app,
        closed_id,
        reason="duplicate of the first",
        actor="rafael.costa@horizonte.example",
        accept_pending=True,
    )
    reassess_open_incidents(app)
    rules_file.write_text("[]\n", encoding="utf-8")

    change = reassess_open_incidents(app)

    assert change.catalogue == {"rule:de-test-authority": "removed"}
    assert [c.incident_id for c in change.incidents] == [incident_id]
    assert _due(app, incident_id, "de-test-authority") == []
    (event,) = _events(app, incident_id, "catalogue.changed")
    assert [o["change"] for o in event["obligations"]] == ["withdrawn"]
    assert _events(app, closed_id, "catalogue.changed") == []
    assert _due(app, closed_id, "de-test-authority") == [datetime(2026, 11, 27, 19, 30, tzinfo=UTC)]


def test_the_watch_keeps_the_catalogue_in_use_when_a_rule_file_is_broken_and_takes_the_fixed_one(
    app: App, rules_file: Path
) -> None:
    incident_id = _open(app)
    watch = CatalogueWatch(app)
    assert watch.check() is not None  # start-up: the catalogue is recorded
    assert watch.check() is None  # no file changed: nothing read

    rules_file.write_text(RULE.format(hours=-555), encoding="utf-8")  # a size of its own: a new stamp
    assert watch.check() is None
    assert app.catalogue.get("de-test-authority") is not None
    assert _due(app, incident_id, "de-test-authority") == [datetime(2026, 11, 27, 19, 30, tzinfo=UTC)]
    assert _events(app, incident_id, "catalogue.changed") == []

    rules_file.write_text(RULE.format(hours=24), encoding="utf-8")
    change = watch.check()
    assert change is not None and [c.incident_id for c in change.incidents] == [incident_id]
    assert _due(app, incident_id, "de-test-authority") == [datetime(2026, 11, 25, 19, 30, tzinfo=UTC)]

"""An incident's plan revision moves with every write to its steps or obligations, and the reminder
planner reads again the rows of only the incidents whose revision moved."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from breachops.bootstrap import App
from breachops.notifications.planner import ReminderPlanner
from breachops.services.facts import change_facts
from breachops.services.obligations import record_obligation
from breachops.store import Repository
from breachops.store.models import Incident
from breachops.store.reminder_inputs import reminder_inputs

from .conftest import START, open_example

LEAD = "rafael.costa@horizonte.example"
PACKAGE = Path(__file__).resolve().parents[2] / "breachops"


def revision(app: App, incident: str) -> int:
    with app.transaction() as session:
        return int(session.scalar(select(Incident.plan_rev).where(Incident.id == incident)) or 0)


def test_every_kind_of_write_to_steps_or_obligations_raises_the_revision(app, clock):
    incident = open_example(app)
    seen = [revision(app, incident)]
    with app.transaction() as session:  # a step's status, as the flow and `step done` write it
        repo = Repository(session)
        repo.set_step_status(repo.get_incident(incident), "freeze-access", "done", LEAD, START)
    seen.append(revision(app, incident))
    clock.advance(timedelta(hours=1))  # facts change: obligations and step due times recomputed
    change_facts(app, incident, {"risk": "high"}, source="cli", actor=LEAD)
    seen.append(revision(app, incident))
    record_obligation(app, incident, "eu-gdpr-art33-authority/notification", "met", by=LEAD)
    seen.append(revision(app, incident))
    assert seen == sorted(set(seen)), seen  # each one strictly higher than the last
    with app.transaction() as session:  # a write elsewhere in the incident's record: no move
        Repository(session).get_incident(incident).title = "Renamed"
    assert revision(app, incident) == seen[-1]


def test_the_revision_is_raised_in_sql_so_another_writers_raise_is_kept(app):
    # Two serves or a serve and a CLI may write one incident at once: each adds one to what the
    # database holds, never writes back the value it loaded.
    incident = open_example(app)
    before = revision(app, incident)
    with app.transaction() as session:
        repo = Repository(session)
        loaded = repo.get_incident(incident)  # holds plan_rev == before
        elsewhere = update(Incident).where(Incident.id == incident).values(plan_rev=Incident.plan_rev + 5)
        session.execute(elsewhere.execution_options(synchronize_session=False))
        repo.set_step_status(loaded, "freeze-access", "done", LEAD, START)
    assert revision(app, incident) == before + 6


def test_the_planner_reads_again_only_incidents_whose_revision_moved(app):
    incidents = [open_example(app) for _ in range(3)]
    planner = ReminderPlanner(app)
    first = planner.reminders()
    known = {i: revision(app, i) for i in incidents}
    changed = incidents[1]
    with app.transaction() as session:
        repo = Repository(session)
        repo.set_step_status(repo.get_incident(changed), "freeze-access", "done", LEAD, START)
    with app.transaction() as session:
        rows = reminder_inputs(session, known=known)
    assert {r.incident_id for r in rows.steps} == {r.incident_id for r in rows.obligations} == {changed}
    after = planner.reminders()
    assert after[incidents[0]] is first[incidents[0]]  # kept, not derived again
    targets = {r.target for r in after[changed]}
    assert "step:freeze-access" in {r.target for r in first[changed]}
    assert "step:freeze-access" not in targets  # done: its reminders are gone


def test_steps_and_obligations_are_written_only_through_the_orm():
    # A bulk UPDATE, INSERT or DELETE in SQL would pass the listener by, and the planner would keep
    # reminding of a deadline that moved.
    bulk = re.compile(r"\b(update|insert|delete)\(\s*(StepRow|ObligationRow)\b")
    found = [
        f"{path.relative_to(PACKAGE)}: {m.group(0)}"
        for path in PACKAGE.rglob("*.py")
        for m in bulk.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []

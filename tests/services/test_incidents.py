"""Incident operations on each application database (SQLite by default, PostgreSQL for scale-out),
with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.deadlines.models import load_facts
from breachops.errors import InputError
from breachops.playbooks import load_playbook
from breachops.services.confirm import may_confirm
from breachops.services.facts import change_facts
from breachops.services.incidents import open_incident
from breachops.services.steps import complete_step, progress
from breachops.store import Repository, verify
from tests.store.conftest import db_url, postgres_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


@pytest.fixture
def app(db_url: str, tmp_path: Path) -> App:  # noqa: F811
    return App(Settings(workspace=tmp_path / "ws", database_url=db_url), clock=ManualClock(START))


def open_example(app: App) -> str:
    return open_incident(
        app,
        facts=load_facts(ROOT / "examples" / "facts.yaml"),
        agreement=load_agreement(ROOT / "examples" / "agreement.yaml"),
        playbook=load_playbook("confidential-information-leak"),
        title="Licensed source code on a public repository",
        actor="rafael.costa@horizonte.example",
    )


def test_an_incident_progresses_as_people_answer_and_facts_set_by_gates_recompute_obligations(app):
    incident = open_example(app)
    first = progress(app, incident)
    assert not first.runnable
    assert {s.id for s in first.waiting} == {"freeze-access", "preserve-evidence", "alert-counterparty-lead"}

    app.clock.advance(timedelta(hours=1))
    for step, who, answer in [
        ("freeze-access", "tiago.rocha@horizonte.example", {}),
        (
            "preserve-evidence",
            "lars.hoffmann@nordlicht.example",
            {"evidence_links": "https://e.example/1", "legal_hold": "yes"},
        ),
        ("alert-counterparty-lead", "rafael.costa@horizonte.example", {}),
        ("scope-disclosure", "tiago.rocha@horizonte.example", None),
    ]:
        if answer is None:
            spec = load_playbook("confidential-information-leak").step(step).gate.fields
            answer = {name: ("DE=1200, BR=5400, FR" if f.sets == "jurisdictions" else "https://e.example/2")
                      if f.type in ("text", "url", "urls") else ["personal", "source_code"] if f.type == "choice" else "yes"
                      for name, f in spec.items() if f.required}  # fmt: skip
        complete_step(app, incident, step, answer, by=who)

    with app.transaction() as session:
        repo = Repository(session)
        facts = repo.get_incident(incident).facts
        steps = {r.step_id: r for r in repo.steps(incident)}
        assert verify(session, incident).ok
    assert {"code": "FR"} in facts["jurisdictions"]  # present, count not yet known
    assert steps["freeze-access"].completed_at == START + timedelta(hours=1)
    assert steps["freeze-access"].completed_by == "tiago.rocha@horizonte.example"
    assert "assess-notifiability" in {s.id for s in progress(app, incident).waiting}


def test_a_fact_change_moves_the_due_times_of_steps_tied_to_obligations(app):
    incident = open_example(app)
    with app.transaction() as session:
        before = {r.step_id: r.due for r in Repository(session).steps(incident)}
    result = change_facts(
        app,
        incident,
        {"aware_at": "2026-11-24T10:00:00-03:00"},
        source="cli",
        actor="marina.alves@horizonte.example",
    )
    assert result.obligations.due_changed
    with app.transaction() as session:
        after = {r.step_id: r.due for r in Repository(session).steps(incident)}
    # notify-regulators is tied to the earliest regulator obligation (GDPR's 72 elapsed hours from
    # awareness): awareness 6.5 h earlier moves it by exactly that.
    assert after["notify-regulators"] == before["notify-regulators"] - timedelta(hours=6, minutes=30)
    # the counterparty notice follows the subcontractor's clause, counted from discovery: unchanged.
    assert after["notify-counterparty"] == before["notify-counterparty"]
    assert after["freeze-access"] == before["freeze-access"]  # counted from opening, not awareness


def test_bad_input_leaves_the_database_exactly_as_it_was(app):
    incident = open_example(app)

    def snapshot():
        with app.transaction() as session:
            repo = Repository(session)
            return (
                repo.get_incident(incident).facts,
                [(r.step_id, r.status) for r in repo.steps(incident)],
                verify(session, incident).events,
            )

    before = snapshot()
    with pytest.raises(InputError, match="legal_hold"):
        complete_step(
            app, incident, "preserve-evidence", {"evidence_links": "https://e.example", "legal_hold": "maybe"},
            by="tiago.rocha@horizonte.example",
        )  # fmt: skip
    with pytest.raises(InputError, match="risk"):
        change_facts(app, incident, {"risk": "catastrophic"}, source="cli", actor="x")
    with pytest.raises(InputError, match="unknown incident"):
        complete_step(app, "INC-2026-4242", "freeze-access", {}, by="tiago.rocha@horizonte.example")
    assert snapshot() == before


def _table_counts(app: App) -> dict[str, int]:
    from sqlalchemy import text

    with app.transaction() as session:
        tables = ("incidents", "fact_events", "steps", "obligations", "audit_events", "messages")
        return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def test_a_refused_opening_leaves_every_table_as_it_was(app, tmp_path):
    open_example(app)
    before = _table_counts(app)
    for title in ("ctl\x01x", "two\nlines", "\u202eevil", "x" * 201):
        with pytest.raises(InputError, match="--title"):
            open_incident(
                app, facts=load_facts(ROOT / "examples" / "facts.yaml"),
                agreement=load_agreement(ROOT / "examples" / "agreement.yaml"),
                playbook=load_playbook("confidential-information-leak"), title=title, actor="x@y.example",
            )  # fmt: skip
    templates = app.workspace / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "incident_opened.txt.j2").write_text("{{ incident.nope.deeper }}")
    with pytest.raises(InputError, match=r"incident_opened\.txt\.j2"):
        open_example(app)
    assert _table_counts(app) == before


def test_who_may_confirm_a_step_is_one_rule():
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    playbook = load_playbook("confidential-information-leak")
    freeze = playbook.step("freeze-access")  # security @ receiving
    lessons = playbook.step("lessons-learned")  # incident_lead @ both
    assert may_confirm(agreement, freeze, "tiago.rocha@horizonte.example") == "owner"
    assert may_confirm(agreement, freeze, "Rafael.Costa@horizonte.example") == "incident_lead"
    assert may_confirm(agreement, lessons, "jana.weber@nordlicht.example") == "owner"
    assert may_confirm(agreement, freeze, "felix.braun@nordlicht.example", "security") == "on_behalf_of"
    with pytest.raises(InputError, match=r"tiago\.rocha@horizonte\.example") as refused:
        may_confirm(agreement, freeze, "lars.hoffmann@nordlicht.example")
    assert "--on-behalf-of security" in str(refused.value)
    with pytest.raises(InputError, match="owned by security"):
        may_confirm(agreement, freeze, "felix.braun@nordlicht.example", "legal")
    with pytest.raises(InputError, match="not a contact"):
        may_confirm(agreement, freeze, "mallory@elsewhere.example", "security")


def test_an_answer_on_behalf_of_a_role_is_recorded_as_such(app):
    incident = open_example(app)
    complete_step(
        app, incident, "freeze-access", {}, by="marina.alves@horizonte.example", on_behalf_of="security"
    )
    with app.transaction() as session:
        row = Repository(session).get_step(Repository(session).get_incident(incident), "freeze-access")
        assert row.answer["on_behalf_of"] == "security"
        assert row.completed_by == "marina.alves@horizonte.example"

"""Staged disclosure: what a party keeps internal is withheld from the other party's people in the
console, and every view of an incident by the other party is in the audit log."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from breachops.errors import InputError
from breachops.services.disclosure import change_disclosure
from breachops.services.facts import change_facts
from breachops.services.steps import complete_step, mark_waiting
from breachops.store.models import AuditEvent, DisclosureMark
from tests.web.conftest import DPO_DE, LEAD_BR, SECURITY_BR, SECURITY_DE, open_example, sign_in


def _section(html: str, heading_id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{heading_id}">(.*?)</section>', html, re.S)
    assert found, heading_id
    return found.group(1)


def _events(app, incident: str, kind: str) -> list[AuditEvent]:
    with app.transaction() as session:
        rows = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.incident_id == incident, AuditEvent.kind == kind)
            )
        )
        session.expunge_all()
    return rows


def _marks(app) -> list[tuple[str, str, str]]:
    with app.transaction() as session:
        return [(m.item_kind, m.item, m.party) for m in session.scalars(select(DisclosureMark))]


def test_a_fact_kept_internal_is_withheld_from_the_other_party_and_shown_to_its_own(app, client):
    incident = open_example(app)  # opened by the licensee (receiving party)
    change = change_disclosure(app, incident, facts=["jurisdictions"], steps=[], by=LEAD_BR)
    assert change.party == "receiving" and change.facts == ["jurisdictions"]
    change_facts(app, incident, {"jurisdictions": "BR=5555"}, source="cli", actor=LEAD_BR,
                 merge_jurisdictions=True)  # fmt: skip

    sign_in(client, app, DPO_DE)  # the licensor
    page = client.get(f"/incidents/{incident}").text
    facts, trail = _section(page, "facts-h"), _section(page, "audit-h")
    assert "withheld (internal to" in facts and "5555" not in facts and "BR=" not in facts
    assert "data_categories" in facts and "source_code" in facts  # what is not marked stays shown
    assert "5555" not in trail and "5400" not in trail  # the facts' changes in the audit trail too
    assert "disclosure.internal" in trail  # that something is kept internal is no secret

    client.cookies.clear()
    sign_in(client, app, SECURITY_BR)  # the licensee's own people see it
    own = _section(client.get(f"/incidents/{incident}").text, "facts-h")
    assert "BR=5555" in own and "withheld" not in own


def test_a_step_kept_internal_has_its_answer_and_note_withheld_from_the_other_party(app, client):
    incident = open_example(app)
    change_disclosure(app, incident, facts=[], steps=["freeze-access"], by=SECURITY_BR)
    mark_waiting(app, incident, ["freeze-access"])
    complete_step(app, incident, "freeze-access", {"confirmed": True}, by=SECURITY_BR,
                  note="repository made private at 21:05")  # fmt: skip

    sign_in(client, app, SECURITY_DE)
    step = client.get(f"/incidents/{incident}/steps/freeze-access").text
    assert "Done by" in step and "repository made private" not in step and "withheld" in step
    trail = _section(client.get(f"/incidents/{incident}").text, "audit-h")
    assert "step.completed" in trail and "repository made private" not in trail

    client.cookies.clear()
    sign_in(client, app, LEAD_BR)
    assert "repository made private" in client.get(f"/incidents/{incident}/steps/freeze-access").text


def test_every_view_by_the_other_party_is_in_the_audit_log_and_the_openers_party_is_not(app, client):
    incident = open_example(app)
    sign_in(client, app, DPO_DE)
    assert client.get(f"/incidents/{incident}").status_code == 200
    assert client.get(f"/incidents/{incident}/steps/freeze-access").status_code == 200
    client.cookies.clear()
    sign_in(client, app, SECURITY_BR)  # the opener's party
    assert client.get(f"/incidents/{incident}").status_code == 200
    assert client.app.state.views.flush()

    views = _events(app, incident, "incident.viewed")
    assert [(e.actor, json.loads(e.payload)["party"], json.loads(e.payload)["page"]) for e in views] == [
        (DPO_DE, "disclosing", "incident"),
        (DPO_DE, "disclosing", "step:freeze-access"),
    ]


def test_marks_are_refused_with_nothing_stored_for_strangers_unknown_names_and_the_other_party(app):
    incident = open_example(app)
    with pytest.raises(InputError, match="not a contact"):
        change_disclosure(app, incident, facts=["risk"], steps=[], by="someone@elsewhere.example")
    with pytest.raises(InputError, match="not a fact") as unknown:
        change_disclosure(app, incident, facts=["jurisdiction"], steps=[], by=LEAD_BR)
    assert "jurisdictions" in (unknown.value.hint or "")
    with pytest.raises(InputError, match="not a step"):
        change_disclosure(app, incident, facts=["risk"], steps=["freeze"], by=LEAD_BR)
    assert _marks(app) == []  # the fact named beside the unknown step was not marked either

    change_disclosure(app, incident, facts=["risk"], steps=[], by=LEAD_BR)
    with pytest.raises(InputError, match="kept internal by another party: risk"):
        change_disclosure(app, incident, facts=["risk"], steps=[], by=DPO_DE, share=True)
    with pytest.raises(InputError, match="kept internal by another party: risk"):
        change_disclosure(app, incident, facts=["risk"], steps=[], by=DPO_DE)
    assert _marks(app) == [("fact", "risk", "receiving")]

    lifted = change_disclosure(app, incident, facts=["risk"], steps=[], by=SECURITY_BR, share=True)
    assert lifted.facts == ["risk"] and _marks(app) == []
    kinds = [json.loads(e.payload) for e in _events(app, incident, "disclosure.internal")] + [
        json.loads(e.payload) for e in _events(app, incident, "disclosure.shared")
    ]
    assert kinds == [
        {"kind": "fact", "items": ["risk"], "party": "receiving"},
        {"kind": "fact", "items": ["risk"], "party": "receiving"},
    ]

"""The console's behaviour: sign-in, the board, a step answered from the link in its message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from breachops.services.steps import mark_waiting
from breachops.store import Repository
from breachops.store.models import AuditEvent
from tests.web.conftest import (
    BASE,
    DPO_DE,
    LEAD_BR,
    SECURITY_BR,
    csrf_of,
    link_in,
    messages,
    open_example,
    sign_in,
)


def test_a_signed_in_contact_sees_the_board_with_the_next_obligation_in_their_own_zone(app, client):
    incident = open_example(app)
    sign_in(client, app, DPO_DE)
    board = client.get("/")
    assert board.status_code == 200
    assert incident in board.text
    # The licensee tells the licensor within 48 h of 2026-11-24 16:30 -03:00 = 2026-11-26 19:30 UTC;
    # nothing is due earlier than the 24 h contract flow-down clock (discovered 03:40 UTC + 24 h),
    # and the Berlin reader sees CET.
    assert "CET" in board.text and "BRT" not in board.text
    assert "Europe/Berlin" in board.text


def test_the_step_assigned_message_links_to_the_step_and_answering_it_is_step_done(app, client, woken):
    incident = open_example(app)
    with app.transaction() as session:
        Repository(session).attach_flow_run(
            Repository(session).get_incident(incident), "run-1", "t", app.clock.now()
        )
    mark_waiting(app, incident, ["freeze-access"])
    mail = messages(app, "step_assigned", SECURITY_BR)[-1]
    link = link_in(mail)
    assert link.startswith(f"{BASE}/act/")
    assert link in mail.body_html  # the HTML part carries the same link

    page = client.get(link.removeprefix(BASE))
    assert page.status_code == 200 and "What is asked" in page.text
    assert page.url.path == f"/incidents/{incident}/steps/freeze-access"
    assert "America/Sao_Paulo" in page.text and "-03" in page.text

    app.clock.advance(timedelta(minutes=10))
    done = client.post(page.url.path, data={"csrf": csrf_of(page.text), "f_confirmed": "yes",
                                            "f_note": "repository made private"})  # fmt: skip
    assert done.status_code == 200 and "Done by tiago.rocha@horizonte.example" in done.text
    with app.transaction() as session:
        row = Repository(session).get_step(Repository(session).get_incident(incident), "freeze-access")
        assert (row.status, row.completed_by, row.answer["source"]) == ("done", SECURITY_BR, "web")
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.incident_id == incident, AuditEvent.kind == "step.completed")
        ).one()
        assert event.actor == SECURITY_BR and '"source":"web"' in event.payload.replace(" ", "")
    assert woken == [("run-1", "freeze-access", SECURITY_BR)]


def test_a_gate_answer_that_fails_its_check_is_shown_again_with_the_reason_and_nothing_is_stored(app, client):
    incident = open_example(app)
    mark_waiting(app, incident, ["preserve-evidence"])
    link = link_in(messages(app, "step_assigned", SECURITY_BR)[-1])
    page = client.get(link.removeprefix(BASE))
    bad = client.post(page.url.path, data={"csrf": csrf_of(page.text), "f_evidence_links": "not a url",
                                           "f_legal_hold": "yes"})  # fmt: skip
    assert bad.status_code == 422
    assert "is not an http(s) URL" in bad.text and "not a url" in bad.text
    with app.transaction() as session:
        row = Repository(session).get_step(Repository(session).get_incident(incident), "preserve-evidence")
        assert row.status == "waiting"


def test_the_incident_page_shows_phases_timeline_facts_messages_and_a_verified_audit_trail(app, client):
    incident = open_example(app)
    mark_waiting(app, incident, ["freeze-access"])  # its message holds Tiago's own link
    sign_in(client, app, LEAD_BR)
    page = client.get(f"/incidents/{incident}")
    assert page.status_code == 200
    for part in ("Containment", "Investigation", "<svg", "source_code", "incident_opened", "Chain verified"):
        assert part in page.text, part
    assert "step_assigned" in page.text and "/act/" not in page.text  # subjects and states, no bodies


def test_a_drill_page_carries_the_drill_banner(app, client):
    incident = open_example(app, title="Tabletop", drill=True)
    sign_in(client, app, LEAD_BR)
    assert "DRILL" in client.get(f"/incidents/{incident}").text
    assert "DRILL" in client.get("/").text


def test_the_workspace_agreements_contacts_can_sign_in_before_any_incident(app, client):
    import shutil

    from tests.web.conftest import ROOT

    app.workspace.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "examples" / "agreement.yaml", app.workspace / "agreement.yaml")
    sign_in(client, app, DPO_DE)
    assert "No open incident or drill of your agreements." in client.get("/").text


def test_bind_address_and_log_redaction():
    import pytest

    from breachops.errors import InputError
    from breachops.web.app import bind_address, redact

    assert bind_address({}) == ("127.0.0.1", 0)
    assert bind_address({"BREACHOPS_WEB_BIND": "0.0.0.0:8080"}) == ("0.0.0.0", 8080)
    assert bind_address({"BREACHOPS_WEB_BIND": "[::1]:9000"}) == ("::1", 9000)
    with pytest.raises(InputError, match="BREACHOPS_WEB_BIND"):
        bind_address({"BREACHOPS_WEB_BIND": "8080"})
    assert redact("/sign-in/abc.def") == "/sign-in/…"
    assert redact("/act/xyz") == "/act/…"
    assert redact("/incidents/INC-2026-0001") == "/incidents/INC-2026-0001"


def test_pages_load_while_a_writer_holds_the_database(app, client):
    """Pages read without the write lock (SQLite WAL): a long write elsewhere does not stall them."""
    import time

    incident = open_example(app)
    sign_in(client, app, LEAD_BR)
    with app.transaction() as session:
        Repository(session).get_incident(incident)  # BEGIN IMMEDIATE: the write lock is held from here
        started = time.monotonic()
        board = client.get("/")
        page = client.get(f"/incidents/{incident}")
        elapsed = time.monotonic() - started
    assert board.status_code == page.status_code == 200
    assert elapsed < 5  # far below the busy timeout a writer would wait

"""What the console must never do: run injected markup, open one incident with another's link, take an
expired or replayed link, accept a form from another site, leak its secret or a session token, or
show anyone an incident of an agreement they are not in."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from breachops.notifications.outbox import queue_due_reminders
from breachops.services.steps import complete_step, mark_waiting
from breachops.store import Repository
from breachops.store.models import AuditEvent, Message, WebToken
from breachops.web.app import create_app
from breachops.web.auth import SESSION_COOKIE
from breachops.web.secret import SECRET_FILE
from tests.web.conftest import (
    BASE,
    DPO_DE,
    LEAD_BR,
    SECURITY_BR,
    SECURITY_DE,
    csrf_of,
    link_in,
    messages,
    open_example,
    sign_in,
)

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _step(app, incident, step_id):
    with app.transaction() as session:
        repo = Repository(session)
        row = repo.get_step(repo.get_incident(incident), step_id)
        session.expunge(row)
        return row


def test_markup_in_titles_facts_and_answers_is_shown_as_text(app, client):
    incident = open_example(app, title=f"Leak {EVIL}")
    with app.transaction() as session:  # free text in the stored facts (older records, other writers)
        record = Repository(session).get_incident(incident)
        record.facts = {**record.facts, "summary": EVIL}
    complete_step(app, incident, "freeze-access", {"note": EVIL}, by=SECURITY_BR, source="cli")
    sign_in(client, app, LEAD_BR)
    pages = [client.get("/").text, client.get(f"/incidents/{incident}").text,
             client.get(f"/incidents/{incident}/steps/freeze-access").text]  # fmt: skip
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in pages[1]  # the title and the summary
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[2]  # the answer's note


def test_a_step_link_opens_its_own_incident_only(app, client):
    first = open_example(app)
    second = open_example(app, title="Another leak")
    mark_waiting(app, first, ["freeze-access"])
    link = link_in(messages(app, "step_assigned", SECURITY_BR)[-1]).removeprefix(BASE)
    # The token names its incident: editing that part breaks the signature.
    body, _, signature = link.removeprefix("/act/").partition(".")
    content = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    content[0] = second
    forged = base64.urlsafe_b64encode(json.dumps(content, separators=(",", ":")).encode()).rstrip(b"=")
    refused = client.get(f"/act/{forged.decode()}.{signature}")
    assert refused.status_code == 410 and "not valid" in refused.text
    # The session the genuine link opens reaches that incident, not the other one of the same person.
    assert client.get(link).url.path == f"/incidents/{first}/steps/freeze-access"
    assert client.get(f"/incidents/{first}").status_code == 200
    assert client.get(f"/incidents/{second}").status_code == 404
    assert client.get(f"/incidents/{second}/steps/freeze-access").status_code == 404
    assert second not in client.get("/").text


def test_an_expired_step_link_is_refused(app, client):
    incident = open_example(app)
    mark_waiting(app, incident, ["freeze-access"])
    link = link_in(messages(app, "step_assigned", SECURITY_BR)[-1]).removeprefix(BASE)
    app.clock.advance(timedelta(days=14, minutes=1))
    refused = client.get(link)
    assert refused.status_code == 410 and "Mail me a sign-in link" in refused.text


def test_an_expired_sign_in_link_is_refused_and_a_fresh_one_offered(app, client):
    open_example(app)
    page = client.get("/sign-in")
    client.post("/sign-in", data={"csrf": csrf_of(page.text), "email": DPO_DE, "next": "/"})
    link = link_in(messages(app, "sign_in", DPO_DE)[-1]).removeprefix(BASE)
    landing = client.get(link)
    app.clock.advance(timedelta(minutes=15, seconds=1))
    late = client.post(link, data={"csrf": csrf_of(landing.text)}, follow_redirects=False)
    assert late.status_code == 410
    assert "expired, was already used" in late.text and 'action="/sign-in"' in late.text
    assert SESSION_COOKIE not in late.cookies
    assert client.get(link).status_code == 410


def test_a_sign_in_link_works_once(app, client):
    open_example(app)
    sign_in(client, app, DPO_DE)
    link = link_in(messages(app, "sign_in", DPO_DE)[-1]).removeprefix(BASE)
    other = TestClient(client.app, base_url=BASE)
    landing = other.get(link)
    assert landing.status_code == 410
    replay = other.post(link, data={"csrf": csrf_of(other.get("/sign-in").text)}, follow_redirects=False)
    assert replay.status_code == 410 and SESSION_COOKIE not in replay.cookies
    assert other.get("/", follow_redirects=False).status_code == 303  # still signed out


def test_asking_for_a_link_answers_the_same_for_unknown_addresses_and_mails_nobody(app, client):
    open_example(app)
    page = client.get("/sign-in")
    known = client.post("/sign-in", data={"csrf": csrf_of(page.text), "email": DPO_DE})
    unknown = client.post("/sign-in", data={"csrf": csrf_of(page.text), "email": "eve@attacker.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert [m.recipients for m in messages(app, "sign_in")] == [[DPO_DE]]


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(app, client):
    incident = open_example(app)
    mark_waiting(app, incident, ["freeze-access"])
    page = client.get(link_in(messages(app, "step_assigned", SECURITY_BR)[-1]).removeprefix(BASE))
    path = page.url.path
    assert client.post(path, data={"f_confirmed": "yes"}).status_code == 403
    # A token minted for another browser's cookie does not fit this one either.
    stranger = TestClient(client.app, base_url=BASE)
    foreign = csrf_of(stranger.get("/sign-in").text)
    assert client.post(path, data={"csrf": foreign, "f_confirmed": "yes"}).status_code == 403
    assert client.post("/sign-in", data={"email": DPO_DE}).status_code == 403
    assert _step(app, incident, "freeze-access").status == "waiting"
    assert messages(app, "sign_in") == []


def test_after_sign_in_only_local_paths_are_followed(app, client):
    open_example(app)
    page = client.get("/sign-in")
    client.post("/sign-in", data={"csrf": csrf_of(page.text), "email": DPO_DE, "next": "//evil.example/x"})
    link = link_in(messages(app, "sign_in", DPO_DE)[-1]).removeprefix(BASE)
    landing = client.get(link)
    done = client.post(link.split("?")[0], data={"csrf": csrf_of(landing.text), "next": "https://evil.example"},
                       follow_redirects=False)  # fmt: skip
    assert done.headers["location"] == "/"


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(app):
    open_example(app)
    secure = TestClient(
        create_app(app, "https://console.example", wake=None), base_url="https://console.example"
    )
    page = secure.get("/sign-in")
    secure.post("/sign-in", data={"csrf": csrf_of(page.text), "email": DPO_DE})
    link = link_in(messages(app, "sign_in", DPO_DE)[-1])
    assert link.startswith("https://console.example/sign-in/")
    path = link.removeprefix("https://console.example")
    done = secure.post(path, data={"csrf": csrf_of(secure.get(path).text)}, follow_redirects=False)
    cookie = next(h for h in done.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie


def test_a_person_sees_only_the_incidents_of_their_agreements(app, client):
    ours = open_example(app)
    # An agreement between the licensor and another licensee: the São Paulo lead is not in it.
    other_receiver = {
        "name": "Outra Empresa S.A.",
        "escalation": ["incident_lead"],
        "contacts": {"incident_lead": {"name": "Ana Souza", "email": "ana@outra.example",
                                       "timezone": "America/Sao_Paulo"}},
    }  # fmt: skip
    theirs = open_example(app, title="Other licensee", id="tta-2026-002", parties={
        **json.loads(json.dumps(_example_parties())), "receiving": other_receiver,
    }, notice_windows=[])  # fmt: skip
    sign_in(client, app, LEAD_BR)
    board = client.get("/").text
    assert ours in board and theirs not in board
    assert client.get(f"/incidents/{theirs}").status_code == 404
    assert client.get(f"/incidents/{theirs}/steps/freeze-access").status_code == 404
    # The licensor's people are in both agreements.
    licensor = TestClient(client.app, base_url=BASE)
    sign_in(licensor, app, DPO_DE)
    assert ours in licensor.get("/").text and theirs in licensor.get("/").text


def _example_parties():
    from breachops.config.agreements import load_agreement
    from tests.web.conftest import ROOT

    data = load_agreement(ROOT / "examples" / "agreement.yaml").model_dump(mode="json", by_alias=True)
    return {k: v for k, v in data["parties"].items() if k != "subcontractor"}


def test_secret_and_session_tokens_appear_in_no_log_audit_event_or_other_message(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    incident = open_example(app)
    mark_waiting(app, incident, ["freeze-access", "preserve-evidence"])
    sign_in(client, app, SECURITY_DE)
    session_token = client.cookies[SESSION_COOKIE]
    page = client.get(f"/incidents/{incident}/steps/preserve-evidence")
    client.post(page.url.path, data={"csrf": csrf_of(page.text), "f_evidence_links": "https://e.example/1",
                                     "f_legal_hold": "yes"})  # fmt: skip
    assert _step(app, incident, "preserve-evidence").status == "done"
    secret = (app.workspace / SECRET_FILE).read_bytes()
    sign_in_token = link_in(messages(app, "sign_in", SECURITY_DE)[-1]).rsplit("/", 1)[1].split("?")[0]
    secrets_ = {
        "secret hex": secret.hex(),
        "secret b64": base64.urlsafe_b64encode(secret).decode().rstrip("="),
        "session": session_token,
        "sign-in token": sign_in_token,
    }
    with app.transaction() as session:
        audit = "\n".join(e.payload + e.actor for e in session.scalars(select(AuditEvent)))
        bodies = [
            (m.kind, m.subject + m.body_text + (m.body_html or "")) for m in session.scalars(select(Message))
        ]
        stored = {t.token_hash for t in session.scalars(select(WebToken))}
    # Everything the application logged (httpx's lines are the test's browser, not the server).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    for name, value in secrets_.items():
        assert value not in logged, name
        assert value not in audit, name
        assert value not in stored, name  # only hashes are kept
    for kind, body in bodies:
        assert secrets_["secret hex"] not in body and secrets_["secret b64"] not in body
        assert session_token not in body
        if kind != "sign_in":
            assert sign_in_token not in body
    assert "/sign-in/…" in logged  # the request was logged, its token left out


def test_the_workspace_secret_is_private(app, client):
    mode = stat.S_IMODE(os.stat(app.workspace / SECRET_FILE).st_mode)
    assert mode == 0o600


def test_reminders_link_to_their_step_or_incident_and_carry_no_link_without_a_console(
    app, client, monkeypatch
):
    incident = open_example(app)
    # 7 h 30 min on: the steps due 2-4 h after opening are overdue, and the subcontractor's 24 h
    # flow-down notice (discovered 2026-11-24 03:40 UTC) is due within 10 min.
    app.clock.advance(timedelta(hours=7, minutes=30))
    queue_due_reminders(app)
    landed = set()
    for mail in [m for m in messages(app) if m.kind in ("reminder", "overdue")]:
        reader = TestClient(client.app, base_url=BASE)
        page = reader.get(link_in(mail).removeprefix(BASE))
        assert page.status_code == 200, mail.subject
        landed.add("step" if "/steps/" in page.url.path else "incident")
        assert page.url.path.startswith(f"/incidents/{incident}")
    assert landed == {"step", "incident"}
    monkeypatch.delenv("BREACHOPS_WEB_URL")
    other = open_example(app, title="No console")
    mark_waiting(app, other, ["freeze-access"])
    mail = next(m for m in messages(app, "step_assigned") if m.incident_id == other)
    assert "/act/" not in mail.body_text and "/act/" not in (mail.body_html or "")


@pytest.mark.parametrize(
    "path", ["/", "/incidents/INC-2026-0001", "/incidents/INC-2026-0001/steps/freeze-access"]
)
def test_pages_ask_for_sign_in_first(app, client, path):
    open_example(app)
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in?next=/")


def test_asking_again_and_again_mails_at_most_three_links_per_quarter_hour(app, client):
    open_example(app)
    page = client.get("/sign-in")
    for _ in range(5):
        answer = client.post("/sign-in", data={"csrf": csrf_of(page.text), "email": DPO_DE})
        assert "Check your mail" in answer.text
    assert len(messages(app, "sign_in", DPO_DE)) == 3
    app.clock.advance(timedelta(minutes=15, seconds=1))
    client.post("/sign-in", data={"csrf": csrf_of(page.text), "email": DPO_DE})
    assert len(messages(app, "sign_in", DPO_DE)) == 4


def test_expired_tokens_are_forgotten_a_day_later(app, client):
    open_example(app)
    sign_in(client, app, DPO_DE)  # one used sign-in link, one session
    app.clock.advance(timedelta(days=2))
    sign_in(client, app, LEAD_BR)
    with app.transaction() as session:
        kept = sorted((t.kind, t.email) for t in session.scalars(select(WebToken)))
    assert kept == [("session", LEAD_BR), ("sign_in", LEAD_BR)]

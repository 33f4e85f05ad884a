"""A workspace with the example incident, and the console in front of it (FastAPI's TestClient).

No Prefect: steps are marked waiting and answered through the same service the flow and the CLI use,
and the flow wake-up is a recorder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement, parse_agreement
from breachops.config.settings import Settings
from breachops.deadlines.models import load_facts
from breachops.playbooks import load_playbook
from breachops.services.incidents import open_incident
from breachops.store.models import Message
from breachops.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
BASE = "http://testserver"
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # 30 min after the example's aware_at
LEAD_BR = "rafael.costa@horizonte.example"  # São Paulo
SECURITY_BR = "tiago.rocha@horizonte.example"
SECURITY_DE = "lars.hoffmann@nordlicht.example"
DPO_DE = "dpo@nordlicht.example"  # Berlin
_LINK = re.compile(r"https?://[^\s\"<>]+/(?:act|sign-in)/[^\s\"<>]+")


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("BREACHOPS_WEB_URL", BASE)
    workspace = tmp_path / "ws"
    return App(
        Settings(workspace=workspace, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
        clock=ManualClock(START),
    )


@pytest.fixture
def woken() -> list[tuple[str, str, str]]:
    return []


@pytest.fixture
def client(app: App, woken: list[tuple[str, str, str]]) -> Iterator[TestClient]:
    web = create_app(app, BASE, wake=lambda _app, run, step, by: woken.append((run, step, by)))
    with TestClient(web, base_url=BASE) as test_client:
        yield test_client


def open_example(
    app: App,
    title: str = "Licensed source code on a public repository",
    *,
    drill: bool = False,
    **changes: Any,
) -> str:
    """The example incident; ``changes`` replace parts of the example agreement (e.g. its parties)."""
    agreement = load_agreement(ROOT / "examples" / "agreement.yaml")
    if changes:
        agreement = parse_agreement({**agreement.model_dump(mode="json", by_alias=True), **changes}, "test")
    return open_incident(
        app,
        facts=load_facts(ROOT / "examples" / "facts.yaml"),
        agreement=agreement,
        playbook=load_playbook("confidential-information-leak"),
        title=title,
        actor=LEAD_BR,
        drill=drill,
    )


def messages(app: App, kind: str | None = None, to: str | None = None) -> list[Message]:
    with app.transaction() as session:
        rows = list(session.scalars(select(Message).order_by(Message.id)))
        session.expunge_all()
    return [m for m in rows if (kind is None or m.kind == kind) and (to is None or to in m.recipients)]


def link_in(message: Message) -> str:
    found = _LINK.findall(message.body_text)
    assert found, message.body_text
    return found[0]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def sign_in(client: TestClient, app: App, email: str) -> None:
    """The whole sign-in: ask for a link, find it in the outbox, open it, press the button."""
    page = client.get("/sign-in")
    client.post("/sign-in", data={"csrf": csrf_of(page.text), "email": email, "next": "/"})
    link = link_in(messages(app, "sign_in", email)[-1])
    landing = client.get(link.removeprefix(BASE))
    assert landing.status_code == 200, landing.text
    done = client.post(link.removeprefix(BASE).split("?")[0], data={"csrf": csrf_of(landing.text), "next": "/"},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text

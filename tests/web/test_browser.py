"""The console in a real browser: Debian's Chromium, driven by Playwright, against the console served
by uvicorn in this process on a free loopback port. Sign in by the link found in the outbox, answer a
gate, see the step done and its audit event, and not the other party's internal facts. JavaScript is off for the whole walk: every page must work
without it. Screenshots of the board and the incident page are kept in ``test-artifacts/`` (or
``$BREACHOPS_TEST_ARTIFACTS``) for review."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from breachops.bootstrap import App
from breachops.services.disclosure import change_disclosure
from breachops.services.steps import mark_waiting
from breachops.web.app import WebServer, start_web
from tests.chromium import CHROMIUM, NO_CHROMIUM, launched_chromium
from tests.web.conftest import LEAD_BR, SECURITY_DE, link_in, messages, open_example

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
expect = sync_api.expect  # waits for the page to get there, unlike a bare is_visible()


def artifacts() -> Path:
    folder = Path(
        os.environ.get("BREACHOPS_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def console(app: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebServer]:
    monkeypatch.delenv("BREACHOPS_WEB_URL")  # the console's own loopback address goes into the links
    server = start_web(app, wake=None, environ={"BREACHOPS_WEB_BIND": "127.0.0.1:0"})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[object]:
    with launched_chromium(sync_api) as launched:
        yield launched


def test_sign_in_by_mailed_link_answer_a_gate_and_see_it_done_and_audited(app, console, browser):
    incident = open_example(app)  # opened by the licensee, which keeps its counts to itself for now
    change_disclosure(app, incident, facts=["jurisdictions"], steps=[], by=LEAD_BR)
    mark_waiting(app, incident, ["preserve-evidence"])
    assert app.step_links() is not None and app.step_links().base == console.url  # type: ignore[union-attr]

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{console.url}/")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/$"))  # the board asks who you are first
    page.get_by_label("Email address").fill(SECURITY_DE)
    page.get_by_role("button", name="Mail me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()

    link = link_in(messages(app, "sign_in", SECURITY_DE)[-1])
    assert link.startswith(f"{console.url}/sign-in/")
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Open incidents")).to_be_visible()
    board = page.locator("table.board")
    expect(board).to_contain_text(incident)
    mine = page.get_by_role("link", name="Preserve evidence on both sides")
    expect(mine).to_be_visible()  # waiting for this person
    page.screenshot(path=str(artifacts() / "web-board.png"), full_page=True)

    mine.click()
    expect(page.get_by_role("heading", name="What is asked")).to_be_visible()
    expect(page.locator("main")).to_contain_text("(Europe/Berlin)")
    page.get_by_label("Links to the evidence store", exact=False).fill("https://evidence.example/case/7")
    page.get_by_label("Yes").check()
    page.screenshot(path=str(artifacts() / "web-step.png"), full_page=True)
    page.get_by_role("button", name="Mark done and record the answer").click()
    expect(page.get_by_text(f"Done by {SECURITY_DE}")).to_be_visible()

    page.get_by_role("link", name=incident).click()
    audit = page.locator("table.audit")
    row = audit.locator("tr", has_text="step.completed").first
    expect(row).to_contain_text(SECURITY_DE)
    expect(row).to_contain_text("preserve-evidence")
    expect(page.get_by_text("Chain verified")).to_be_visible()
    facts = page.locator("dl.facts")  # the licensor's person: the licensee's internal counts withheld
    expect(facts).to_contain_text("withheld (internal to")
    expect(facts).not_to_contain_text("BR=5400")
    page.screenshot(path=str(artifacts() / "web-incident.png"), full_page=True)
    page.screenshot(path=str(artifacts() / "web-incident-top.png"))

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    phone.add_cookies(context.cookies())
    small = phone.new_page()
    small.goto(f"{console.url}/")
    expect(small.get_by_role("heading", name="Open incidents")).to_be_visible()
    # Readable on a phone: nothing wider than the screen but the tables' own scroll boxes.
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    small.screenshot(path=str(artifacts() / "web-board-phone.png"), full_page=True)
    context.close()
    phone.close()

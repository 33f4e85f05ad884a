"""Every regime's notice draft as its reviewer reads it: the HTML part rendered by Debian's Chromium
(headless, no network), holding the law it cites, each element's gap and the obligation's deadline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from breachops.notifications.render import FILL_MARK
from breachops.store.models import Message
from tests.chromium import CHROMIUM, NO_CHROMIUM, launched_chromium

from .drafting import Incident, draft_everything, drafts, open_incident
from .test_notices_regimes import CASES

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (a dev extra) is not installed")
GAP = re.compile(re.escape(FILL_MARK.split("{}")[0]) + r"[^\]]+" + re.escape(FILL_MARK.split("{}")[1]))


def _named_gaps(text: str) -> list[str]:
    # The instructions' own "[[FILL IN: ...]]" names no element.
    return [g for g in GAP.findall(text) if g not in (FILL_MARK.format("..."), FILL_MARK.format("…"))]


@pytest.fixture(scope="module")
def messages(tmp_path_factory: pytest.TempPathFactory) -> list[Message]:
    incident: Incident = open_incident(tmp_path_factory.mktemp("drafts-browser") / "ws")
    draft_everything(incident)
    return drafts(incident)


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    with launched_chromium(sync_api) as browser:
        # No request leaves the page: a draft must be readable with nothing fetched.
        context = browser.new_context(java_script_enabled=False, offline=True)
        yield context.new_page()


def test_every_drafts_html_part_renders_with_its_law_gaps_and_deadline(
    messages: list[Message], page: object, tmp_path: Path
) -> None:
    assert len(messages) >= len(CASES)
    with_deadline = gaps = 0
    for message in messages:
        assert message.body_html, message.idempotency_key
        path = tmp_path / "draft.html"
        path.write_text(message.body_html, encoding="utf-8")
        page.goto(path.as_uri())  # type: ignore[attr-defined]
        shown = " ".join(page.inner_text("body").split())  # type: ignore[attr-defined]
        text = " ".join(message.body_text.split())
        # The text part's gaps are the HTML part's gaps: none is lost or mangled by the markup.
        named = sorted(_named_gaps(shown))
        assert named == sorted(_named_gaps(text)), message.idempotency_key
        gaps += len(named)
        # Each deadline line of the text part (the obligation's law and its due time) is shown.
        for line in message.body_text.splitlines():
            if line.startswith("Deadline under "):
                with_deadline += 1
                assert " ".join(line.split()) in shown, (message.idempotency_key, line)
        assert "{{" not in shown and "{%" not in shown  # no template source leaked into the page
    assert with_deadline >= len(CASES) and gaps > len(CASES)

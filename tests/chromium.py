"""Debian's Chromium driven by Playwright, for the tests that look at a page as people see it. Nothing
is downloaded: the browser is the one `.ci/run` installs, and tests skip with the reason where absent."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NO_CHROMIUM = "Chromium is not installed (Debian: apt-get install chromium); browsers are never downloaded"
# Nothing but the page: no updates, no sync, no first-run pages, no background requests.
QUIET_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def launched_chromium(sync_api: Any) -> Iterator[Any]:
    """A headless browser from ``playwright.sync_api``, closed afterwards."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=QUIET_ARGS)
        try:
            yield browser
        finally:
            browser.close()

"""Drill tests share the reminders' real SMTP server (aiosmtpd on loopback, every message kept), and a
workspace on the embedded default whose clock the test moves."""

from __future__ import annotations

from pathlib import Path

import pytest

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.settings import Settings
from tests.drills.running import START
from tests.reminders.conftest import smtp  # noqa: F401 - a fixture, registered for this folder


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(tmp_path: Path, clock: ManualClock) -> App:
    return App(Settings(workspace=tmp_path / "ws"), clock=clock)

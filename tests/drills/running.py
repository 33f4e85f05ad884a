"""A drill of the shipped leak scenario under the example agreement, started as `drill run` does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from breachops.bootstrap import App
from breachops.config.agreements import load_agreement
from breachops.playbooks.loader import load_scenario
from breachops.services.drills import start_drill

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
FACILITATOR = "jana.weber@nordlicht.example"


def start(app: App, *, speed: float = 1.0, mode: str = "real") -> str:
    return start_drill(
        app, load_scenario("subcontractor-source-leak"), load_agreement(ROOT / "examples" / "agreement.yaml"),
        speed=speed, mode=mode, simulate=False, actor=FACILITATOR,
    )  # fmt: skip

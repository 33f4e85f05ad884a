"""A real workspace served by a real `breachops serve` and a real local Prefect server.

Started once per test session (the Prefect server takes 10-20 s to come up); each test opens its own
incidents. Every process talks only to 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.notifications.conftest import sendgrid_server, sendgrid_validator  # noqa: F401 - fixtures, for this folder

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@dataclass
class Workspace:
    path: Path
    env: dict[str, str]
    serve: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "breachops", *args],
            env=self.env,
            cwd=self.path.parent,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"breachops {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--format", "json").stdout)

    def start_serve(self, poll: str | None = "0.25") -> None:
        record = self.path / "serve.json"
        record.unlink(missing_ok=True)
        log = (self.path / "serve-test.log").open("ab")
        self.serve = subprocess.Popen(
            [sys.executable, "-m", "breachops", "serve", *(["--poll", poll] if poll else [])],
            env=self.env,
            cwd=self.path.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 180
        while not record.exists():
            if self.serve.poll() is not None:
                raise AssertionError(f"serve exited: {(self.path / 'serve-test.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("serve did not start within 180 s")
            time.sleep(0.2)

    def kill_serve(self, sig: int = signal.SIGKILL) -> None:
        assert self.serve is not None
        os.kill(self.serve.pid, sig)
        self.serve.wait(timeout=30)
        self.serve = None

    def wait_for(self, incident: str, predicate: Any, timeout: float = 90, what: str = "") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        shown: dict[str, Any] = {}
        while time.monotonic() < deadline:
            shown = self.json("incident", "show", incident)
            if predicate(shown):
                return shown
            time.sleep(0.3)
        steps = [(s["step"], s["status"]) for s in shown.get("steps", [])]
        raise AssertionError(f"timed out waiting for {what}: flow {shown.get('flow_state')}, steps {steps}")


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    base = tmp_path_factory.mktemp("served")
    path = base / "workspace"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"BREACHOPS_WORKSPACE": str(path), "COLUMNS": "200", "BREACHOPS_USER": "test-runner"})
    ws = Workspace(path=path, env=env)
    ws.cli("init")
    ws.start_serve()
    try:
        yield ws
    finally:
        if ws.serve is not None:
            ws.kill_serve(signal.SIGTERM)
        from breachops.flows.runtime import stop_local_server

        stop_local_server(path)


def waiting(shown: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in shown["steps"] if s["status"] == "waiting"]


def suspended_with_waiting(shown: dict[str, Any]) -> bool:
    return shown.get("flow_state") == "Suspended" and bool(waiting(shown))


def answer_for(step: dict[str, Any], playbook: Any) -> list[str]:
    """A valid answer for a step's gate, built from the playbook's field specs (as a person would type)."""
    spec = playbook.step(step["step"]).gate
    args: list[str] = []
    for name, field_spec in (spec.fields or {}).items():
        if field_spec.type == "bool":
            value = "yes"
        elif field_spec.type == "int":
            value = str(max(field_spec.min or 0, 3))
        elif field_spec.type == "choice":
            preferred = [c for c in ("high", "personal") if c in field_spec.choices]
            value = preferred[0] if preferred else field_spec.choices[0]
        elif field_spec.type in ("url", "urls"):
            value = "https://evidence.example/case/1"
        elif field_spec.type == "datetime":
            value = "2026-11-25T10:00:00Z"
        elif field_spec.sets == "jurisdictions":
            value = "DE=1200, BR=5400, US-CA=640"
        else:
            value = "recorded for the test"
        args += ["--set", f"{name}={value}"]
    return args


def owner_email(step: dict[str, Any]) -> str:
    return step["owner"]["people"][0]["email"]

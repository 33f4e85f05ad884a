"""Small playbooks written into a temporary folder, so each error test shows only what it breaks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml


def step(step_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "title": f"Do {step_id}",
        "description": f"What {step_id} involves.",
        "owner": {"role": "security", "party": "receiving"},
        **extra,
    }


def minimal() -> dict[str, Any]:
    """A valid playbook of five steps: two in containment, one in each later phase."""
    return {
        "name": "tiny",
        "version": "0.1.0",
        "title": "Tiny",
        "description": "A playbook for tests.",
        "kind": "leak",
        "phases": {
            "containment": [step("freeze-access"), step("preserve-evidence")],
            "investigation": [
                step(
                    "assess-notifiability",
                    depends_on=["freeze-access"],
                    gate={
                        "type": "input",
                        "prompt": "Notifiable?",
                        "fields": {
                            "notifiable": {"type": "bool", "label": "Notifiable", "stamps": "assessed_at"}
                        },
                    },
                )
            ],
            "remediation": [step("rotate-credentials", depends_on=["assess-notifiability"])],
            "notification": [
                step("notify-counterparty", depends_on=["rotate-credentials", "preserve-evidence"])
            ],
        },
    }


def variant() -> dict[str, Any]:
    return copy.deepcopy(minimal())


def write(folder: Path, data: Any, name: str = "tiny.yaml") -> Path:
    path = folder / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path

"""The exercise documents: the players' situation manual holds nothing of the answer key (expected
actions, measures, targets, revealed facts, the simulation script), the handbook holds all of it, and
scenario text is escaped in HTML."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from breachops.playbooks import load_playbook
from breachops.playbooks.loader import load_scenario
from breachops.playbooks.scenarios import Inject, Scenario
from breachops.reports.drill_pack import render_pack

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["authority-access-demand", "insider-roadmap-exfiltration", "subcontractor-source-leak"]


def answer_key(scenario: Scenario) -> set[str]:
    """Every piece of text only facilitators may see: expected steps (ids and titles), measures and
    targets, revealed facts' values, the simulation's scripted answers, and contingency injects."""
    playbook = load_playbook(scenario.playbook)
    titles = {s.id: s.title for s in playbook.steps()}
    key: set[str] = set()
    for inject in scenario.injects:
        for step_id in inject.expects:
            key |= {step_id, titles[step_id]}
        key |= {json.dumps(v) if not isinstance(v, str) else v for v in inject.reveals.values()}
        if inject.when is not None:  # it may never reach the players, and it hints at what it tests
            key |= {inject.id, inject.title, inject.message, *(q.text for q in inject.questions)}
    for objective in scenario.objectives:
        key |= set(objective.measured_by) | {objective.target}
    for step_id, scripted in scenario.simulation.steps.items():
        key.add(step_id)
        key |= {v for v in scripted.answer.values() if isinstance(v, str)}
    return {k for k in key if len(k) >= 6}  # shorter values ("low", "T+5d") are ordinary words


def player_text(scenario: Scenario) -> str:
    """What the scenario itself tells players; an answer-key phrase quoted there is not a leak."""
    return " ".join([scenario.narrative, *(o.text for o in scenario.objectives)] + [
        f"{i.title} {i.message}" for i in scenario.injects if i.when is None
    ])  # fmt: skip


@pytest.mark.parametrize("name", SHIPPED)
def test_the_situation_manual_holds_nothing_of_the_answer_key(name: str):
    scenario = load_scenario(name)
    docs = render_pack(scenario, load_playbook(scenario.playbook))
    told = player_text(scenario)
    key = {k for k in answer_key(scenario) if k not in told}
    assert key  # the scenario has an answer key to keep out
    for doc in ("manual.md", "manual.html"):
        text = html.unescape(docs[doc])
        assert [k for k in key if k in text] == [], doc
        for inject in scenario.injects:
            if inject.when is None:
                assert inject.message.split()[0] in text and inject.title in text
    for doc in ("handbook.md", "handbook.html"):
        text = html.unescape(docs[doc])
        assert [k for k in answer_key(scenario) if k not in text] == [], doc


def test_a_contingency_inject_is_only_in_the_handbook_with_its_test():
    scenario = load_scenario("subcontractor-source-leak")
    still_open = Inject.model_validate({
        "id": "access-still-open", "at": "T+3h", "title": "The repository is still public",
        "message": "Three hours on, the repository can still be cloned.", "expects": ["freeze-access"],
        "if": {"step_not_done": "freeze-access"},
    })  # fmt: skip
    played = scenario.model_copy(update={"injects": (*scenario.injects, still_open)})
    docs = render_pack(played, load_playbook(scenario.playbook))
    for doc in ("manual.md", "manual.html"):
        assert still_open.title not in docs[doc] and "can still be cloned" not in docs[doc], doc
    for doc in ("handbook.md", "handbook.html"):
        text = html.unescape(docs[doc]).replace("<strong>Contingency</strong>", "Contingency")
        assert still_open.title in text
        assert (
            "Contingency: delivered only if Freeze and revoke access to the shared information "
            "(freeze-access) is not done by T+03:00; otherwise skipped"
        ) in text


def test_scenario_text_is_escaped_in_the_html_documents():
    scenario = load_scenario("subcontractor-source-leak")
    first = scenario.injects[0].model_copy(update={"message": "<script>alert(1)</script> | pipe"})
    hostile = scenario.model_copy(update={"injects": (first, *scenario.injects[1:])})
    docs = render_pack(hostile)
    for doc in ("manual.html", "handbook.html"):
        assert "<script>" not in docs[doc] and "&lt;script&gt;" in docs[doc]
    assert "&lt;script&gt;" in docs["manual.md"]


def test_drill_pack_writes_four_private_documents(tmp_path: Path):
    env: dict[str, Any] = {**os.environ, "PYTHONPATH": str(ROOT), "BREACHOPS_WORKSPACE": str(tmp_path / "ws")}
    out = tmp_path / "pack"
    done = subprocess.run(
        [sys.executable, "-m", "breachops", "drill", "pack", "insider-roadmap-exfiltration", "--output", str(out)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "insider-roadmap-exfiltration-handbook.html",
        "insider-roadmap-exfiltration-handbook.md",
        "insider-roadmap-exfiltration-situation-manual.html",
        "insider-roadmap-exfiltration-situation-manual.md",
    ]
    assert all((out / n).stat().st_mode & 0o777 == 0o600 for n in names)

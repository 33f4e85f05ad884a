"""The shipped drills' notice drafts, driven through the service (no Prefect): every step before the
notification phase done, the notification steps started, then every open obligation drafted. No
draft cites a law other than its obligation's; no trade secret or code is listed as personal data."""

from __future__ import annotations

from pathlib import Path

import pytest

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import load_agreement
from breachops.config.settings import Settings
from breachops.notifications.drafts import regimes_for
from breachops.notifications.notices import notify
from breachops.playbooks import load_playbook
from breachops.playbooks.loader import load_scenario
from breachops.services.incidents import open_incident
from breachops.services.steps import mark_waiting
from breachops.store import Repository

from .drafting import (
    AGREEMENT,
    MARKERS,
    NON_PERSONAL_WORDS,
    START,
    Incident,
    draft_part,
    drafts,
    obligations,
    without,
    working_copy,
)

SCENARIOS = ["authority-access-demand", "insider-roadmap-exfiltration", "subcontractor-source-leak"]


def run_to_notices(workspace: Path, name: str) -> Incident:
    scenario = load_scenario(name)
    app = App(Settings(workspace=workspace), clock=ManualClock(START))
    incident = open_incident(
        app, facts=scenario.final_facts(START), agreement=load_agreement(AGREEMENT),
        playbook=load_playbook(scenario.playbook), title=scenario.title, actor="rafael.costa@horizonte.example",
    )  # fmt: skip
    with app.transaction() as session:
        repo = Repository(session)
        row = repo.get_incident(incident)
        notices = [s.step_id for s in repo.steps(incident) if s.phase == "notification"]
        for step in repo.steps(incident):
            if step.phase != "notification":
                repo.set_step_status(row, step.step_id, "done", "rafael.costa@horizonte.example", START)
    mark_waiting(app, incident, notices)
    notify(app, incident, lambda n: n.drafts(n.repo.obligations(n.incident.id)))
    return Incident(app, incident)


@pytest.mark.parametrize("name", SCENARIOS)
def test_drill_drafts_cite_only_their_obligations_law_and_list_only_personal_data(
    tmp_path: Path, name: str
) -> None:
    incident = run_to_notices(tmp_path / "ws", name)
    rows = {o.key: o for o in obligations(incident)}
    regimes = regimes_for(None)
    checked = 0
    for message in drafts(incident):
        if message.kind == "counterparty_notice_draft":
            continue
        keys = message.idempotency_key.split("|")[2].split("+")
        served = [rows[k] for k in keys]
        families = {found[0].family for r in served if (found := regimes.notice_for(r.rule_id, r.stage))}
        assert len(families) <= 1, keys
        rest = without(message.body_text, *(r.citation for r in served))
        for family, marker in MARKERS.items():
            if family not in families:
                assert not marker.search(rest), (name, keys, family, marker.search(rest))
        for part in (draft_part(message.body_text), working_copy(message.body_text) or ""):
            assert not NON_PERSONAL_WORDS.search(part), (name, keys)
        checked += 1
    assert checked > 0
    # the shipped scenarios all reach people in Germany: the GDPR draft is German, with its working copy
    gdpr = next(m for m in drafts(incident) if "|eu-gdpr-art33-authority/notification|" in m.idempotency_key)
    assert (
        "(Deutsch, de) -----" in gdpr.body_text
        and "Art. 33 der Verordnung (EU) 2016/679 (DSGVO)" in gdpr.body_text
    )
    assert working_copy(gdpr.body_text) is not None


def test_the_insider_drills_anpd_draft_is_portuguese_and_not_gdpr(tmp_path: Path) -> None:
    incident = run_to_notices(tmp_path / "ws", "insider-roadmap-exfiltration")
    anpd = [m for m in drafts(incident) if "|br-anpd-res15-art6/" in m.idempotency_key]
    assert anpd
    body = anpd[0].body_text
    assert "Comunicação de incidente de segurança à ANPD" in body and "Resolução CD/ANPD nº 15/2024" in body
    assert "Article 33" not in body and "Art. 33" not in body and "GDPR" not in body
    draft = draft_part(body)
    assert "trade_secret" not in draft and "confidential" not in draft.lower()

"""Helpers for the notice-draft tests: an incident that owes a notice under every shipped regime, the
drafts it queues, and readers for the parts of a draft."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from breachops.bootstrap import App
from breachops.clock import ManualClock
from breachops.config.agreements import Agreement, load_agreement
from breachops.config.settings import Settings
from breachops.deadlines.models import parse_facts
from breachops.notifications.drafts import DraftWriter, regimes_for
from breachops.notifications.notices import notify
from breachops.playbooks import load_playbook
from breachops.services import incidents
from breachops.store import Repository
from breachops.store.models import Message, ObligationRow

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
AGREEMENT = ROOT / "examples" / "agreement.yaml"
READER = "disclosing.dpo"  # the copy the tests read: Aylin Yilmaz, Europe/Berlin
READER_ZONE = "Europe/Berlin"

# People in every jurisdiction a shipped regime serves; health, listed, financial and NIS2 sectors;
# personal data next to the counterparty's trade secrets and code (which are not personal data).
_PEOPLE = [("BR", 5400), ("DE", 1200), ("US-CA", 640), ("JP", 300), ("KR", 250), ("SG", 600), ("AU", 150)]
_PEOPLE += [("CA", 120), ("GB", 90)]
EVERY_REGIME_FACTS: dict[str, Any] = {
    "aware_at": "2026-11-24T16:30:00-03:00",
    "discovered_at": "2026-11-24T09:10:00-03:00",
    "classified_at": "2026-11-24T18:30:00-03:00",
    "assessed_at": "2026-11-25T10:00:00-03:00",
    "material_at": "2026-11-25T11:00:00-05:00",
    "jurisdictions": [{"code": code, "affected": count} for code, count in _PEOPLE],
    "data_categories": ["personal", "health", "credentials", "trade_secret", "source_code"],
    "sectors": ["health", "public_company", "financial", "essential_entity"],
    "risk": "high",
}
DONE_BEFORE_NOTICES = ("freeze-access", "preserve-evidence", "alert-counterparty-lead", "scope-disclosure")

# How each family's law is named: a draft shows only its own obligation's.
MARKERS: dict[str, re.Pattern[str]] = {
    "gdpr": re.compile(r"2016/679|(?<!UK )GDPR|DSGVO|RGPD"),
    "uk_gdpr": re.compile(r"UK GDPR"),
    "lgpd": re.compile(r"LGPD|ANPD"),
    "hipaa": re.compile(r"45 CFR|HIPAA"),
    "sec": re.compile(r"8-K"),
    "california": re.compile(r"1798\.82"),
    "pipeda": re.compile(r"PIPEDA|SOR/2018-64|LPRPDE"),
    "australia": re.compile(r"s\. 26W"),
    "singapore": re.compile(r"PDPA s\. 26|PDP \(NDB\)"),
    "korea": re.compile(r"PIPA|개인정보 보호법"),
    "japan": re.compile(r"APPI|施行規則"),
    "nis2": re.compile(r"2022/2555|NIS2"),
    "dora": re.compile(r"2022/2554|DORA"),
}
NON_PERSONAL_WORDS = re.compile(r"trade[ _]secret|source[ _]code", re.IGNORECASE)


@dataclass
class Incident:
    app: App
    id: str


def open_incident(
    workspace: Path, facts: dict[str, Any] | None = None, agreement: Agreement | None = None
) -> Incident:
    app = App(Settings(workspace=workspace), clock=ManualClock(START))
    incident = incidents.open_incident(
        app,
        facts=parse_facts(facts or EVERY_REGIME_FACTS, "facts"),
        agreement=agreement or load_agreement(AGREEMENT),
        playbook=load_playbook("confidential-information-leak"),
        title="Licensed source code and a customer file on a public repository",
        actor="rafael.costa@horizonte.example",
    )
    with app.transaction() as session:
        repo = Repository(session)
        row = repo.get_incident(incident)
        for step in DONE_BEFORE_NOTICES:
            repo.set_step_status(row, step, "done", "rafael.costa@horizonte.example", START)
    return Incident(app, incident)


def draft_everything(incident: Incident) -> list[str]:
    """Drafts of every open obligation (as if each notice step had started)."""
    return notify(incident.app, incident.id, lambda n: n.drafts(n.repo.obligations(n.incident.id)))


def drafts(incident: Incident) -> list[Message]:
    with incident.app.transaction() as session:
        query = select(Message).where(Message.kind.like("%_notice_draft")).order_by(Message.id)
        return list(session.scalars(query))


def obligations(incident: Incident) -> list[ObligationRow]:
    with incident.app.transaction() as session:
        return list(Repository(session).obligations(incident.id))


def with_writer(
    incident: Incident, use: Callable[[DraftWriter, list[ObligationRow]], Any], **kwargs: Any
) -> Any:
    """Call ``use`` with a DraftWriter over the incident's record, inside a transaction."""
    with incident.app.transaction() as session:
        repo = Repository(session)
        row = repo.get_incident(incident.id)
        writer = DraftWriter(
            row, incidents.agreement_of(incident.app, row), repo.steps(incident.id), START,
            regimes=kwargs.pop("regimes", None) or regimes_for(None), **kwargs,
        )  # fmt: skip
        return use(writer, list(repo.obligations(incident.id)))


def the_draft(messages: list[Message], *keys: str) -> Message:
    """The reader's copy of the draft serving exactly ``keys`` (obligation keys)."""
    what = "+".join(sorted(keys))
    found = [m for m in messages if m.idempotency_key.endswith(f"|{what}|{READER}")]
    assert len(found) == 1, (keys, [m.idempotency_key for m in messages])
    return found[0]


def draft_part(body: str) -> str:
    """The notice itself, in the recipient's language."""
    return body.split("----- draft begins", 1)[1].split("----- draft ends -----", 1)[0]


def working_copy(body: str) -> str | None:
    if "----- English working copy" not in body:
        return None
    return body.split("----- English working copy", 1)[1].split("----- working copy ends -----", 1)[0]


def element_values(text: str, label: str, citation: str) -> list[str]:
    """The lines under an element's heading ``N. <label> (<citation>)`` in a notice's text."""
    lines = text.splitlines()
    heading = f". {label} ({citation})"
    for index, line in enumerate(lines):
        if line.endswith(heading) and line.split(".", 1)[0].isdigit():
            values = []
            for following in lines[index + 1 :]:
                if not following.startswith("   "):
                    break
                values.append(following.strip())
            return values
    raise AssertionError(f"no element {label!r} ({citation}) in:\n{text}")


def without(text: str, *citations: str) -> str:
    """``text`` with the obligations' own citations taken out (they may name the law they amend)."""
    for citation in citations:
        text = text.replace(citation, "")
    return text

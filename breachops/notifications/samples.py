"""A complete sample context for every message kind: for previews, the ``test`` command and tests.

Each sample holds exactly the keys the kind's templates use (see the contract comment at the top of
each template); the tests check that leaving any one out fails to render.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup

__all__ = ["sample_context"]

_T0 = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
_RECIPIENT = {"name": "Aiko Tanaka", "email": "aiko.tanaka@receiver.example", "timezone": "Asia/Tokyo"}
_INCIDENT = {
    "id": "INC-2026-0007",
    "title": "Process recipe shared with an unauthorised supplier",
    "summary": "A process recipe marked Confidential was e-mailed to a supplier outside the agreement.",
    "aware_at": _T0,
    "opened_at": _T0 + timedelta(minutes=20),
    "status": "open",
    "phase": "investigation",
}


def sample_context(kind: str) -> dict[str, Any]:
    """A fresh, complete context for ``kind`` (without ``drill``, which ``render`` adds)."""
    base: dict[str, Any] = {"recipient": dict(_RECIPIENT)}
    incident = dict(_INCIDENT)
    samples: dict[str, dict[str, Any]] = {
        "incident_opened": {
            "incident": incident,
            "opened_by": "Marta Silva",
            "lead": {"name": "Marta Silva", "email": "marta.silva@discloser.example"},
            "obligations": [
                {
                    "title": "Notify the supervisory authority",
                    "citation": "GDPR Art. 33(1)",
                    "due_at": _T0 + timedelta(hours=72),
                },
                {
                    "title": "Notify the receiving party",
                    "citation": "Agreement § 9.3",
                    "due_at": _T0 + timedelta(hours=48),
                },
                {"title": "Notify affected individuals", "citation": "GDPR Art. 34", "due_at": None},
            ],
            "first_steps": [
                {
                    "title": "Ask the supplier to delete the recipe",
                    "owner": "Legal",
                    "due_at": _T0 + timedelta(hours=4),
                },
                {"title": "Preserve mail server logs", "owner": "Security", "due_at": None},
            ],
        },
        "step_assigned": {
            "incident": incident,
            "step": {
                "title": "Preserve mail server logs",
                "phase": "containment",
                "description": "Export the gateway logs for 20-23 November and store them read-only.",
                "due_at": _T0 + timedelta(hours=6),
                "gate": "the log export's SHA-256 and where it is stored",
            },
            "assigned_by": "Marta Silva",
            "action_url": "https://console.example/act/SAMPLE-STEP-LINK",
        },
        "reminder": {
            "incident": incident,
            "item": {
                "title": "Notify the receiving party",
                "kind": "obligation",
                "due_at": _T0 + timedelta(hours=48),
                "citation": "Agreement § 9.3",
            },
            "owner": "Legal (Jonas Weber)",
            "now": _T0 + timedelta(hours=44),
            "action_url": None,
        },
        "overdue": {
            "incident": incident,
            "item": {
                "title": "Preserve mail server logs",
                "kind": "step",
                "due_at": _T0 + timedelta(hours=6),
                "citation": None,
            },
            "owner": "Security (Priya Nair)",
            "level": 1,
            "now": _T0 + timedelta(hours=7, minutes=30),
            "action_url": "https://console.example/act/SAMPLE-STEP-LINK",
        },
        "digest": {
            "audit_head": {"seq": 42, "hash": "9f" * 32},
            "incident": incident,
            "as_of": _T0 + timedelta(days=1),
            "open_steps": [
                {
                    "title": "Ask the supplier to delete the recipe",
                    "owner": "Legal",
                    "due_at": _T0 + timedelta(hours=4),
                    "overdue": True,
                },
                {
                    "title": "Assess whether personal data is involved",
                    "owner": "DPO",
                    "due_at": None,
                    "overdue": False,
                },
            ],
            "obligations": [
                {
                    "title": "Notify the receiving party",
                    "status": "pending",
                    "due_at": _T0 + timedelta(hours=48),
                },
                {"title": "Notify the supervisory authority", "status": "waived", "due_at": None},
            ],
            "recent": [{"at": _T0 + timedelta(hours=3), "summary": "Supplier confirmed deletion by phone."}],
        },
        "catalogue_changed": {
            "incident": {"id": incident["id"], "title": incident["title"]},
            "as_of": _T0 + timedelta(days=2),
            "rules": [{"id": "us-ca-civ-1798-82-individuals", "change": "changed"}],
            "changes": [
                {
                    "title": "Notify affected California residents",
                    "citation": "Cal. Civ. Code § 1798.82",
                    "rule": "us-ca-civ-1798-82-individuals",
                    "change": "due changed",
                    "old_due": _T0 + timedelta(days=45),
                    "new_due": _T0 + timedelta(days=30),
                },
                {
                    "title": "Notify the Attorney General",
                    "citation": "Cal. Civ. Code § 1798.82(f)",
                    "rule": "us-ca-civ-1798-82-ag",
                    "change": "added",
                    "old_due": None,
                    "new_due": _T0 + timedelta(days=30),
                },
            ],
        },
        "counterparty_notice_draft": {
            "incident": incident,
            "agreement": {"title": "Technology Transfer Agreement of 1 March 2026", "clause": "§ 9.3"},
            "from_party": {"name": "Discloser GmbH"},
            "to_party": {"name": "Receiver K.K.", "contact_name": "Aiko Tanaka", "timezone": "Asia/Tokyo"},
            "due_at": _T0 + timedelta(hours=48),
            "discovered_at": _T0 - timedelta(hours=2),
            "what_happened": None,
            "information": ["Process recipe PR-114, revision C"],
            "measures_taken": [],
            "next_update_at": _T0 + timedelta(days=3),
            "contact": {"name": "Jonas Weber", "email": "legal@discloser.example", "phone": None},
            "disclosures": [
                {
                    "recipient": "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
                    "citation": "GDPR Art. 33(1)",
                    "sent": False,
                    "at": _T0 + timedelta(hours=72),
                    "shared": "personal data (personal) of about 1,250 people",
                }
            ],
            "glossary": [
                {"term": "Confidential Information", "definition": "all information marked confidential"}
            ],
        },
        "regulator_notice_draft": {
            "incident": {"id": incident["id"], "title": incident["title"]},
            "notice": {
                "title": "Notification of a personal data breach",
                "law": "Article 33 of Regulation (EU) 2016/679 (GDPR)",
                "language": "de",
                "language_name": "Deutsch",
                "authority": "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
                "audience": "regulator",
            },
            "deadlines": [
                {
                    "citation": "GDPR Art. 33(1)",
                    "title": "Notify the competent supervisory authority of a personal data breach",
                    "stage": "notification",
                    "due_at": _T0 + timedelta(hours=72),
                    "zone": "Europe/Berlin",
                    "target": False,
                }
            ],
            "late": False,
            "warnings": [],
            "notes": ["Written in de for the authority of DE, where most people are affected."],
            "gaps": 1,
            "notice_text": "Meldung einer Verletzung des Schutzes personenbezogener Daten\n"
            "1. Art der Verletzung (GDPR Art. 33(3)(a))\n"
            "   [[FILL IN: Art der Verletzung (GDPR Art. 33(3)(a))]]\n",
            "notice_html": Markup("<h2>Meldung einer Verletzung des Schutzes personenbezogener Daten</h2>"),
            "working_text": "Notification of a personal data breach\n",
            "working_html": Markup("<h2>Notification of a personal data breach</h2>"),
        },
        "individuals_notice_draft": {
            "incident": {"id": incident["id"], "title": incident["title"]},
            "notice": {
                "title": "Notice of Data Breach",
                "law": "California Civil Code § 1798.82",
                "language": "en",
                "language_name": "English",
                "authority": "affected California residents",
                "audience": "individuals",
            },
            "deadlines": [
                {
                    "citation": "California Civil Code § 1798.82(a)",
                    "title": "Notify affected California residents",
                    "stage": "notification",
                    "due_at": _T0 + timedelta(days=30),
                    "zone": "America/Los_Angeles",
                    "target": False,
                }
            ],
            "late": False,
            "warnings": [
                "This incident involves the counterparty's confidential information (trade secret)."
            ],
            "notes": [],
            "gaps": 0,
            "notice_text": "Notice of Data Breach\n\nWhat Happened\n",
            "notice_html": Markup("<h2>Notice of Data Breach</h2>"),
            "working_text": None,
            "working_html": None,
        },
        "drill_inject": {
            "incident": {**incident, "id": "DRILL-2026-0003", "title": "Tabletop: recipe leak"},
            "exercise": {
                "name": "Autumn tabletop 2026",
                "scenario": "Confidential recipe leaked to a supplier",
            },
            "inject": {
                "number": 2,
                "title": "A journalist calls",
                "body": "A trade journalist asks the comms team to confirm the leak.",
                "at": _T0 + timedelta(hours=2),
            },
            "questions": ["Who may speak to the press?", "Does this change any notification deadline?"],
            "respond_by": _T0 + timedelta(hours=2, minutes=30),
            "facilitator": {"name": "Sam Okafor", "email": "drills@discloser.example"},
        },
        "drill_invitation": {
            "exercise": {
                "id": "DRILL-2026-0003",
                "name": "Autumn tabletop 2026",
                "scenario": "Confidential recipe leaked to a supplier",
                "starts_at": _T0 + timedelta(days=7),
                "ends_at": _T0 + timedelta(days=7, hours=3),
                "location": "Video call (link in the calendar invitation)",
            },
            "facilitator": {"name": "Sam Okafor", "email": "drills@discloser.example"},
            "participants": [
                {"name": "Marta Silva", "role": "incident_lead", "party": "disclosing"},
                {"name": "Aiko Tanaka", "role": "incident_lead", "party": "receiving"},
            ],
        },
        "test": {"channel": "outbox", "sent_at": _T0},
        "sign_in": {
            "sign_in_url": "https://console.example/sign-in/SAMPLE-TOKEN",
            "expires_at": _T0 + timedelta(minutes=15),
        },
    }
    if kind not in samples:
        raise KeyError(kind)
    return {**base, **samples[kind]}

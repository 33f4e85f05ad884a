"""A complete sample context for every message kind: for previews, the ``test`` command and tests.

Each sample holds exactly the keys the kind's templates use (see the contract comment at the top of
each template); the tests check that leaving any one out fails to render.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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
_DPO = {"name": "Dr. Lena Vogel", "email": "dpo@discloser.example", "phone": "+49 30 1234 5670"}


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
        "counterparty_notice_draft": {
            "incident": incident,
            "agreement": {"title": "Technology Transfer Agreement of 1 March 2026", "clause": "§ 9.3"},
            "from_party": {"name": "Discloser GmbH"},
            "to_party": {"name": "Receiver K.K.", "contact_name": "Aiko Tanaka"},
            "due_at": _T0 + timedelta(hours=48),
            "discovered_at": _T0 - timedelta(hours=2),
            "what_happened": None,
            "information": ["Process recipe PR-114, revision C"],
            "measures_taken": [],
            "next_update_at": _T0 + timedelta(days=3),
            "contact": {"name": "Jonas Weber", "email": "legal@discloser.example", "phone": None},
        },
        "regulator_notice_draft": {
            "incident": incident,
            "authority": {"name": "Berliner Beauftragte für Datenschutz und Informationsfreiheit"},
            "controller": {"name": "Discloser GmbH", "address": "Beispielstraße 1, 10115 Berlin"},
            "dpo": dict(_DPO),
            "now": _T0 + timedelta(hours=30),
            "due_at": _T0 + timedelta(hours=72),
            "late_reasons": None,
            "occurred_at": None,
            "nature": "An e-mail with an attachment containing staff contact details was sent to a supplier.",
            "subject_categories": ["employees"],
            "approx_subjects": 1250,
            "record_categories": ["names", "business e-mail addresses"],
            "approx_records": None,
            "consequences": None,
            "measures_taken": ["The supplier confirmed deletion in writing."],
            "measures_proposed": [],
        },
        "individuals_notice_draft": {
            "incident": incident,
            "controller": {"name": "Discloser GmbH"},
            "dpo": dict(_DPO),
            "what_happened": None,
            "record_categories": ["your name", "your business e-mail address"],
            "consequences": "You may receive more unsolicited or phishing e-mail.",
            "measures_taken": ["The recipient confirmed that the file was deleted."],
            "advice": [],
            "helpline": None,
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

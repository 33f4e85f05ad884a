"""A drill record to score and report on: a source-code leak, three days of scenario time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breachops.deadlines.drill_record import (
    AnswerRecord,
    DrillRecord,
    InjectRecord,
    ObligationRecord,
    StepRecord,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
END = T0 + timedelta(hours=72)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


INJECTS = (
    InjectRecord("public-repo-found", "Licensed source code found in a public repository", at(0), at(0)),
    InjectRecord("journalist-asks", "A journalist asks for comment", at(2), at(2)),
    InjectRecord("authority-asks-update", "The authority asks for an update", at(20), at(20)),
)

STEPS = (
    StepRecord("freeze-access", "Freeze and revoke access", "containment", "security", "receiving",
               ready_at=at(0), due=at(2), completed_at=at(1), status="done",
               completed_by="Tiago Rocha", expected_by_inject="public-repo-found"),
    StepRecord("preserve-evidence", "Preserve evidence on both sides", "containment", "security", "both",
               ready_at=at(0), due=at(4), completed_at=at(5), status="done", completed_by="Lars Hoffmann",
               expected_by_inject="public-repo-found"),
    StepRecord("alert-counterparty-lead", "Tell the counterparty's incident lead", "containment",
               "incident_lead", "receiving", ready_at=at(0), due=at(44), completed_at=at(3), status="done",
               completed_by="Rafael Costa", expected_by_inject="journalist-asks"),
    StepRecord("scope-disclosure", "Establish what was disclosed and to whom", "investigation", "security",
               "receiving", ready_at=at(5), due=at(24), completed_at=at(20), status="done",
               completed_by="Tiago Rocha"),
    StepRecord("notify-regulators", "File the notice with each data protection authority", "notification",
               "dpo", "both", ready_at=at(30), due=at(66), status="waiting",
               expected_by_inject="authority-asks-update"),
    StepRecord("lessons-learned", "Review the incident together", "notification", "incident_lead", "both",
               due=at(720), status="pending"),
)  # fmt: skip

OBLIGATIONS = (
    ObligationRecord("tta-receiving-to-disclosing/initial", "Licensee notifies the licensor", "counterparty",
                     "DE", "TTA § 11.2", due=at(48), met_at=at(30), owner_party="receiving"),
    ObligationRecord("gdpr-art-33/initial", "Notify the supervisory authority", "regulator", "DE",
                     "GDPR Art. 33(1)", due=at(72), owner_party="both", owner_role="dpo"),
    ObligationRecord("lgpd-art-48/initial", "Notify the ANPD", "regulator", "BR", "LGPD Art. 48",
                     due=at(120), owner_party="receiving", owner_role="dpo"),
    ObligationRecord("sec-8k-105/initial", "Disclose a material incident", "securities_regulator", "US",
                     "Form 8-K Item 1.05"),
    ObligationRecord("ccpa-1798-82/initial", "Notify California residents", "individuals", "US-CA",
                     "Cal. Civ. Code § 1798.82", due=at(60), waived=True),
)  # fmt: skip

ANSWERS = (
    AnswerRecord(at(1), "freeze-access", "receiving", "security", "Tiago Rocha", {"confirmed": True}),
    AnswerRecord(at(3), "alert-counterparty-lead", "receiving", "incident_lead", "Rafael Costa",
                 {"confirmed": True, "note": "Called Jana; e-mail follows."}),
    AnswerRecord(at(5), "preserve-evidence", "disclosing", "security", "Lars Hoffmann",
                 {"evidence_links": ["https://drill.invalid/case/1"], "legal_hold": True}),
    AnswerRecord(at(20), "scope-disclosure", "receiving", "security", "Tiago Rocha",
                 {"affected_by_jurisdiction": "DE=140, BR=60", "recipients": "Anyone on the internet"}),
)  # fmt: skip


def record(**changes: object) -> DrillRecord:
    values: dict[str, object] = {
        "drill_id": "DRILL-2026-0003",
        "scenario_id": "subcontractor-source-leak",
        "t0": T0,
        "ended_at": END,
        "injects": INJECTS,
        "steps": STEPS,
        "obligations": OBLIGATIONS,
        "answers": ANSWERS,
        **changes,
    }
    return DrillRecord(**values)  # type: ignore[arg-type]


def sample_report(**changes: object) -> object:
    """An after-action report of :func:`record`, with participants in Berlin and São Paulo."""
    from breachops.deadlines.scoring import score_drill
    from breachops.playbooks.participants import Participant
    from breachops.reports.after_action import AfterActionReport

    drill = changes.pop("record", None) or record()
    values: dict[str, object] = {
        "scenario_id": "subcontractor-source-leak",
        "scenario_version": "1",
        "scenario_title": "Licensed source code leaked by a subcontractor",
        "narrative": "An engineer pushed the licensed code to a public repository.",
        "objectives": ("Freeze access within two hours", "Tell the counterparty first"),
        "playbook": "confidential-information-leak",
        "record": drill,
        "score": score_drill(drill),  # type: ignore[arg-type]
        "participants": (
            Participant(
                "disclosing", "incident_lead", "Jana Weber", "jana.weber@nordlicht.example", "Europe/Berlin"
            ),
            Participant(
                "disclosing", "security", "Lars Hoffmann", "lars.hoffmann@nordlicht.example", "Europe/Berlin"
            ),
            Participant(
                "receiving",
                "incident_lead",
                "Rafael Costa",
                "rafael.costa@horizonte.example",
                "America/Sao_Paulo",
            ),
            Participant(
                "receiving", "security", "Tiago Rocha", "tiago.rocha@horizonte.example", "America/Sao_Paulo"
            ),
        ),
        "mode": "live",
        "speed": 12.0,
        "generated_at": END + timedelta(minutes=5),
        **changes,
    }
    return AfterActionReport(**values)  # type: ignore[arg-type]

"""Participants' feedback on a drill: asked by mail when it ends, answered by command or in the console,
summed up in the report beside earlier drills of the same scenario."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from breachops.bootstrap import App
from breachops.deadlines.discussion import FeedbackSummary
from breachops.errors import InputError
from breachops.notifications.render import DRILL_PREFIX
from breachops.playbooks.participants import require_participant, stored_participants
from breachops.services.checks import check_text
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.messages import MessageDraft

__all__ = [
    "QUESTIONS",
    "Feedback",
    "FeedbackSummary",
    "feedback_of",
    "queue_feedback_requests",
    "record_feedback",
    "summary_of",
    "trend_of",
]

# Each rated 1 (not at all) to 5 (fully); a comment is free text.
QUESTIONS: Mapping[str, str] = {
    "useful": "How useful was the drill for your role?",
    "realistic": "How realistic were the scenario and its injects?",
    "ready": "How ready do you feel for a real incident of this kind?",
}
_KIND = "drill_feedback_request"


@dataclass(frozen=True)
class Feedback:
    by: str
    ratings: dict[str, int]
    comment: str
    at: datetime


def _ratings(given: Mapping[str, int | None]) -> dict[str, int]:
    ratings = {}
    for name, value in given.items():
        if name not in QUESTIONS:
            raise InputError(
                f"--{name}", None, value, "is not a question of the survey", ", ".join(QUESTIONS)
            )
        if value is None:
            continue
        if not 1 <= value <= 5:
            raise InputError(f"--{name}", None, value, "is a rating from 1 (not at all) to 5 (fully)")
        ratings[name] = value
    return ratings


def record_feedback(
    app: App, drill_id: str, by: str, ratings: Mapping[str, int | None], comment: str = ""
) -> Feedback:
    """A participant's answers to the survey of a drill that has ended; a later answer replaces an earlier
    one in the summary (both stay in the audit log)."""
    check_text("--by", by, max_length=254)
    given = _ratings(ratings)
    if comment:
        comment = check_text("--comment", comment, max_length=2000, newlines=True).strip()
    if not given and not comment:
        raise InputError(
            "--useful", None, None, "give at least one rating or a comment", "Example: --useful 4"
        )
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.ended_drill(drill_id, "The survey opens when the drill ends.")
        require_participant(drill.participants, drill_id, by)
        payload = {"ratings": given, "comment": comment}
        drills.record_feedback(drill, payload, by.strip().lower(), app.clock.now())
    return Feedback(by.strip().lower(), given, comment, app.clock.now())


def feedback_of(app: App, drill_id: str) -> list[Feedback]:
    """The standing answer of each participant (their latest), oldest first."""
    with app.transaction() as session:
        rows = DrillRepository(session).evaluation_events(drill_id, "drill.feedback")
    latest = {by: Feedback(by, dict(p["ratings"]), p["comment"], at) for p, by, at in rows}
    return sorted(latest.values(), key=lambda f: f.at)


def summary_of(app: App, drill_id: str) -> FeedbackSummary:
    with app.transaction() as session:
        invited = len(DrillRepository(session).get_drill(drill_id).participants)
    answers = feedback_of(app, drill_id)
    averages = {}
    for name in QUESTIONS:
        given = [a.ratings[name] for a in answers if name in a.ratings]
        if given:
            averages[name] = round(sum(given) / len(given), 2)
    comments = tuple((a.by, a.comment) for a in answers if a.comment)
    return FeedbackSummary(drill_id, len(answers), invited, averages, comments)


def trend_of(app: App, drill_id: str) -> list[FeedbackSummary]:
    """The feedback of the ended drills of the same scenario before this one, then this one's."""
    with app.transaction() as session:
        drills = DrillRepository(session)
        this = drills.get_drill(drill_id)
        before = (this.started_at, this.id)
        earlier = [
            d.id for d in drills.list_drills()
            if d.scenario_id == this.scenario_id and d.status != "running" and (d.started_at, d.id) < before
        ]  # fmt: skip
    return [summary_of(app, d) for d in [*earlier, drill_id]]


def queue_feedback_requests(app: App, drill_id: str) -> list[str]:
    """Ask each participant of an ended drill for feedback (once each, by key); return the new keys."""
    links = app.step_links()
    page = f"{links.base}/drills/{quote(drill_id)}/feedback" if links else None
    with app.transaction() as session:
        drill = DrillRepository(session).get_drill(drill_id)
        people = stored_participants(drill.participants)
        questions = "\n".join(f"  --{name} 1-5   {text}" for name, text in QUESTIONS.items())
        drafts = []
        for person in people:
            text = (
                f"Hello {person.name},\n\nDrill {drill_id} ({drill.scenario_id}) has ended. Three ratings "
                f"(1 = not at all, 5 = fully) and a comment help the next one:\n\n{questions}\n"
                f"  --comment TEXT   what should change\n\n"
                f"breachops drill feedback {drill_id} --by {person.email} \\\n"
                f"    --useful N --realistic N --ready N --comment TEXT\n"
                + (f"\nOr answer in the console: {page}\n" if page else "")
            )
            drafts.append(
                MessageDraft(
                    idempotency_key=f"{drill_id}|feedback|{person.email.lower()}", kind=_KIND,
                    template=f"inline:{_KIND}", recipients=[person.email],
                    subject=f"{DRILL_PREFIX} Your feedback on drill {drill_id}", body_text=text,
                    incident_id=drill_id, drill=True,
                )
            )  # fmt: skip
        made = Repository(session).queue_messages(drafts, app.clock.now(), actor="drill") if drafts else []
    return [m.message.idempotency_key for m in made if m.created]

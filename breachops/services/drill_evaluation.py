"""What people add to a drill's record besides its steps: an evaluator's P/S/M/U rating of an
objective with a reason (over the rating the measures give; the latest stands), observations during
play, participants' answers to the injects' discussion questions, and each party's hotwash. Each is an
event of the drill's audit stream, so who said what, and when, is kept with the drill's record."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, get_args

from breachops.bootstrap import App
from breachops.deadlines.capability import RATINGS, Override, Rating
from breachops.deadlines.discussion import DiscussionAnswer, HotwashEntry, Observation
from breachops.errors import InputError
from breachops.playbooks.participants import require_participant, stored_participants
from breachops.playbooks.scenario_time import format_offset
from breachops.services.checks import check_text
from breachops.services.drills import drill_clock, scenario_of
from breachops.store.drills import DrillRepository

__all__ = [
    "answer_question",
    "answers_of",
    "finalize_report",
    "hotwash_of",
    "observations_of",
    "observe",
    "overrides_of",
    "rate_objective",
    "record_hotwash",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def rate_objective(app: App, drill_id: str, objective_id: str, rating: str, reason: str, by: str) -> Override:
    """Record ``by``'s rating of ``objective_id``; every argument is checked before anything is written."""
    check_text("--by", by, max_length=254)
    if not _EMAIL.match(by):
        raise InputError("--by", None, by, "is not an email address", "Give the evaluator's address.")
    if rating not in get_args(Rating):
        choices = "; ".join(f"{k} ({v})" for k, v in RATINGS.items())
        raise InputError("--rating", None, rating, f"is not a rating; ratings are {choices}")
    reason = check_text("--reason", reason, max_length=2000, newlines=True).strip()
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        _still_open(drills, drill_id)
        scenario = scenario_of(drill)
        try:
            scenario.objective(objective_id)
        except KeyError as exc:
            raise InputError("--objective", None, objective_id, str(exc.args[0])) from None
        drills.rate_objective(drill, objective_id, rating, reason, by, app.clock.now())
    return Override(objective_id, rating, reason, by)  # type: ignore[arg-type]


def overrides_of(app: App, drill_id: str) -> dict[str, Override]:
    """The standing evaluator rating of each objective of the drill (the latest)."""
    with app.transaction() as session:
        rows = DrillRepository(session).objective_ratings(drill_id)
    return {
        payload["objective"]: Override(payload["objective"], payload["rating"], payload["reason"], by)
        for payload, by in rows
    }


def _participant(drill: Any, by: str) -> None:
    """Only the drill's people speak for it: a participant's address, as the agreement gives it."""
    check_text("--by", by, max_length=254)
    require_participant(drill.participants, drill.id, by)


def answer_question(
    app: App, drill_id: str, inject_id: str, question_id: str, text: str, by: str
) -> DiscussionAnswer:
    """Record a participant's answer to a discussion question of an inject already delivered."""
    text = check_text("--text", text, max_length=4000, newlines=True).strip()
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        _still_open(drills, drill_id)
        _participant(drill, by)
        scenario = scenario_of(drill)
        try:
            inject = scenario.inject(inject_id)
        except KeyError:
            known = ", ".join(i.id for i in scenario.injects)
            raise InputError("INJECT", None, inject_id, f"no such inject; injects: {known}") from None
        try:
            inject.question(question_id)
        except KeyError as exc:
            raise InputError("--question", None, question_id, str(exc.args[0])) from None
        delivered = {i.inject_id for i in drills.injects(drill_id) if i.delivered_at is not None}
        if inject_id not in delivered:
            raise InputError(
                "INJECT", None, inject_id, "has not been delivered yet", "Answer once it arrives."
            )
        drills.answer_question(drill, inject_id, question_id, text, by, app.clock.now())
    return DiscussionAnswer(inject_id, question_id, text, by, app.clock.now())


def record_hotwash(
    app: App, drill_id: str, party: str, went_well: Sequence[str], improve: Sequence[str], by: str
) -> HotwashEntry:
    """Record one party's hotwash: at least one thing that went well or one to improve."""
    items = [
        [check_text(flag, item, max_length=2000).strip() for item in values]
        for flag, values in (("--went-well", went_well), ("--improve", improve))
    ]
    if not items[0] and not items[1]:
        raise InputError("--went-well", None, None, "give at least one --went-well or --improve")
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        _still_open(drills, drill_id)
        _participant(drill, by)
        parties = sorted({p.party for p in stored_participants(drill.participants)})
        if party not in parties:
            raise InputError(
                "--party", None, party, f"is not a party of the drill; parties: {', '.join(parties)}"
            )
        drills.record_hotwash(drill, party, items[0], items[1], by, app.clock.now())
    return HotwashEntry(party, tuple(items[0]), tuple(items[1]), by, app.clock.now())


def observe(
    app: App, drill_id: str, objective_id: str, note: str, rating: str | None, by: str
) -> Observation:
    """Record what ``by`` saw of an objective now, stamped with the drill's scenario time; the report
    lists observations per objective. Checked first: nothing is stored when it is refused."""
    check_text("--by", by, max_length=254)
    if not _EMAIL.match(by):
        raise InputError("--by", None, by, "is not an email address", "Give the observer's address.")
    if rating is not None and rating not in get_args(Rating):
        choices = "; ".join(f"{k} ({v})" for k, v in RATINGS.items())
        raise InputError("--rating", None, rating, f"is not a rating; ratings are {choices}")
    note = check_text("--note", note, max_length=2000, newlines=True).strip()
    now = app.clock.now()
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.get_drill(drill_id)
        if drill.status != "running":
            hint = "Observe during play; after it, `drill rate` or `drill hotwash`."
            raise InputError("DRILL", None, drill_id, f"drill {drill_id} is {drill.status}", hint)
        try:
            scenario_of(drill).objective(objective_id)
        except KeyError as exc:
            raise InputError("--objective", None, objective_id, str(exc.args[0])) from None
        clock = drill_clock(drill)
        offset = format_offset(clock.offset(clock.scenario_time(now)))
        payload = {"objective": objective_id, "note": note, "rating": rating, "scenario_time": offset}
        drills.record_observation(drill, payload, by, now)
    return Observation(objective_id, note, rating, offset, by, now)


def observations_of(app: App, drill_id: str) -> tuple[Observation, ...]:
    with app.transaction() as session:
        rows = DrillRepository(session).evaluation_events(drill_id, "drill.observed")
    return tuple(
        Observation(p["objective"], p["note"], p.get("rating"), p["scenario_time"], by, at)
        for p, by, at in rows
    )


def finalize_report(app: App, drill_id: str, by: str) -> bool:
    """Close the evaluation of a finished drill: its report loses the DRAFT mark and nothing more is
    rated, observed, answered or debriefed. Returns False when it was final already."""
    check_text("--by", by, max_length=254)
    with app.transaction() as session:
        drills = DrillRepository(session)
        drill = drills.ended_drill(
            drill_id, "Finalize once it has ended (`breachops drill stop` ends it early)."
        )
        if drills.finalized(drill_id):
            return False
        drills.finalize_report(drill, by, app.clock.now())
    return True


def _still_open(drills: DrillRepository, drill_id: str) -> None:
    if drills.finalized(drill_id):
        hint = "Its report is final; record further remarks as corrective actions (`breachops actions`)."
        raise InputError("DRILL", None, drill_id, f"the evaluation of drill {drill_id} is closed", hint)


def answers_of(app: App, drill_id: str) -> tuple[DiscussionAnswer, ...]:
    with app.transaction() as session:
        rows = DrillRepository(session).evaluation_events(drill_id, "drill.question_answered")
    return tuple(DiscussionAnswer(p["inject"], p["question"], p["text"], by, at) for p, by, at in rows)


def hotwash_of(app: App, drill_id: str) -> tuple[HotwashEntry, ...]:
    with app.transaction() as session:
        rows = DrillRepository(session).evaluation_events(drill_id, "drill.hotwash")
    return tuple(
        HotwashEntry(p["party"], tuple(p["went_well"]), tuple(p["improve"]), by, at) for p, by, at in rows
    )

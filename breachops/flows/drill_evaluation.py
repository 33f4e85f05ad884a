"""An evaluator's judgement of a drill: rating an objective P/S/M/U with a reason, over the rating the
objective's measures give. Each rating is an event of the drill's audit stream, so who rated what,
when and why is kept with the drill's record; the latest rating of an objective stands."""

from __future__ import annotations

import re
from typing import get_args

from breachops.bootstrap import App
from breachops.deadlines.capability import RATINGS, Override, Rating
from breachops.errors import InputError
from breachops.flows.checks import check_text
from breachops.flows.drill_service import scenario_of
from breachops.store.drills import DrillRepository

__all__ = ["overrides_of", "rate_objective"]

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

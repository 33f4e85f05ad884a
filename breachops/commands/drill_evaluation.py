"""`breachops drill rate`: an evaluator rates an exercise objective P/S/M/U, with the reason.

``register(drill_app)`` adds the command to the `drill` group.
"""

from __future__ import annotations

from typing import Annotated

import typer

from breachops.commands.common import make_app, out
from breachops.deadlines.capability import RATINGS
from breachops.flows import drill_evaluation, drill_service
from breachops.textsafe import markup

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `rate` to the `drill` command group."""
    app.command("rate")(drill_rate)


def drill_rate(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL")],
    objective: Annotated[str, typer.Option("--objective", help="The objective's id in the scenario.")],
    rating: Annotated[str, typer.Option("--rating", help="; ".join(f"{k}: {v}" for k, v in RATINGS.items()))],
    reason: Annotated[str, typer.Option("--reason", help="Why, in a sentence or two.")],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The evaluator's address.")],
) -> None:
    """Rate an objective of a drill over the rating its measures give; the report shows both."""
    from breachops.flows.drill_report import build_report

    app = make_app()
    made = drill_evaluation.rate_objective(app, drill_id, objective, rating.upper(), reason, by)
    out.print(
        f"{markup(drill_id)}: {markup(made.objective)} rated {made.rating} "
        f"({RATINGS[made.rating]}) by {markup(made.by)}",
        highlight=False,
    )
    if drill_service.status(app, drill_id).drill.status != "running":
        outcome = build_report(app, drill_id)
        out.print(f"report updated: {markup(str(outcome.html_path))}", highlight=False)

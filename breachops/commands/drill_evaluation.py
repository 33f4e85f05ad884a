"""`breachops drill rate`, `drill answer`, `drill hotwash`: what evaluators and participants add to a
drill's record — a P/S/M/U rating of an objective with its reason, an answer to an inject's discussion
question, a party's hotwash. A finished drill's report is written again to show it.

``register(drill_app)`` adds the commands to the `drill` group.
"""

from __future__ import annotations

from typing import Annotated

import typer

from breachops.bootstrap import App
from breachops.commands.common import make_app, out, record_id
from breachops.deadlines.capability import RATINGS
from breachops.services import drill_evaluation
from breachops.services.drills import status
from breachops.textsafe import markup

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `rate`, `answer` and `hotwash` to the `drill` command group."""
    app.command("rate")(drill_rate)
    app.command("answer")(drill_answer)
    app.command("hotwash")(drill_hotwash)


def drill_rate(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    objective: Annotated[str, typer.Option("--objective", help="The objective's id in the scenario.")],
    rating: Annotated[str, typer.Option("--rating", help="; ".join(f"{k}: {v}" for k, v in RATINGS.items()))],
    reason: Annotated[str, typer.Option("--reason", help="Why, in a sentence or two.")],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The evaluator's address.")],
) -> None:
    """Rate an objective of a drill over the rating its measures give; the report shows both."""
    app = make_app()
    made = drill_evaluation.rate_objective(app, drill_id, objective, rating.upper(), reason, by)
    out.print(
        f"{markup(drill_id)}: {markup(made.objective)} rated {made.rating} "
        f"({RATINGS[made.rating]}) by {markup(made.by)}",
        highlight=False,
    )
    _refresh_report(app, drill_id)


def drill_answer(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    inject: Annotated[str, typer.Argument(metavar="INJECT", help="The inject's id in the scenario.")],
    question: Annotated[str, typer.Option("--question", help="The question's id (q1, ... by default).")],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The participant answering.")],
    text: Annotated[str, typer.Option("--text", help="The answer.")],
) -> None:
    """Answer a discussion question an inject asked; the report lists the answers."""
    app = make_app()
    made = drill_evaluation.answer_question(app, drill_id, inject, question, text, by)
    out.print(
        f"{markup(drill_id)}: answer to {markup(made.key)} recorded for {markup(made.by)}", highlight=False
    )
    _refresh_report(app, drill_id)


def drill_hotwash(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    party: Annotated[str, typer.Option("--party", help="disclosing or receiving.")],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The participant speaking for the party.")],
    went_well: Annotated[list[str] | None, typer.Option("--went-well", help="Repeat for each point.")] = None,
    improve: Annotated[list[str] | None, typer.Option("--improve", help="Repeat for each point.")] = None,
) -> None:
    """Record a party's hotwash right after play: what went well, what to improve."""
    app = make_app()
    made = drill_evaluation.record_hotwash(app, drill_id, party, went_well or [], improve or [], by)
    out.print(
        f"{markup(drill_id)}: hotwash of {markup(made.party)} recorded "
        f"({len(made.went_well)} went well, {len(made.improve)} to improve)",
        highlight=False,
    )
    _refresh_report(app, drill_id)


def _refresh_report(app: App, drill_id: str) -> None:
    """A finished drill's stored report is rewritten; a running drill's report is made at its end."""
    from breachops.services.drill_reports import build_report

    if status(app, drill_id).drill.status != "running":
        outcome = build_report(app, drill_id)
        out.print(f"report updated: {markup(str(outcome.html_path))}", highlight=False)

"""`breachops drill rate`, `observe`, `answer`, `hotwash`, `pause`, `resume`: what evaluators and
participants add to a drill's record, and the facilitator's pause. A finished drill's report is written
again to show what was added.

``register(drill_app)`` adds the commands to the `drill` group.
"""

from __future__ import annotations

from typing import Annotated

import typer

from breachops.bootstrap import App
from breachops.commands.common import make_app, out, record_id
from breachops.deadlines.capability import RATINGS
from breachops.playbooks.scenario_time import format_offset
from breachops.services import drill_evaluation
from breachops.services.drills import status
from breachops.textsafe import markup

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `rate`, `observe`, `answer`, `hotwash`, `pause` and `resume` to the `drill` command group."""
    app.command("rate")(drill_rate)
    app.command("observe")(drill_observe)
    app.command("pause")(drill_pause)
    app.command("resume")(drill_resume)
    app.command("feedback")(drill_feedback)
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


def drill_observe(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    objective: Annotated[str, typer.Option("--objective", help="The objective's id in the scenario.")],
    note: Annotated[str, typer.Option("--note", help="What you saw.")],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The evaluator's or observer's address.")],
    rating: Annotated[
        str | None, typer.Option("--rating", help="How it looks now: P, S, M or U (optional).")
    ] = None,
) -> None:
    """Note what you see of an objective during play, stamped with the scenario time; the report lists
    the observations (`drill rate` gives the rating that stands)."""
    made = drill_evaluation.observe(
        make_app(), drill_id, objective, note, rating.upper() if rating else None, by
    )
    out.print(
        f"{markup(drill_id)} {made.scenario_offset}: observation on {markup(made.objective)} recorded",
        highlight=False,
    )


def _pause(drill_id: str, by: str, resume: bool) -> None:
    from breachops.services.drills import pause_drill

    current = pause_drill(make_app(), drill_id, by, resume=resume)
    state = "resumed" if resume else "paused"
    out.print(
        f"{markup(drill_id)}: {state} at {format_offset(current.clock.offset(current.scenario_now))}",
        highlight=False,
    )


def drill_pause(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="Who pauses it (the facilitator).")],
) -> None:
    """Stop the drill's scenario clock: nothing is delivered and no due time comes nearer until
    `drill resume`."""
    _pause(drill_id, by, resume=False)


def drill_resume(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="Who resumes it (the facilitator).")],
) -> None:
    """Start a paused drill's scenario clock again where it stood."""
    _pause(drill_id, by, resume=True)


def drill_feedback(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The participant answering.")],
    useful: Annotated[int | None, typer.Option("--useful", help="How useful for your role, 1-5.")] = None,
    realistic: Annotated[int | None, typer.Option("--realistic", help="How realistic, 1-5.")] = None,
    ready: Annotated[int | None, typer.Option("--ready", help="How ready you feel now, 1-5.")] = None,
    comment: Annotated[str, typer.Option("--comment", help="What should change.")] = "",
) -> None:
    """Answer the survey of a drill that has ended (1 = not at all, 5 = fully); a later answer replaces
    yours in the report, which shows the averages beside earlier drills of the same scenario."""
    from breachops.services.drill_feedback import record_feedback

    app = make_app()
    record_feedback(app, drill_id, by, {"useful": useful, "realistic": realistic, "ready": ready}, comment)
    out.print(f"{markup(drill_id)}: feedback of {markup(by)} recorded", highlight=False)
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

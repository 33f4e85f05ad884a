"""`breachops drill pack`: the players' situation manual and the facilitators' handbook of a scenario.

``register(drill_app)`` adds the command to the `drill` group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from breachops.commands.common import make_app, out
from breachops.playbooks.loader import load_playbook, load_scenario
from breachops.reports.drill_pack import write_pack
from breachops.textsafe import markup

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `pack` to the `drill` command group."""
    app.command("pack")(drill_pack)


def drill_pack(
    scenario_name: Annotated[str, typer.Argument(metavar="SCENARIO", help="A scenario id or file.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", help="The folder to write to. Default: <workspace>/drills/packs/<id>."),
    ] = None,
) -> None:
    """Write the situation manual (for players: no answers) and the facilitator and evaluator handbook
    (expected actions, objectives' measures, simulation script), each as HTML and Markdown."""
    app = make_app()
    scenario = load_scenario(scenario_name, [app.workspace / "scenarios"], app.playbook_search)
    playbook = load_playbook(scenario.playbook, app.playbook_search)
    directory = output or app.workspace.resolve() / "drills" / "packs" / scenario.id
    paths = write_pack(scenario, directory, playbook)
    out.print(
        f"situation manual (players):\n  {markup(str(paths.manual_html))}\n  {markup(str(paths.manual_md))}\n"
        f"handbook (facilitators and evaluators only):\n  {markup(str(paths.handbook_html))}\n"
        f"  {markup(str(paths.handbook_md))}",
        highlight=False,
    )

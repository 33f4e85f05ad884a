"""`breachops drill msel export|import`: a scenario as a Master Scenario Events List (CSV, XLSX, JSON).

``register(drill_app)`` adds the `msel` group to the `drill` command group.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from breachops.commands.common import make_app, out
from breachops.errors import InputError
from breachops.files import write_private
from breachops.playbooks.loader import load_scenario
from breachops.playbooks.msel import export_msel, export_rows, import_msel, write_scenario_yaml
from breachops.textsafe import markup

__all__ = ["register"]

msel_app = typer.Typer(
    help="The scenario's Master Scenario Events List: export it to edit as a table, import it back.",
    no_args_is_help=True,
)


class MselFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add `msel export` and `msel import` to the `drill` command group."""
    app.add_typer(msel_app, name="msel")


@msel_app.command("export")
def msel_export(
    scenario_name: Annotated[str, typer.Argument(metavar="SCENARIO", help="A scenario id or file.")],
    fmt: Annotated[MselFormat, typer.Option("--format")] = MselFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", help="Write here instead of printing.")] = None,
) -> None:
    """Print or write the scenario's MSEL: one row per inject, in time order (xlsx needs --output)."""
    app = make_app()
    scenario = load_scenario(scenario_name, [app.workspace / "scenarios"], app.playbook_search)
    if fmt is MselFormat.xlsx:
        if output is None:
            raise InputError("--output", None, None, "a workbook is not text", "Give --output FILE.xlsx.")
        from breachops.playbooks.msel_xlsx import export_xlsx

        write_private(output, export_xlsx(export_rows(scenario)))
        out.print(f"MSEL of {markup(scenario.ref)} written to {markup(str(output))}", highlight=False)
        return
    text = export_msel(scenario, fmt.value)  # type: ignore[arg-type]
    if output is None:
        print(text, end="")
        return
    write_private(output, text)
    out.print(f"MSEL of {markup(scenario.ref)} written to {markup(str(output))}", highlight=False)


@msel_app.command("import")
def msel_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="An MSEL as `msel export` writes it.")],
    output: Annotated[Path, typer.Option("--output", help="The scenario file to write (.yaml).")],
    fmt: Annotated[MselFormat, typer.Option("--format")] = MselFormat.csv,
) -> None:
    """Read an MSEL into a scenario file, checked as any scenario is; a bad row is named and refused."""
    if output.suffix not in (".yaml", ".yml"):
        raise InputError("--output", None, str(output), "a scenario file ends in .yaml")
    app = make_app()
    scenario = import_msel(file, fmt.value, app.playbook_search)  # type: ignore[arg-type]
    write_private(output, write_scenario_yaml(scenario))
    out.print(f"scenario {markup(scenario.ref)} written to {markup(str(output))}", highlight=False)

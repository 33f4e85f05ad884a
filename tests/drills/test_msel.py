"""The Master Scenario Events List: every shipped scenario goes out as CSV and JSON and comes back the
same scenario, and a malformed row is refused with its row and column named (exit status 2)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from breachops.errors import InputError
from breachops.playbooks.loader import load_scenario
from breachops.playbooks.msel import COLUMNS, export_msel, import_msel, write_scenario_yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["authority-access-demand", "insider-roadmap-exfiltration", "subcontractor-source-leak"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("name", SHIPPED)
def test_a_round_trip_through_the_msel_keeps_the_scenario_identical(tmp_path: Path, name: str, fmt: Any):
    scenario = load_scenario(name)
    path = tmp_path / f"{name}.{fmt}"
    path.write_text(export_msel(scenario, fmt), encoding="utf-8")
    back = import_msel(path, fmt)
    assert back.model_dump() == scenario.model_dump()
    written = tmp_path / f"{name}.yaml"
    written.write_text(write_scenario_yaml(back), encoding="utf-8")
    assert load_scenario(written).model_dump() == scenario.model_dump()


def table(name: str) -> list[dict[str, str]]:
    text = export_msel(load_scenario(name), "csv")
    return list(csv.DictReader(io.StringIO(text.split("\r\n\r\n", 1)[1])))


def test_the_msel_has_the_hseep_columns_one_row_per_inject_in_time_order():
    rows = table("subcontractor-source-leak")
    scenario = load_scenario("subcontractor-source-leak")
    assert tuple(rows[0]) == COLUMNS
    assert [r["inject id"] for r in rows] == [i.id for i in scenario.injects]
    assert [r["number"] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
    first = rows[0]
    assert (first["scenario time"], first["method"], first["to"]) == ("T+0", "email", "all")
    assert first["expected action"] == "freeze-access; preserve-evidence; alert-counterparty-lead"
    assert "contain-both-sides" in first["objective"]


def edited(tmp_path: Path, row: int, column: str, value: str) -> tuple[Path, int]:
    """The shipped MSEL in CSV with one cell of table row ``row`` (1 = first inject) changed."""
    text = export_msel(load_scenario("subcontractor-source-leak"), "csv")
    lines = list(csv.reader(io.StringIO(text)))
    header_at = next(i for i, line in enumerate(lines) if line[:1] == ["number"])
    lines[header_at + row][COLUMNS.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(lines)
    path = tmp_path / "edited.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, header_at + row + 1


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("scenario time", "T+2x", "not an offset"),
        ("scenario time", "T+9d", "after the scenario ends"),
        ("number", "two", "not a whole number"),
        ("method", "phone", "email only"),
        ("to", "receiving legal", "party/role"),
        ("to", "receiving/plumber", "plumber"),
        ("expected action", "freeze-everything", "no such step"),
        ("inject id", "Public Repo", "inject id"),
        ("reveals", "{not json", "is not JSON"),
        ("reveals", '{"mood": "tense"}', "not a fact"),
    ],
)
def test_a_malformed_row_is_refused_naming_its_row_and_column(
    tmp_path: Path, column: str, value: str, problem: str
):
    path, line = edited(tmp_path, 2, column, value)
    with pytest.raises(InputError) as caught:
        import_msel(path, "csv")
    assert caught.value.source == str(path)
    assert caught.value.field == f"row {line}, column {column!r}"
    assert problem in str(caught.value)


def test_a_duplicate_inject_id_or_a_missing_column_is_refused(tmp_path: Path):
    rows = table("subcontractor-source-leak")
    path, line = edited(tmp_path, 3, "inject id", rows[0]["inject id"])
    with pytest.raises(InputError, match="already used in row") as caught:
        import_msel(path, "csv")
    assert caught.value.field == f"row {line}, column 'inject id'"
    data = json.loads(export_msel(load_scenario("subcontractor-source-leak"), "json"))
    del data["msel"][1]["synopsis"]
    path = tmp_path / "msel.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_msel(path, "json")
    assert caught.value.field == "row 2, column 'synopsis'"


def test_msel_import_exits_2_and_writes_no_scenario(tmp_path: Path):
    path, line = edited(tmp_path, 1, "method", "fax")
    output = tmp_path / "out.yaml"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BREACHOPS_WORKSPACE": str(tmp_path / "ws")}
    done = subprocess.run(
        [sys.executable, "-m", "breachops", "drill", "msel", "import", str(path), "--output", str(output)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert f"row {line}, column 'method'" in done.stderr
    assert not output.exists()


@pytest.mark.parametrize("name", SHIPPED)
def test_a_round_trip_through_an_excel_workbook_keeps_the_scenario_identical(tmp_path: Path, name: str):
    from breachops.playbooks.msel import export_rows
    from breachops.playbooks.msel_xlsx import export_xlsx

    scenario = load_scenario(name)
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(export_xlsx(export_rows(scenario)))
    assert import_msel(path, "xlsx").model_dump() == scenario.model_dump()


def workbook_with(tmp_path: Path, row: int, column: str, value: str) -> tuple[Path, int]:
    """The shipped MSEL as a workbook with one cell of table row ``row`` (1 = first inject) changed;
    also the sheet row of the table's header."""
    from breachops.playbooks.msel import export_rows
    from breachops.playbooks.msel_xlsx import export_xlsx

    rows = export_rows(load_scenario("subcontractor-source-leak"))
    header_at = next(i for i, line in enumerate(rows) if line[:1] == ["number"])
    rows[header_at + row][COLUMNS.index(column)] = value
    path = tmp_path / "msel.xlsx"
    path.write_bytes(export_xlsx(rows))
    return path, header_at + 1


def test_an_excel_cell_that_starts_with_an_equals_sign_stays_text(tmp_path: Path):
    from openpyxl import load_workbook

    path, header_row = workbook_with(tmp_path, 1, "notes", '=HYPERLINK("http://evil.example","click")')
    cell = load_workbook(path)["MSEL"].cell(row=header_row + 1, column=COLUMNS.index("notes") + 1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_a_malformed_workbook_row_or_file_is_refused_naming_it(tmp_path: Path):
    path, header_row = workbook_with(tmp_path, 2, "scenario time", "soon")
    with pytest.raises(InputError) as refused:
        import_msel(path, "xlsx")
    assert f"row {header_row + 2}" in str(refused.value) and "scenario time" in str(refused.value)
    not_a_book = tmp_path / "notes.xlsx"
    not_a_book.write_text("just text", encoding="utf-8")
    with pytest.raises(InputError, match="not an Excel workbook"):
        import_msel(not_a_book, "xlsx")

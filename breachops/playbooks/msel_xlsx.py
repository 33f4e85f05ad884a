"""The MSEL as an Excel workbook: one sheet holding the same table as the CSV form, every cell text.

Cells are written as text, never as formulas, so an inject that begins with ``=`` stays words in
Excel; a workbook is read with a size cap and without evaluating anything.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from breachops.config.yaml import MAX_BYTES
from breachops.errors import InputError

__all__ = ["export_xlsx", "xlsx_rows"]

SHEET = "MSEL"
_MAX_CELLS = 200_000  # far more than an MSEL holds; a bigger sheet is refused, not read


def export_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    for r, cells in enumerate(rows, start=1):
        for c, text in enumerate(cells, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = text
            cell.data_type = "s"  # text, even when it starts with "=": no formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_rows(path: Path) -> list[list[str]]:
    """The first sheet (or the one named MSEL) as rows of text cells, empty cells as ""."""
    from openpyxl import load_workbook

    from breachops.playbooks.msel import read_capped

    data = read_capped(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_BYTES:
                raise InputError(path, None, None, "unpacks to far more than an MSEL holds")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        hint = "Save it from Excel as .xlsx, or use --format csv."
        raise InputError(path, None, None, f"is not an Excel workbook ({type(exc).__name__})", hint) from None
    sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
    rows: list[list[str]] = []
    cells = 0
    for values in sheet.iter_rows(values_only=True):
        cells += len(values)
        if cells > _MAX_CELLS:
            raise InputError(path, None, None, f"holds more than {_MAX_CELLS} cells, more than an MSEL holds")
        row = [
            "" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
            for v in values
        ]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    book.close()
    return rows

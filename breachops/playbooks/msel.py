"""A scenario as a Master Scenario Events List (MSEL), and back.

An MSEL is the controllers' table of injects (HSEEP 2020): number, scenario time, synopsis, inject
text, from, to, method, expected action, objective, controller, notes. Exported as CSV, XLSX or JSON, it can
be edited where exercise planners work and imported again; a round trip gives back the same scenario.
How the rest of the scenario travels with the table, and what import keeps: docs/drills.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from breachops.config.yaml import MAX_BYTES
from breachops.errors import InputError
from breachops.playbooks.loader import load_playbook, parse_scenario, rule_ids_for
from breachops.playbooks.scenarios import Inject, Scenario

__all__ = [
    "COLUMNS",
    "MselFormat",
    "export_msel",
    "export_rows",
    "import_msel",
    "read_capped",
    "scenario_document",
    "write_scenario_yaml",
]

MselFormat = Literal["csv", "json", "xlsx"]

COLUMNS: tuple[str, ...] = (
    "number",
    "scenario time",
    "synopsis",
    "inject text",
    "from",
    "to",
    "method",
    "expected action",
    "objective",
    "controller",
    "notes",
    "inject id",
    "reveals",
    "questions",
    "contingency",
)
_REQUIRED = ("number", "scenario time", "synopsis", "inject text", "to", "expected action", "inject id")
_HEADER_FIELDS = (
    "id",
    "version",
    "title",
    "narrative",
    "playbook",
    "duration",
    "objectives",
    "participants",
    "facts",
    "simulation",
)
_JSON_FIELDS = ("objectives", "participants", "facts", "simulation")
_JSON_COLUMNS = ("reveals", "questions", "contingency")
_FROM = "exercise control"
_METHOD = "email"
_LABEL = re.compile(r"^([a-z_]+)/([a-z_]+)$")
# Where a scenario's inject field shows in the table, to name the column of a refused value.
_COLUMN_OF = {
    "id": "inject id",
    "at": "scenario time",
    "title": "synopsis",
    "message": "inject text",
    "to": "to",
    "reveals": "reveals",
    "expects": "expected action",
    "questions": "questions",
    "if": "contingency",
    "when": "contingency",
}


# ---- scenario → document -------------------------------------------------------------------------


def _span(delta: timedelta) -> str:
    """``1d2h30m`` (``0`` for nothing), what ``parse_span`` reads back exactly."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return text or "0"


def _offset(delta: timedelta) -> str:
    return f"T-{_span(-delta)}" if delta < timedelta(0) else f"T+{_span(delta)}"


def scenario_document(scenario: Scenario) -> dict[str, Any]:
    """The scenario as its YAML file says it (spans and offsets as text), ready to write or export."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["duration"] = _span(scenario.duration)
    for inject, model in zip(data["injects"], scenario.injects, strict=True):
        inject["at"] = _offset(model.at)
        if inject["to"] != "all":
            inject["to"] = [{"party": p.party, "role": p.role} for p in model.to]  # type: ignore[union-attr]
        if "when" in inject:
            inject["if"] = inject.pop("when")  # as a scenario file spells it
    simulation = data["simulation"]
    simulation["default_delay"] = _span(scenario.simulation.default_delay)
    for step_id, step in simulation["steps"].items():
        delay = scenario.simulation.steps[step_id].delay
        if delay is not None:
            step["delay"] = _span(delay)
    return data


# ---- export --------------------------------------------------------------------------------------


def _objectives_for(scenario: Scenario, inject: Inject) -> str:
    expected = set(inject.expects)
    return "; ".join(o.id for o in scenario.objectives if expected & set(o.measures("step")))


def _row(scenario: Scenario, number: int, inject: Inject) -> dict[str, Any]:
    to = "all" if inject.to == "all" else "; ".join(p.label for p in inject.to)  # type: ignore[union-attr]
    return {
        "number": number,
        "scenario time": _offset(inject.at),
        "synopsis": inject.title,
        "inject text": inject.message,
        "from": _FROM,
        "to": to,
        "method": _METHOD,
        "expected action": "; ".join(inject.expects),
        "objective": _objectives_for(scenario, inject),
        "controller": "",
        "notes": "",
        "inject id": inject.id,
        "reveals": json.loads(json.dumps(inject.reveals, default=str)),
        "questions": [q.model_dump() for q in inject.questions],
        # Only when the test holds at its time (`if:` in the scenario); empty for every other inject.
        "contingency": inject.when.model_dump(exclude_none=True) if inject.when else None,
    }


def _header(scenario: Scenario) -> dict[str, Any]:
    document = scenario_document(scenario)
    return {name: document[name] for name in _HEADER_FIELDS if name in document}


def export_rows(scenario: Scenario) -> list[list[str]]:
    """The table the CSV and XLSX forms hold: the scenario's fields, a blank row, the MSEL."""
    header = _header(scenario)
    lines = [
        [name, json.dumps(value, ensure_ascii=False) if name in _JSON_FIELDS else str(value)]
        for name, value in header.items()
    ]
    lines += [[], list(COLUMNS)]
    for n, inject in enumerate(scenario.injects, start=1):
        row = _row(scenario, n, inject)
        lines.append(
            [json.dumps(row[c], ensure_ascii=False) if c in _JSON_COLUMNS else str(row[c]) for c in COLUMNS]
        )
    return lines


def export_msel(scenario: Scenario, fmt: MselFormat) -> str:
    """The scenario's MSEL as CSV or JSON text, injects numbered in time order (XLSX, which is not text:
    ``msel_xlsx.export_xlsx``)."""
    if fmt == "json":
        rows = [_row(scenario, n, inject) for n, inject in enumerate(scenario.injects, start=1)]
        return json.dumps({"scenario": _header(scenario), "msel": rows}, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(export_rows(scenario))
    return out.getvalue()


# ---- import --------------------------------------------------------------------------------------


def _refuse(source: str | Path, row: int | None, column: str | None, value: Any, problem: str) -> InputError:
    where = ", ".join(
        p for p in (f"row {row}" if row is not None else None, column and f"column {column!r}") if p
    )
    return InputError(source, where or None, value, problem)


def read_capped(path: Path) -> bytes:
    """A file's bytes, refused (naming it) when unreadable or larger than an MSEL can be."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, None, None, f"cannot be read: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise InputError(path, None, None, f"is larger than {MAX_BYTES} bytes, more than an MSEL holds")
    return data


def _read_text(path: Path) -> str:
    data = read_capped(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(path, None, None, "is not UTF-8 text", "Save it as CSV UTF-8.") from None


def _parse_csv(text: str, source: Path) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    return _parse_table(list(csv.reader(io.StringIO(text))), source)


def _parse_table(
    lines: list[list[str]], source: Path
) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    """The scenario's fields and the MSEL's rows (with their row numbers) from a table of text cells."""
    header: dict[str, Any] = {}
    index = 0
    while index < len(lines) and any(cell.strip() for cell in lines[index]):
        cells = lines[index]
        name = cells[0].strip()
        if name not in _HEADER_FIELDS:
            raise _refuse(
                source,
                index + 1,
                "field",
                name,
                f"not a scenario field; fields are {', '.join(_HEADER_FIELDS)}",
            )
        if len(cells) != 2:
            raise _refuse(source, index + 1, "value", cells[1:], "a field row holds a name and one value")
        value: Any = cells[1]
        if name in _JSON_FIELDS:
            try:
                value = json.loads(value) if value.strip() else None
            except json.JSONDecodeError as exc:
                raise _refuse(source, index + 1, name, value[:40], f"is not JSON: {exc.msg}") from None
        header[name] = value
        index += 1
    while index < len(lines) and not any(cell.strip() for cell in lines[index]):
        index += 1
    if index >= len(lines):
        raise InputError(source, None, None, "has no MSEL table: a header row naming the columns is missing")
    columns = [c.strip().lower() for c in lines[index]]
    header_row = index + 1
    for column in _REQUIRED:
        if column not in columns:
            raise _refuse(source, header_row, column, None, "column missing from the MSEL's header row")
    rows = []
    for number, cells in enumerate(lines[index + 1 :], start=header_row + 1):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            raise _refuse(
                source, number, None, cells[len(columns) :], "more cells than the header has columns"
            )
        row: dict[str, Any] = dict(zip(columns, cells, strict=False))
        for column, empty in (("reveals", {}), ("questions", []), ("contingency", None)):
            text = row.get(column, "")
            try:
                row[column] = json.loads(text) if isinstance(text, str) and text.strip() else empty
            except json.JSONDecodeError as exc:
                raise _refuse(source, number, column, text[:40], f"is not JSON: {exc.msg}") from None
        rows.append((number, row))
    return header, rows


def _parse_json(text: str, source: Path) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(source, f"line {exc.lineno}", None, f"is not JSON: {exc.msg}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("scenario"), Mapping):
        raise InputError(source, "scenario", None, "expected an object with 'scenario' and 'msel'")
    if not isinstance(data.get("msel"), list):
        raise InputError(source, "msel", None, "expected a list of MSEL rows")
    rows = []
    for number, row in enumerate(data["msel"], start=1):
        if not isinstance(row, Mapping):
            raise _refuse(source, number, None, None, "an MSEL row is an object of columns")
        lowered = {str(k).strip().lower(): v for k, v in row.items()}
        for column in _REQUIRED:
            if column not in lowered:
                raise _refuse(source, number, column, None, "column missing")
        rows.append((number, lowered))
    return dict(data["scenario"]), rows


def _text(source: Path, number: int, row: Mapping[str, Any], column: str) -> str:
    value = row.get(column, "")
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _refuse(source, number, column, value, "expected text")
    return str(value).strip()


def _inject(source: Path, number: int, row: Mapping[str, Any]) -> dict[str, Any]:
    text = _text(source, number, row, "number")
    if not text.isdigit() or not text.isascii():
        raise _refuse(source, number, "number", text, "not a whole number")
    method = _text(source, number, row, "method").lower()
    if method not in ("", _METHOD):
        raise _refuse(source, number, "method", method, "a drill delivers injects by email only")
    to_text = _text(source, number, row, "to")
    to: Any = "all"
    if to_text.lower() != "all":
        to = []
        for label in (part.strip() for part in to_text.split(";")):
            match = _LABEL.match(label)
            if not match:
                raise _refuse(
                    source, number, "to", label, "not 'all' or party/role labels such as receiving/legal"
                )
            to.append({"party": match.group(1), "role": match.group(2)})
    expects = [
        part.strip() for part in _text(source, number, row, "expected action").split(";") if part.strip()
    ]
    reveals = row.get("reveals") or {}
    if not isinstance(reveals, Mapping):
        raise _refuse(source, number, "reveals", reveals, "expected an object of facts")
    inject = {
        "id": _text(source, number, row, "inject id"),
        "at": _text(source, number, row, "scenario time"),
        "title": _text(source, number, row, "synopsis"),
        "message": _text(source, number, row, "inject text"),
        "to": to,
        "expects": expects,
    }
    if reveals:
        inject["reveals"] = dict(reveals)
    questions = row.get("questions") or []
    if not isinstance(questions, list):
        raise _refuse(source, number, "questions", questions, "expected a list of {id, text}")
    if questions:
        inject["questions"] = questions
    contingency = row.get("contingency")
    if contingency:
        if not isinstance(contingency, Mapping):
            raise _refuse(
                source, number, "contingency", contingency, "expected an object such as {step_not_done: STEP}"
            )
        inject["if"] = dict(contingency)
    try:
        Inject.model_validate(inject)
    except ValidationError as exc:  # name the column of the first problem
        first = exc.errors()[0]
        loc = first["loc"] or ("",)
        column = _COLUMN_OF.get(str(loc[0]), str(loc[0]))
        problem = str(first["msg"]).removeprefix("Value error, ")
        raise _refuse(source, number, column, first.get("input"), problem) from None
    return inject


def import_msel(path: Path, fmt: MselFormat, playbook_search: Sequence[str | Path] = ()) -> Scenario:
    """Read an MSEL (CSV, XLSX or JSON, as exported) into a scenario checked as a
    scenario file is, against its playbook (found in ``playbook_search``, then the library). A bad row
    is refused with its row and column named; nothing is written here."""
    path = Path(path)
    if fmt == "xlsx":
        from breachops.playbooks.msel_xlsx import xlsx_rows

        header, rows = _parse_table(xlsx_rows(path), path)
    else:
        text = _read_text(path)
        header, rows = _parse_csv(text, path) if fmt == "csv" else _parse_json(text, path)
    injects = []
    row_of: dict[str, int] = {}
    for number, row in rows:
        inject = _inject(path, number, row)
        if inject["id"] in row_of:
            raise _refuse(
                path, number, "inject id", inject["id"], f"already used in row {row_of[inject['id']]}"
            )
        row_of[inject["id"]] = number
        injects.append(inject)
    data = {name: value for name, value in header.items() if value is not None}
    data["injects"] = injects
    playbook = None
    if isinstance(data.get("playbook"), str):
        try:
            playbook = load_playbook(data["playbook"], playbook_search)
        except InputError as exc:
            raise InputError(path, "playbook", data["playbook"], exc.problem, exc.hint) from None
    try:
        return parse_scenario(data, path, playbook, rule_ids_for(data))
    except InputError as exc:
        raise _located(exc, path, row_of) from None


def _located(exc: InputError, path: Path, row_of: Mapping[str, int]) -> InputError:
    """A problem the scenario check found in ``injects[i] (id).field``, told as the MSEL's row and column."""
    match = re.match(r"^injects\[\d+\] \(([^)]+)\)\.?([a-z_]*)", exc.field or "")
    if match and match.group(1) in row_of:
        column = _COLUMN_OF.get(match.group(2), match.group(2) or None)
        return _refuse(path, row_of[match.group(1)], column, exc.value, exc.problem)
    return InputError(path, exc.field, exc.value, exc.problem, exc.hint)


def write_scenario_yaml(scenario: Scenario) -> str:
    """The scenario's YAML text, as a scenario file holds it."""
    import yaml

    return yaml.safe_dump(scenario_document(scenario), sort_keys=False, allow_unicode=True, width=100)

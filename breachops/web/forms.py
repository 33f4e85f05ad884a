"""Reading a submitted form (``application/x-www-form-urlencoded``) and turning a gate's fields into the
answer ``step done --set`` would give: the service checks it the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from starlette.requests import Request

from breachops.playbooks.gates import FieldSpec

__all__ = ["MAX_FORM_BYTES", "FormTooLarge", "answer_from_form", "read_form"]

MAX_FORM_BYTES = 64 * 1024


class FormTooLarge(ValueError):
    pass


async def read_form(request: Request) -> dict[str, list[str]]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormTooLarge(f"a form is at most {MAX_FORM_BYTES // 1024} KiB")
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=200)


def first(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def answer_from_form(form: dict[str, list[str]], fields: dict[str, FieldSpec], zone: str) -> dict[str, Any]:
    """Each gate field ``f_<name>`` as text, the way the CLI passes ``--set name=value``. A multiple
    choice comes as several values; a local date and time (``datetime-local``) is read in ``zone``."""
    answer: dict[str, Any] = {}
    for name, spec in fields.items():
        values = [v for v in form.get(f"f_{name}", []) if v.strip()]
        if not values:
            continue
        if spec.type == "choice" and spec.multiple:
            answer[name] = values
        elif spec.type == "datetime":
            answer[name] = _local_instant(values[0], zone)
        else:
            answer[name] = values[0]
    return answer


def _local_instant(text: str, zone: str) -> str:
    """``2026-12-01T09:30`` from a browser's date-time box → that wall-clock time in ``zone``, with its
    offset; text that already carries an offset (or is not a date) goes to the gate's check unchanged."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone))
    return parsed.isoformat()

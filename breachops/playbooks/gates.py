"""Gates: what must happen before a step counts as done, and the typed answers a person gives there.

An answer may arrive as text from the command line or as JSON from the Prefect UI or the console;
:meth:`Gate.validate_answer` coerces both to the same typed values (``"yes"`` → True, ``"12"`` → 12),
and :meth:`Gate.fact_changes` turns a validated answer into the facts it sets and the instants it
stamps. Every refusal names the step, the field and the value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, model_validator

from breachops.config.jurisdictions import normalise_code
from breachops.config.rule_models import DATA_CATEGORIES, RISK_LEVELS, SECTORS
from breachops.config.values import Flag, Whole, check_instant
from breachops.errors import InputError
from breachops.playbooks.base import KEY, Strict

__all__ = [
    "FIELD_TYPES",
    "SETTABLE_FACTS",
    "STAMP_FACTS",
    "FieldSpec",
    "Gate",
    "parse_jurisdiction_counts",
]

FieldType = Literal["bool", "int", "text", "choice", "url", "urls", "datetime"]
FIELD_TYPES: tuple[str, ...] = FieldType.__args__  # type: ignore[attr-defined]
SettableFact = Literal["risk", "acting_as", "data_categories", "sectors", "jurisdictions"]
SETTABLE_FACTS: tuple[str, ...] = SettableFact.__args__  # type: ignore[attr-defined]
StampFact = Literal["assessed_at", "material_at", "classified_at", "discovered_at"]
STAMP_FACTS: tuple[str, ...] = StampFact.__args__  # type: ignore[attr-defined]

_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
# The choices a fact can take, when a choice field sets it; `jurisdictions` is typed text instead.
_FACT_CHOICES: dict[str, tuple[tuple[str, ...], bool]] = {
    "risk": (RISK_LEVELS, False),
    "acting_as": (("controller", "processor"), False),
    "data_categories": (DATA_CATEGORIES, True),
    "sectors": (SECTORS, True),
}
_PAIR = re.compile(r"^\s*([A-Za-z]{2}(?:-[A-Za-z0-9]{1,3})?|EU|EEA)\s*(?:[=:]\s*(\d+))?\s*$")
_STRICT_PAIR = re.compile(r"^\s*([A-Za-z]{2}(?:-[A-Za-z0-9]{1,3})?|EU|EEA)\s*(?:=\s*(\d+))?\s*$")


class FieldSpec(Strict):
    """One typed input a person gives at a gate. ``sets`` copies the answer into a fact; ``stamps``
    (bool fields) records the instant of a true answer into a timestamp fact."""

    type: FieldType
    label: str
    required: Flag = True
    choices: tuple[str, ...] | None = None
    multiple: Flag = False
    min: Whole | None = None
    sets: SettableFact | None = None
    stamps: StampFact | None = None
    help: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> FieldSpec:
        if self.type == "choice":
            if not self.choices:
                raise ValueError("a choice field needs choices")
            if len(set(self.choices)) != len(self.choices):
                raise ValueError("choices repeat a value")
        elif self.choices is not None:
            raise ValueError(f"choices belong to a choice field, not to a {self.type} field")
        if self.multiple and self.type != "choice":
            raise ValueError("multiple belongs to a choice field")
        if self.min is not None and self.type != "int":
            raise ValueError("min belongs to an int field")
        if self.stamps is not None and self.type != "bool":
            raise ValueError(
                f"stamps needs a bool field (a true answer stamps {self.stamps}), not {self.type}"
            )
        if self.sets is not None:
            self._check_sets(self.sets)
        return self

    def _check_sets(self, fact: str) -> None:
        if fact == "jurisdictions":
            if self.type != "text":
                raise ValueError("sets: jurisdictions needs a text field (e.g. 'DE=120, BR=40, FR')")
            return
        allowed, multiple = _FACT_CHOICES[fact]
        if self.type != "choice" or self.multiple != multiple:
            shape = "a choice field with multiple: true" if multiple else "a choice field"
            raise ValueError(f"sets: {fact} needs {shape}")
        unknown = [c for c in self.choices or () if c not in allowed]
        if unknown:
            raise ValueError(f"sets: {fact} allows choices {', '.join(allowed)}; not {', '.join(unknown)}")

    def coerce(self, value: Any) -> Any:
        """The answer in its typed form, or ValueError saying what was expected."""
        return _COERCE[self.type](self, value)


def _bool(spec: FieldSpec, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueError("expected yes or no (true/false)")


def _int(spec: FieldSpec, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,18}\s*", value):
        value = int(value)
    if not isinstance(value, int):
        raise ValueError("expected a whole number")
    if spec.min is not None and value < spec.min:
        raise ValueError(f"expected a whole number of at least {spec.min}")
    return value


def _text(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    text = value.strip()
    if spec.sets == "jurisdictions":
        parse_jurisdiction_counts(text)
    return text


def _choice(spec: FieldSpec, value: Any) -> str | list[str]:
    choices = spec.choices or ()
    if spec.multiple:
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise ValueError(f"expected a list of {', '.join(choices)}")
        items = [v for v in items if v]
    elif isinstance(value, str):
        items = [value.strip()]
    else:
        raise ValueError(f"expected one of {', '.join(choices)}")
    bad = [v for v in items if v not in choices]
    if bad:
        raise ValueError(f"{bad[0]!r} is not one of {', '.join(choices)}")
    return list(dict.fromkeys(items)) if spec.multiple else items[0]


def _url(spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected an http(s) URL")
    text = value.strip()
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or any(c.isspace() for c in text):
        raise ValueError(f"{text!r} is not an http(s) URL")
    return text


def _urls(spec: FieldSpec, value: Any) -> list[str]:
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise ValueError("expected a list of http(s) URLs")
    return [_url(spec, v) for v in items if not (isinstance(v, str) and not v.strip())]


def _datetime(spec: FieldSpec, value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected a date and time such as 2026-03-28T09:00:00+01:00") from None
    if not isinstance(value, datetime):
        raise ValueError("expected a date and time such as 2026-03-28T09:00:00+01:00")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a datetime needs its UTC offset (write 2026-03-28T09:00:00+01:00 or ...Z)")
    return check_instant(value).astimezone(UTC)  # a year the engine counts from, before any arithmetic


_COERCE = {
    "bool": _bool,
    "int": _int,
    "text": _text,
    "choice": _choice,
    "url": _url,
    "urls": _urls,
    "datetime": _datetime,
}


def parse_jurisdiction_counts(text: str, *, strict: bool = False) -> list[dict[str, Any]]:
    """Read ``"DE=120, BR: 40, FR"`` as affected people per jurisdiction (a code alone: count unknown).

    The result is the shape ``Facts.jurisdictions`` accepts; codes are normalised (``UK`` → ``GB``).
    ``strict`` (the command line): only ``CODE=COUNT`` or ``CODE``, so that ``US-TX:1500`` is refused
    rather than read one way here and another elsewhere.
    """
    out: dict[str, int | None] = {}
    for part in re.split(r"[,;\n]+", text):
        if not part.strip():
            continue
        match = (_STRICT_PAIR if strict else _PAIR).match(part)
        if not match:
            raise ValueError(
                f"{part.strip()!r} is not CODE=COUNT (e.g. 'DE=120,BR=40'; a code alone: count unknown)"
            )
        code = normalise_code(match.group(1))
        if code in out:
            raise ValueError(f"{code} is given twice")
        out[code] = int(match.group(2)) if match.group(2) is not None else None
    return [{"code": code, "affected": count} for code, count in out.items()]


class Gate(Strict):
    """What must happen before a step counts as done.

    ``none``: doing it is enough. ``confirm``: a person confirms (an optional note is kept).
    ``input``: a person answers typed fields; answers may set facts and stamp their instants.
    """

    type: Literal["none", "confirm", "input"] = "none"
    prompt: str = ""
    fields: dict[str, FieldSpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"type": "none"} if data is None or data == "none" else data

    @model_validator(mode="after")
    def _consistent(self) -> Gate:
        if self.type == "none" and (self.prompt or self.fields):
            raise ValueError("a gate of type none takes no prompt or fields")
        if self.type in ("confirm", "input") and not self.prompt.strip():
            raise ValueError(f"a {self.type} gate needs a prompt: the question put to the person")
        if self.type == "confirm" and self.fields:
            raise ValueError("a confirm gate takes no fields; use type: input to ask for typed answers")
        if self.type == "input" and not self.fields:
            raise ValueError("an input gate needs fields")
        for name in self.fields:
            if not KEY.match(name):
                raise ValueError(f"field name {name!r} must be lower-case letters, digits and underscores")
        for attr in ("sets", "stamps"):
            targets = [getattr(f, attr) for f in self.fields.values() if getattr(f, attr)]
            twice = sorted({t for t in targets if targets.count(t) > 1})
            if twice:
                raise ValueError(f"two fields {attr} {twice[0]!r}; one answer per fact")
        return self

    @property
    def answer_fields(self) -> dict[str, FieldSpec]:
        """The fields a person answers; a confirm gate has an implied ``confirmed`` and ``note``."""
        if self.type == "confirm":
            return {
                "confirmed": FieldSpec(type="bool", label="Confirmed", required=False),
                "note": FieldSpec(type="text", label="Note", required=False),
            }
        return dict(self.fields)

    def validate_answer(
        self, answer: Mapping[str, Any] | None, *, step_id: str, source: str | Path | None
    ) -> dict[str, Any]:
        """Check and coerce a person's answer; raise InputError naming the step, field and value.

        Strings are accepted for every type (``"yes"`` → True, ``"12"`` → 12, comma-separated lists),
        so an answer typed at the CLI and one sent from the Prefect UI land the same. An optional field
        left out comes back as None.
        """
        if answer is None:
            answer = {}
        if not isinstance(answer, Mapping):
            raise InputError(source, step_id, answer, "an answer is a mapping of field names to values")
        fields = self.answer_fields
        for name, value in answer.items():
            if name not in fields:
                known = ", ".join(fields) or "none (this step takes no answer)"
                raise InputError(source, f"{step_id}.{name}", value, f"unknown field; fields: {known}")
        out: dict[str, Any] = {}
        for name, spec in fields.items():
            value = answer.get(name)
            if value is None or (isinstance(value, str) and not value.strip()) or value in ([], ()):
                if spec.required:
                    raise InputError(
                        source, f"{step_id}.{name}", None, f"required: {spec.label}", _hint(spec)
                    )
                out[name] = None
                continue
            try:
                coerced = spec.coerce(value)
            except ValueError as exc:
                raise InputError(source, f"{step_id}.{name}", value, str(exc), _hint(spec)) from None
            if spec.required and coerced in ([], ""):
                raise InputError(source, f"{step_id}.{name}", value, f"required: {spec.label}", _hint(spec))
            out[name] = coerced
        if self.type == "confirm":
            if out["confirmed"] is False:
                raise InputError(
                    source, f"{step_id}.confirmed", answer.get("confirmed"), "the step was not confirmed"
                )
            out["confirmed"] = True
        return out

    def fact_changes(self, answer: Mapping[str, Any], answered_at: datetime) -> dict[str, object]:
        """The facts a validated answer sets, and the instants its true answers stamp (in UTC)."""
        if answered_at.tzinfo is None or answered_at.utcoffset() is None:
            raise ValueError("answered_at must be timezone-aware")
        changes: dict[str, object] = {}
        for name, spec in self.fields.items():
            value = answer.get(name)
            if value is None:
                continue
            if spec.sets == "jurisdictions":
                changes["jurisdictions"] = parse_jurisdiction_counts(value)
            elif spec.sets in ("data_categories", "sectors"):
                changes[spec.sets] = list(value)
            elif spec.sets is not None:
                changes[spec.sets] = value
            if spec.stamps is not None and value is True:
                changes[spec.stamps] = answered_at.astimezone(UTC)
        return changes


def _hint(spec: FieldSpec) -> str | None:
    if spec.type == "choice":
        return f"Answer {'any of' if spec.multiple else 'one of'}: {', '.join(spec.choices or ())}."
    if spec.sets == "jurisdictions":
        return "Answer like 'DE=120, BR=40, FR' (a code alone when the count is not yet known)."
    return None

"""What each law's notice must say: regimes as data, validated on load.

A regime (``breachops/notifications/regimes/<family>.yaml``) is one legal family; its notices name the
rules they serve and the elements the law requires, each with its citation and what fills it, and the
recipient's languages and time zone. A workspace may add or replace regimes in its own ``regimes/``
folder (same family: replaced). The format is described in docs/notices.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from breachops.config.jurisdictions import normalise_code
from breachops.config.rule_models import check_zone
from breachops.config.yaml import read_yaml
from breachops.errors import InputError, from_validation_error

__all__ = [
    "FILLS",
    "LANGUAGES",
    "Element",
    "Notice",
    "Regime",
    "Regimes",
    "Section",
    "load_regimes",
    "shipped_regime_files",
]

LANGUAGES: tuple[str, ...] = ("en", "pt-BR", "de", "fr", "es", "it", "ja", "ko")
"""Languages the shipped templates speak (BCP 47 tags)."""

FILLS: dict[str, str] = {
    "aware_at": "when the organisation became aware (fact aware_at)",
    "discovered_at": "when the breach was discovered (fact discovered_at)",
    "assessed_at": "when the breach was assessed (fact assessed_at)",
    "classified_at": "when the incident was classified (fact classified_at)",
    "material_at": "when the incident was determined material (fact material_at)",
    "personal_data": "the categories of personal data affected (fact data_categories, personal ones only)",
    "affected": "the number of people affected (fact jurisdictions, summed)",
    "affected_by_jurisdiction": "the people affected per jurisdiction (fact jurisdictions)",
    "controller": "the organisation giving notice (the controller party of the agreement)",
    "contact": "the data protection officer, else the incident lead, of the controller party",
    "measures_taken": "the playbook steps done so far",
    "notice_date": "the date of the notice (the day the draft is made)",
}
"""What may fill an element, besides ``answer:<step>.<field>`` (a gate answer of a done step)."""

Audience = Literal["regulator", "individuals", "securities_regulator", "csirt"]
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ANSWER = re.compile(r"^answer:[a-z0-9][a-z0-9-]*\.[a-z][a-z0-9_]*$")
_RULE = re.compile(r"^[a-z0-9][a-z0-9-]*\*?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_languages(value: Sequence[str]) -> Sequence[str]:
    unknown = [v for v in value if v not in LANGUAGES]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a language with templates; known: {', '.join(LANGUAGES)}")
    return value


class Texts(_Strict):
    """A text in several languages: ``{en: ..., pt-BR: ...}``."""

    model_config = ConfigDict(extra="allow", frozen=True)

    en: str

    @model_validator(mode="before")
    @classmethod
    def _known(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            _check_languages(list(data))
            for language, text in data.items():
                if not isinstance(text, str) or not text.strip():
                    raise ValueError(f"the {language} text must be a non-empty string, not {text!r}")
        return data

    def get(self, language: str) -> str:
        return self.en if language == "en" else str((self.model_extra or {})[language])

    def has(self, language: str) -> bool:
        return language == "en" or language in (self.model_extra or {})


class Element(_Strict):
    """One thing the notice must contain."""

    id: str
    citation: str
    cite: dict[str, str] = {}  # the citation as the recipient's language writes it, where it differs
    label: Texts
    fill: str | None = None
    only_if_late: bool = False  # reasons for a delay: asked only once the deadline has passed
    confirmed: bool = True
    notes: str = ""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{value!r} is not an element id: lower-case letters, digits, - and _")
        return value

    @field_validator("cite")
    @classmethod
    def _cite(cls, value: dict[str, str]) -> dict[str, str]:
        _check_languages(list(value))
        return value

    def citation_in(self, language: str) -> str:
        return self.cite.get(language, self.citation)

    @field_validator("fill")
    @classmethod
    def _fill(cls, value: str | None) -> str | None:
        if value is None or value in FILLS or _ANSWER.match(value):
            return value
        raise ValueError(
            f"{value!r} is not a fill: use answer:<step>.<field> or one of {', '.join(sorted(FILLS))}"
        )


class Section(_Strict):
    """Elements under one heading (a statute's prescribed heading, or none)."""

    heading: Texts | None = None
    elements: tuple[Element, ...] = Field(min_length=1)


class Local(_Strict):
    """The language(s) and time zone of the authority of one member state."""

    languages: tuple[str, ...] = Field(min_length=1)
    timezone: str

    _languages = field_validator("languages")(_check_languages)
    _zone = field_validator("timezone")(check_zone)


class Notice(_Strict):
    """The notice that serves some rules (and stages) of the regime."""

    id: str
    audience: Audience
    rules: tuple[str, ...] = Field(min_length=1)
    stages: tuple[str, ...] = ()
    internal_stages: tuple[str, ...] = ()  # stages of these rules that are internal deadlines: no notice
    title: Texts
    law: Texts
    to: Texts | None = None  # the addressee as the recipient's language names it (else the rule's recipient)
    sections: tuple[Section, ...] = Field(min_length=1)
    min_font_pt: int | None = Field(default=None, gt=0)
    languages: tuple[str, ...] = ()
    timezone: str | None = None
    template: str | None = None

    _languages = field_validator("languages")(_check_languages)

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for rule in value:
            if not _RULE.match(rule):
                raise ValueError(f"{rule!r} is not a rule id (or a prefix ending in *)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @model_validator(mode="after")
    def _unique(self) -> Notice:
        seen: set[str] = set()
        for element in self.elements:
            if element.id in seen:
                raise ValueError(f"element {element.id!r} appears twice")
            seen.add(element.id)
        return self

    @property
    def elements(self) -> tuple[Element, ...]:
        return tuple(e for s in self.sections for e in s.elements)

    def names(self, rule_id: str) -> bool:
        return any(rule_id.startswith(r[:-1]) if r.endswith("*") else rule_id == r for r in self.rules)

    def serves(self, rule_id: str, stage: str) -> bool:
        return self.names(rule_id) and (not self.stages or stage in self.stages)


class Regime(_Strict):
    family: str
    title: str
    sources: tuple[str, ...] = Field(min_length=1)
    reviewed: date
    languages: tuple[str, ...] = Field(min_length=1)
    timezone: str
    by_jurisdiction: dict[str, Local] = {}
    notices: tuple[Notice, ...] = Field(min_length=1)
    notes: str = ""
    origin: str = Field(default="", exclude=True)

    _languages = field_validator("languages")(_check_languages)
    _zone = field_validator("timezone")(check_zone)

    @field_validator("family")
    @classmethod
    def _family(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{value!r} is not a family name: lower-case letters, digits, - and _")
        return value

    @field_validator("by_jurisdiction")
    @classmethod
    def _codes(cls, value: dict[str, Local]) -> dict[str, Local]:
        return {normalise_code(k): v for k, v in value.items()}

    @model_validator(mode="after")
    def _translated(self) -> Regime:
        """Every text of a notice exists in English and in each language its recipient may get."""
        ids: set[str] = set()
        for notice in self.notices:
            if notice.id in ids:
                raise ValueError(f"notice {notice.id!r} appears twice")
            ids.add(notice.id)
            wanted = {
                *self.languages_of(notice),
                *(lang for j in self.by_jurisdiction.values() for lang in j.languages),
            }
            texts = [("title", notice.title), ("law", notice.law)] + (
                [("to", notice.to)] if notice.to else []
            )
            texts += [
                (f"heading of section {i + 1}", s.heading) for i, s in enumerate(notice.sections) if s.heading
            ]
            texts += [(f"element {e.id!r}", e.label) for e in notice.elements]
            for what, text in texts:
                for language in sorted(wanted):
                    if not text.has(language):
                        raise ValueError(f"notice {notice.id!r}: {what} has no {language} text")
        return self

    def languages_of(self, notice: Notice) -> tuple[str, ...]:
        return notice.languages or self.languages


@dataclass(frozen=True)
class Regimes:
    """Every regime, and the notice that serves an obligation."""

    regimes: tuple[Regime, ...]

    def notice_for(self, rule_id: str, stage: str) -> tuple[Regime, Notice] | None:
        for regime in self.regimes:
            for notice in regime.notices:
                if notice.serves(rule_id, stage):
                    return regime, notice
        return None

    def internal(self, rule_id: str, stage: str) -> bool:
        """Whether a stage is an internal deadline of a rule a regime records (no notice is drafted)."""
        return any(stage in n.internal_stages and n.names(rule_id) for r in self.regimes for n in r.notices)

    def local(
        self, regime: Regime, notice: Notice, affected: Iterable[tuple[str, int | None]]
    ) -> tuple[tuple[str, ...], str, str | None]:
        """Languages and zone of the recipient, and the member state that chose them (if one did).

        Where a regime's authority depends on the member state (GDPR, NIS2), the state where most
        people are affected chooses; the reviewer is told so and changes it for another lead authority.
        """
        counts: dict[str, int] = {}
        for code, count in affected:
            key = normalise_code(code)
            if key in regime.by_jurisdiction:
                counts[key] = counts.get(key, 0) + (count or 0)
        if counts:
            state = sorted(counts, key=lambda k: (-counts[k], k))[0]
            local = regime.by_jurisdiction[state]
            return local.languages, local.timezone, state
        return regime.languages_of(notice), notice.timezone or regime.timezone, None


def shipped_regime_files() -> list[Path]:
    folder = resources.files("breachops.notifications") / "regimes"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def load_regime_file(path: Path) -> Regime:
    data = read_yaml(path)
    if not isinstance(data, Mapping):
        raise InputError(path, None, None, "expected a mapping describing one regime")
    try:
        return Regime.model_validate({**data, "origin": str(path)})
    except ValidationError as exc:
        raise from_validation_error(exc, path) from None


def load_regimes(folder: Path | None = None) -> Regimes:
    """The shipped regimes, then those of a workspace ``folder``; a later family replaces an earlier."""
    files = shipped_regime_files()
    if folder is not None and folder.is_dir():
        files += sorted(p for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))
    by_family: dict[str, Regime] = {}
    for path in files:
        regime = load_regime_file(path)
        by_family[regime.family] = regime
    return Regimes(tuple(by_family.values()))

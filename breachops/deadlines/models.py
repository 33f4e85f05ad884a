"""Shapes of the deadline domain: the facts of an incident in, obligations out."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from breachops.config.jurisdictions import normalise_code
from breachops.config.rule_models import DataCategory, Risk, Sector
from breachops.config.values import Count, Instant
from breachops.errors import InputError, from_validation_error

__all__ = [
    "AffectedJurisdiction",
    "Assessment",
    "Facts",
    "NotApplicable",
    "Obligation",
    "assessment",
    "load_facts",
    "obligation",
    "parse_facts",
    "stage_obligation",
]

Basis = Literal["deadline", "target", "awaiting_clock"]
# closed-unmet: the incident was closed, knowingly (`incident close --accept-pending`), before it was met.
Status = Literal["pending", "overdue", "awaiting", "met", "missed", "waived", "closed-unmet"]


class AffectedJurisdiction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    affected: Count | None = Field(default=None, ge=0)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        return normalise_code(value)


class Facts(BaseModel):
    """What is known about an incident. Every instant carries its offset; they are kept in UTC.

    ``discovered_at`` defaults to ``aware_at`` for rules whose clock runs from discovery: an
    organisation cannot have become aware before anyone discovered the breach, so this never
    makes a deadline later than the law's.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    aware_at: Instant
    discovered_at: Instant | None = None
    assessed_at: Instant | None = None
    material_at: Instant | None = None
    classified_at: Instant | None = None
    jurisdictions: tuple[AffectedJurisdiction, ...] = ()
    data_categories: tuple[DataCategory, ...] = ()
    sectors: tuple[Sector, ...] = ()
    risk: Risk | None = None
    acting_as: Literal["controller", "processor"] = "controller"

    @field_validator("jurisdictions", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `jurisdictions: [DE, BR]` is accepted for "people there, count not yet known".
        if isinstance(value, list):
            return [{"code": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("aware_at", "discovered_at", "assessed_at", "material_at", "classified_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def clock(self, event: str) -> datetime | None:
        """The instant an event happened, or None if it has not (yet)."""
        if event == "discovered":
            return self.discovered_at or self.aware_at
        value: datetime | None = getattr(self, f"{event}_at")
        return value


def parse_facts(data: Any, source: str | Path = "facts") -> Facts:
    """Validate facts from a file, the command line, a gate or the store; InputError naming the field."""
    if not isinstance(data, dict):
        raise InputError(source, None, None, "expected a mapping of facts with at least aware_at")
    try:
        return Facts.model_validate(data)
    except ValidationError as exc:
        raise _facts_error(exc, source) from None


def _facts_error(exc: ValidationError, source: str | Path) -> InputError:
    error = from_validation_error(exc, source)
    if "timezone info" in error.problem:
        error = InputError(
            source,
            error.field,
            error.value,
            "a datetime needs its UTC offset",
            "Write it as 2026-03-28T09:00:00+01:00 or ...Z.",
        )
    return error


def load_facts(path: Path) -> Facts:
    """Read a facts file (YAML or JSON; JSON is YAML too)."""
    from breachops.config.yaml import read_yaml

    # YAML 1.2 has no timestamps: instants arrive as text, and the model checks them (offset, range).
    return parse_facts(read_yaml(path), path)


@dataclass(frozen=True, slots=True)
class Obligation:
    """A rule applied to an incident: who must be told, by when, and why."""

    rule_id: str
    stage: str
    jurisdiction: str
    audience: str
    recipient: str
    citation: str
    title: str
    reason: str
    clock_event: str
    clock_start: datetime | None
    due: datetime | None
    basis: Basis
    window: str
    term: str | None
    zones: tuple[str, ...]
    source: str
    origin: str
    confirmed: bool
    kind: str
    status: Status = "pending"

    @property
    def key(self) -> str:
        return f"{self.rule_id}/{self.stage}"

    def local_due(self) -> dict[str, datetime]:
        """The due instant in each zone concerned (the rule's own zone and the parties' zones)."""
        if self.due is None:
            return {}
        return {zone: self.due.astimezone(ZoneInfo(zone)) for zone in self.zones}

    def remaining(self, now: datetime) -> float | None:
        return None if self.due is None else (self.due - now).total_seconds()


class _Draft:
    """An Obligation's slots, writable: the engine fills one in, then it becomes an Obligation."""

    __slots__ = tuple(f.name for f in fields(Obligation))


def obligation(*values: Any) -> Obligation:
    """``Obligation(*values)``, every field given in order, built faster."""
    if len(values) != len(_Draft.__slots__):
        raise TypeError(f"an obligation has {len(_Draft.__slots__)} fields, not {len(values)}")
    (
        rule_id, stage, jurisdiction, audience, recipient, citation, title, reason, clock_event,
        clock_start, due, basis, window, term, zones, source, origin, confirmed, kind, status,
    ) = values  # fmt: skip
    fixed = (rule_id, stage, jurisdiction, audience, citation, title, source, origin, confirmed, kind)
    return stage_obligation(
        fixed, recipient, reason, clock_event, clock_start, due, basis, window, term, zones, status
    )


# What an obligation of one stage of a rule says whatever the facts: rule id, stage, jurisdiction,
# audience, citation, title, source, origin, confirmed, kind.
Fixed = tuple[str, str, str, str, str, str, str, str, bool, str]


def stage_obligation(
    fixed: Fixed,
    recipient: str,
    reason: str,
    clock_event: str,
    clock_start: datetime | None,
    due: datetime | None,
    basis: Basis,
    window: str,
    term: str | None,
    zones: tuple[str, ...],
    status: Status,
) -> Obligation:
    """An obligation of one stage of a rule: ``fixed`` is worked out once per stage, the rest per
    incident."""
    # The engine builds several obligations for every incident. A frozen dataclass's __init__ sets each
    # field through object.__setattr__ (about 2 µs for 20 fields); plain slot stores on a class of the
    # same layout, then a change of class, take a quarter of that. The result is an Obligation like any.
    made: Any = _Draft()
    (
        made.rule_id, made.stage, made.jurisdiction, made.audience, made.citation, made.title,
        made.source, made.origin, made.confirmed, made.kind,
    ) = fixed  # fmt: skip
    made.recipient = recipient
    made.reason = reason
    made.clock_event = clock_event
    made.clock_start = clock_start
    made.due = due
    made.basis = basis
    made.window = window
    made.term = term
    made.zones = zones
    made.status = status
    made.__class__ = Obligation
    return made  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class NotApplicable:
    """A candidate rule of the incident's jurisdictions that does not apply, and why not."""

    rule_id: str
    jurisdiction: str
    citation: str
    reason: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the engine concluded for one set of facts at one instant.

    ``gaps`` names each jurisdiction of the facts (or bloc it belongs to) that the catalogue knows
    nothing of: no obligation listed there is no reassurance. ``warnings`` says where the facts
    contradict one another, and which clock each rule then uses.
    """

    obligations: tuple[Obligation, ...]
    not_applicable: tuple[NotApplicable, ...]
    computed_at: datetime
    gaps: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


class _AssessmentDraft:
    """An Assessment's slots, writable: as for an obligation (``_Draft``)."""

    __slots__ = tuple(f.name for f in fields(Assessment))


def assessment(
    obligations: tuple[Obligation, ...],
    not_applicable: tuple[NotApplicable, ...],
    computed_at: datetime,
    gaps: tuple[str, ...],
    warnings: tuple[str, ...],
) -> Assessment:
    """``Assessment(...)``, built by slot stores as ``stage_obligation`` builds an obligation."""
    made: Any = _AssessmentDraft()
    made.obligations = obligations
    made.not_applicable = not_applicable
    made.computed_at = computed_at
    made.gaps = gaps
    made.warnings = warnings
    made.__class__ = Assessment
    return made  # type: ignore[no-any-return]

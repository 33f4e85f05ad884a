"""A notification rule's shape, validated on load: who must be told, from which event the clock runs,
how long the window is and how its days are counted, when the rule applies, and where it comes from;
and the words the rules and the facts share (audiences, clock events, data categories, sectors, risk).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time, timedelta
from functools import cached_property
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from breachops.config.jurisdictions import covers, normalise_code
from breachops.config.values import MAX_SPAN_DAYS as _MAX_DAYS
from breachops.config.values import Count, Day, Flag, Whole

__all__ = [
    "AUDIENCES",
    "CLOCK_EVENTS",
    "DATA_CATEGORIES",
    "PERSONAL_CATEGORIES",
    "RISK_LEVELS",
    "SECTORS",
    "Audience",
    "Cap",
    "ClockEvent",
    "Conditions",
    "DataCategory",
    "NoDuty",
    "Risk",
    "Rule",
    "Sector",
    "Stage",
    "Window",
    "check_zone",
]

Audience = Literal[
    "regulator",
    "individuals",
    "counterparty",
    "securities_regulator",
    "controller",
    "media",
    "csirt",
    "law_enforcement",
]
ClockEvent = Literal["aware", "discovered", "assessed", "material", "classified"]
Risk = Literal["none", "low", "likely", "high"]
DataCategory = Literal[
    "personal",
    "sensitive",
    "health",
    "financial",
    "credentials",
    "government_id",
    "biometric",
    "children",
    "trade_secret",
    "source_code",
    "confidential",
]
Sector = Literal[
    "financial",
    "health",
    "essential_entity",
    "important_entity",
    "public_company",
    "critical_infrastructure",
    "telecom",
    "government",
    "insurance",
]

AUDIENCES: tuple[str, ...] = Audience.__args__  # type: ignore[attr-defined]
CLOCK_EVENTS: tuple[str, ...] = ClockEvent.__args__  # type: ignore[attr-defined]
RISK_LEVELS: tuple[str, ...] = Risk.__args__  # type: ignore[attr-defined]
DATA_CATEGORIES: tuple[str, ...] = DataCategory.__args__  # type: ignore[attr-defined]
SECTORS: tuple[str, ...] = Sector.__args__  # type: ignore[attr-defined]
# Categories that are personal data too: a rule that needs `personal` is met by any of them.
PERSONAL_CATEGORIES = frozenset(
    {"personal", "sensitive", "health", "financial", "credentials", "government_id", "biometric", "children"}
)

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_CUTOFF = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{value!r} is not an IANA time zone (examples: Europe/Berlin, America/Sao_Paulo)"
        ) from None
    return value


class Window(_Strict):
    """How long a clock runs, and how its days are reckoned.

    Exactly one of ``hours``, ``calendar_days``, ``business_days``, ``months`` or ``term``. Hours are
    elapsed time on the UTC instant (a DST change never moves them). Day windows count whole local days
    in ``timezone`` after the day of the trigger (unless ``include_trigger_day``) and end at
    ``day_end``: the end of that local day, the trigger's own clock time (``same_time``), or a cut-off
    such as ``"17:30"`` (a filing system's closing time). Without ``timezone``, days are counted in
    the zone of the jurisdiction concerned (for a bloc's rule, in each member state concerned), never
    on UTC's calendar. An open term ("without undue delay") is not a date: ``target_hours`` is the
    team's practical target for it.
    """

    # The upper bounds (ten years) only catch typos; no notification window comes near them.
    hours: Whole | None = Field(default=None, gt=0, le=24 * _MAX_DAYS)
    calendar_days: Whole | None = Field(default=None, gt=0, le=_MAX_DAYS)
    business_days: Whole | None = Field(default=None, gt=0, le=_MAX_DAYS * 5 // 7)
    months: Whole | None = Field(default=None, gt=0, le=_MAX_DAYS // 30)
    term: str | None = None
    target_hours: Whole | None = Field(default=None, ge=0, le=24 * _MAX_DAYS)
    timezone: str | None = None
    day_end: str = "end_of_day"
    holidays: str | None = None
    include_trigger_day: Flag = False

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @field_validator("day_end")
    @classmethod
    def _day_end(cls, value: str) -> str:
        if value in ("end_of_day", "same_time") or _CUTOFF.match(value):
            return value
        raise ValueError(f"{value!r} is not end_of_day, same_time or a cut-off time HH:MM")

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str | None) -> str | None:
        return None if value is None else normalise_code(value)

    @model_validator(mode="after")
    def _one_kind(self) -> Window:
        kinds = [k for k in ("hours", "calendar_days", "business_days", "months", "term") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError(
                "a window needs exactly one of hours, calendar_days, business_days, months or term"
                + (f"; found {', '.join(kinds)}" if kinds else "")
            )
        if self.term and self.target_hours is None:
            raise ValueError(f"the open term {self.term!r} needs target_hours, the team's practical target")
        if self.business_days and not self.holidays:
            raise ValueError("a business-day window needs holidays: the calendar to skip (e.g. US, BR)")
        if self.include_trigger_day and self.day_end != "end_of_day":
            raise ValueError(
                "include_trigger_day needs day_end: end_of_day (else a window could end before it starts)"
            )
        return self

    @property
    def kind(self) -> str:
        for k in ("hours", "calendar_days", "business_days", "months", "term"):
            if getattr(self, k):
                return k
        raise AssertionError("validated window has a kind")

    @property
    def local(self) -> bool:
        """Whether the window ends on a local calendar (days, months), so that its zone matters."""
        return bool(self.calendar_days or self.business_days or self.months)

    @property
    def cutoff(self) -> time | None:
        """The local time at which a day window ends, or None for the trigger's own clock time."""
        if self.day_end == "same_time":
            return None
        if self.day_end == "end_of_day":
            return time(23, 59, 59)
        hh, mm = self.day_end.split(":")
        return time(int(hh), int(mm))

    @cached_property
    def description(self) -> str:
        return self.describe()

    @cached_property
    def elapsed(self) -> timedelta | None:
        """The span of an hour window or of an open term's target: elapsed time, zone-free."""
        if self.hours:
            return timedelta(hours=self.hours)
        if self.term:
            return timedelta(hours=self.target_hours or 0)
        return None

    def describe(self) -> str:
        if self.term:
            return f"{self.term} (target {self.target_hours} h)"
        if self.hours:
            return f"{self.hours} h"
        if self.months:
            return f"{self.months} month{'s' if self.months > 1 else ''}"
        if self.calendar_days:
            return f"{self.calendar_days} calendar day{'s' if self.calendar_days > 1 else ''}"
        return f"{self.business_days} business day{'s' if self.business_days != 1 else ''} ({self.holidays})"


class Cap(_Strict):
    """A second limit: the stage is due at the earlier of its window and this one (DORA: 4 h of
    classification and no later than 24 h of awareness). A cap whose clock has not started is ignored."""

    clock: ClockEvent
    window: Window


class Stage(_Strict):
    """One report of a rule. Its clock is an event, or ``after`` an earlier stage's due time."""

    name: str = "notification"
    clock: ClockEvent | None = None
    after: str | None = None
    window: Window
    cap: Cap | None = None
    description: str = ""

    @model_validator(mode="after")
    def _one_start(self) -> Stage:
        if (self.clock is None) == (self.after is None):
            raise ValueError(f"stage {self.name!r} needs exactly one of clock (an event) or after (a stage)")
        return self


class Conditions(_Strict):
    """When a rule applies. Everything listed must hold; an unknown fact counts as met, and the
    obligation says it rests on that assumption, because a team must not miss a duty while it is
    still counting."""

    affected_at_least: Count | None = Field(default=None, ge=0)
    affected_more_than: Count | None = Field(default=None, ge=0)
    data_categories_any: tuple[DataCategory, ...] = ()
    sectors_any: tuple[Sector, ...] = ()
    risk_at_least: Risk | None = None
    acting_as: Literal["controller", "processor"] | None = None
    # Whether a count threshold is met by the total affected, or by the count in one jurisdiction the
    # rule reaches (HIPAA's media notice: more than 500 residents of a State).
    threshold_scope: Literal["total", "per_jurisdiction"] = "total"


class Rule(_Strict):
    id: str
    jurisdiction: str
    instrument: str
    article: str
    title: str
    audience: Audience
    recipient: str
    stages: tuple[Stage, ...]
    applies_when: Conditions = Conditions()
    in_force_from: Day | None = None
    in_force_until: Day | None = None
    replaces: str | None = None
    source: str
    reviewed: Day
    confirmed: Flag = True
    notes: str = ""
    kind: Literal["law", "contract"] = "law"
    origin: str = Field(default="", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _single_stage_shorthand(cls, data: Any) -> Any:
        # Most rules have one report; let them write clock + window at the top level.
        if isinstance(data, Mapping) and "stages" in data and ("window" in data or "clock" in data):
            raise ValueError("give either stages, or a clock and a window, not both")
        if isinstance(data, Mapping) and "stages" not in data and ("window" in data or "clock" in data):
            data = dict(data)
            stage = {"clock": data.pop("clock", None), "window": data.pop("window", None)}
            if "cap" in data:
                stage["cap"] = data.pop("cap")
            data["stages"] = [stage]
        return data

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"{value!r} is not a rule id: lower-case letters, digits and dashes")
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        return normalise_code(value)

    @model_validator(mode="after")
    def _stages(self) -> Rule:
        if not self.stages:
            raise ValueError("a rule needs at least one stage (or a clock and a window)")
        seen: set[str] = set()
        for stage in self.stages:
            if stage.name in seen:
                raise ValueError(f"stage name {stage.name!r} appears twice")
            if stage.after is not None and stage.after not in seen:
                raise ValueError(
                    f"stage {stage.name!r} is after {stage.after!r}, which is not an earlier stage"
                )
            seen.add(stage.name)
        if self.in_force_from and self.in_force_until and self.in_force_until < self.in_force_from:
            raise ValueError("in_force_until is before in_force_from")
        return self

    @cached_property
    def citation(self) -> str:
        return f"{self.instrument} {self.article}".strip()

    def in_force_on(self, day: date) -> bool:
        return (self.in_force_from is None or day >= self.in_force_from) and (
            self.in_force_until is None or day <= self.in_force_until
        )

    def reaches(self, fact_code: str) -> bool:
        return covers(self.jurisdiction, fact_code)


class NoDuty(_Strict):
    """A jurisdiction known to have no general statutory breach-notification duty, with its source.

    Recorded so that coverage can tell "nothing to do here, checked" from "nothing known": only the
    first may reassure.
    """

    jurisdiction: str
    source: str
    reviewed: Day
    notes: str
    instead: str = ""
    origin: str = Field(default="", exclude=True)

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        return normalise_code(value)

    @field_validator("source", "notes")
    @classmethod
    def _required(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty: say where the absence of a duty is read from")
        return value

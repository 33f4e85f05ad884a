"""When reminders go out, as a workspace (``settings.yaml``) or an agreement (``reminders:``) says.

``before_hours``, ``overdue_every_hours`` and ``escalate``, at the top and per role (``by_role``) or per
rule, obligation or step (``by_rule``); a field left out keeps the value of the level below.
``deadlines.reminders.ReminderPolicy`` turns this into schedules. An example and the layering rules are
in docs/reminders.md.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from breachops.config.values import Flag, Number

__all__ = ["MAX_HOURS", "ReminderSchedule", "ReminderSettings"]

MAX_HOURS = 24 * 366
"""Further than a year before a deadline is a typo, not a reminder."""


class ReminderSchedule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    before_hours: tuple[Number, ...] | None = None
    overdue_every_hours: Number | None = None
    escalate: Flag | None = None

    @field_validator("before_hours")
    @classmethod
    def _before(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("needs at least one number of hours; leave the key out to keep the defaults")
        for hours in value:
            if not 0 < hours <= MAX_HOURS:
                raise ValueError(f"{hours:g} is not a number of hours between 0 (exclusive) and {MAX_HOURS}")
        return value

    @field_validator("overdue_every_hours")
    @classmethod
    def _every(cls, value: float | None) -> float | None:
        if value is not None and not 0 < value <= MAX_HOURS:
            raise ValueError(
                f"must be a number of hours between 0 (exclusive) and {MAX_HOURS}; "
                "write escalate: false to turn escalation off"
            )
        return value


class ReminderSettings(ReminderSchedule):
    by_role: dict[str, ReminderSchedule] = Field(default_factory=dict)
    by_rule: dict[str, ReminderSchedule] = Field(default_factory=dict)

    @field_validator("by_role")
    @classmethod
    def _roles(cls, value: dict[str, ReminderSchedule]) -> dict[str, ReminderSchedule]:
        from breachops.config.agreements import ROLES  # agreements imports this module

        unknown = [role for role in value if role not in ROLES]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a role; roles are {', '.join(ROLES)}")
        return value

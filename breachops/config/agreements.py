"""The technology-transfer agreement: parties, their people by role, and the contract's notice windows.

A contractual notice window becomes a rule of kind ``contract`` and, applied to an incident, an
obligation exactly like a legal one.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from breachops.config.addresses import address_problem, name_problem
from breachops.config.jurisdictions import normalise_code
from breachops.config.reminders import ReminderSettings
from breachops.config.rule_models import ClockEvent, Conditions, Rule, Stage, Window, check_zone
from breachops.config.values import Day
from breachops.config.yaml import read_yaml
from breachops.errors import InputError, from_validation_error

__all__ = [
    "ROLES",
    "Agreement",
    "Contact",
    "NoticeWindow",
    "Party",
    "Role",
    "agreement_file",
    "load_agreement",
]

Role = Literal["incident_lead", "legal", "dpo", "security", "comms", "executive"]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_name(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(problem.problem)
    return value


class Contact(_Strict):
    """A person. The email and name follow the mail builder's rules (config/addresses.py), so a
    contact the agreement accepts is one every reminder can reach."""

    name: str
    email: str
    timezone: str

    _zone = field_validator("timezone")(check_zone)
    _name = field_validator("name")(_check_name)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        problem = address_problem(value)
        if problem is not None:
            raise ValueError(f"{problem.problem}. {problem.hint}" if problem.hint else problem.problem)
        return value


class Party(_Strict):
    """One company. ``bound_by`` names the party whose flow-down clause binds a subcontractor."""

    name: str
    contacts: dict[Role, Contact]
    escalation: tuple[Role, ...] = ("incident_lead", "legal", "executive")
    bound_by: str | None = None

    _name = field_validator("name")(_check_name)

    @model_validator(mode="after")
    def _lead(self) -> Party:
        if "incident_lead" not in self.contacts:
            raise ValueError("each party needs an incident_lead contact")
        missing = [r for r in self.escalation if r not in self.contacts]
        if missing:
            raise ValueError(f"escalation names roles with no contact: {', '.join(missing)}")
        return self


class NoticeWindow(_Strict):
    """A contract clause: ``from_party`` tells ``to_party`` within ``window`` of ``clock``."""

    id: str
    from_party: str = Field(alias="from")
    to_party: str = Field(alias="to")
    clause: str
    trigger: str = "any actual or suspected unauthorised disclosure of Confidential Information"
    clock: ClockEvent = "aware"
    window: Window
    applies_when: Conditions = Conditions()
    title: str | None = None


class Agreement(_Strict):
    """The technology-transfer agreement between the parties: who they are and whom to reach there
    (contacts per role, with time zones), and the contractual notification clauses that become
    obligations beside the law's."""

    id: str
    title: str
    governing_law: str
    effective: Day | None = None
    jurisdictions: tuple[str, ...] = ()
    parties: dict[str, Party]
    notice_windows: tuple[NoticeWindow, ...] = ()
    reminders: ReminderSettings | None = None  # when reminders go out for this agreement's incidents
    # Defined terms ("Confidential Information": its definition), quoted in every notice draft that uses
    # them, so a translated draft and its English working copy mean the same thing by them.
    glossary: dict[str, str] = {}
    confidentiality_clause: str | None = None  # e.g. "§ 8 (Confidentiality)": cited when a draft risks it
    origin: str = Field(default="", exclude=True)

    _title = field_validator("title")(_check_name)

    @field_validator("governing_law")
    @classmethod
    def _law(cls, value: str) -> str:
        return normalise_code(value)

    @field_validator("glossary")
    @classmethod
    def _glossary(cls, value: dict[str, str]) -> dict[str, str]:
        for term, definition in value.items():
            if not term.strip() or not definition.strip():
                raise ValueError(f"glossary term {term!r} needs a name and a definition")
            if any(c in term for c in "\r\n"):
                raise ValueError(f"glossary term {term!r} cannot contain a line break")
        return {term.strip(): " ".join(definition.split()) for term, definition in value.items()}

    @field_validator("jurisdictions")
    @classmethod
    def _jurisdictions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normalise_code(v) for v in value)

    @model_validator(mode="after")
    def _parties(self) -> Agreement:
        for needed in ("disclosing", "receiving"):
            if needed not in self.parties:
                raise ValueError(f"parties needs a {needed!r} party")
        for key, party in self.parties.items():
            if not _KEY.match(key):
                raise ValueError(f"party key {key!r} must be lower-case letters, digits and underscores")
            if party.bound_by is not None and party.bound_by not in self.parties:
                raise ValueError(f"party {key!r} is bound_by {party.bound_by!r}, which is not a party")
        for index, notice in enumerate(self.notice_windows):
            for end in (notice.from_party, notice.to_party):
                if end not in self.parties:
                    raise ValueError(f"notice_windows[{index}] names party {end!r}, which is not a party")
        return self

    def zones(self) -> tuple[str, ...]:
        """Every time zone a contact of the agreement lives in, in a stable order."""
        seen = dict.fromkeys(c.timezone for p in self.parties.values() for c in p.contacts.values())
        return tuple(seen)

    def contract_rules(self) -> list[Rule]:
        """Each notice window as a rule of kind ``contract``, cited by its clause."""
        rules = []
        for notice in self.notice_windows:
            sender, receiver = self.parties[notice.from_party], self.parties[notice.to_party]
            rules.append(
                Rule(
                    id=f"contract-{notice.id}",
                    jurisdiction=self.governing_law,
                    instrument=self.title,
                    article=notice.clause,
                    title=notice.title or f"{sender.name} notifies {receiver.name}",
                    audience="counterparty",
                    recipient=f"{receiver.name} ({notice.to_party} party), incident lead "
                    f"{receiver.contacts['incident_lead'].email}",
                    stages=(Stage(clock=notice.clock, window=notice.window),),
                    applies_when=notice.applies_when,
                    in_force_from=self.effective,
                    source=f"{self.origin or 'agreement'} {notice.clause}",
                    reviewed=self.effective or date(1970, 1, 1),
                    notes=f"Trigger: {notice.trigger}.",
                    kind="contract",
                    origin=self.origin,
                )
            )
        return rules


def parse_agreement(data: Any, source: str | Path) -> Agreement:
    if not isinstance(data, dict):
        raise InputError(source, None, None, "expected a mapping describing the agreement")
    try:
        return Agreement.model_validate({**data, "origin": str(source)})
    except ValidationError as exc:
        raise from_validation_error(exc, source) from None


def load_agreement(path: Path) -> Agreement:
    return parse_agreement(read_yaml(path), path)


def agreement_file(workspace: Path, given: Path | None) -> Path:
    """The agreement a command works with: ``--agreement`` when given, else the workspace's own."""
    if given is not None:
        return given
    default = workspace / "agreement.yaml"
    if not default.exists():
        raise InputError(
            "--agreement", None, None, f"no agreement given and {default} does not exist",
            "Pass --agreement FILE, or run `breachops init` to create a workspace with one to edit.",
        )  # fmt: skip
    return default

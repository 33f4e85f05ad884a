"""The people of a drill: each role a scenario names, at its party, resolved to the agreement's contact.

A drill stores its participants when it starts (``drills.participants``, a JSON list), so that the
people invited stay the ones written to however the agreement changes later; :class:`Participant` is
that entry read back, the one shape every drill operation and report works with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from breachops.config.agreements import Agreement
from breachops.errors import InputError
from breachops.playbooks.scenarios import Scenario

__all__ = ["Participant", "participants_of", "require_participant", "stored_participants"]


@dataclass(frozen=True)
class Participant:
    """One person of a drill. ``stands_in_for`` is the role this person covers when their party has no
    contact for it (their incident lead stands in); ``acting_role`` is the role they answer for."""

    party: str
    role: str
    name: str
    email: str
    timezone: str
    stands_in_for: str | None = None

    @property
    def acting_role(self) -> str:
        return self.stands_in_for or self.role

    def as_dict(self) -> dict[str, Any]:
        """The form the drill's record stores."""
        return {
            "party": self.party,
            "role": self.role,
            "name": self.name,
            "email": self.email,
            "timezone": self.timezone,
            "stands_in_for": self.stands_in_for,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Participant:
        """An entry of a drill's stored participants (see :meth:`as_dict`)."""
        return cls(
            party=str(data["party"]),
            role=str(data["role"]),
            name=str(data["name"]),
            email=str(data["email"]),
            timezone=str(data["timezone"]),
            stands_in_for=data.get("stands_in_for") or None,
        )


def stored_participants(stored: Iterable[Mapping[str, Any]]) -> list[Participant]:
    """A drill's stored participants (``drill.participants``), typed."""
    return [Participant.from_dict(entry) for entry in stored]


def participants_of(scenario: Scenario, agreement: Agreement) -> list[Participant]:
    """The people of the drill: each scenario role at its party, the incident lead standing in where
    the party has no contact for that role. Refused when a party is not in the agreement."""
    found: dict[str, Participant] = {}
    for wanted in scenario.participants:
        party = agreement.parties.get(wanted.party)
        if party is None:
            raise InputError(
                None,
                "participants",
                wanted.party,
                f"scenario {scenario.id} names a party the agreement {agreement.id} does not have",
                f"Parties in the agreement: {', '.join(agreement.parties)}.",
            )
        contact = party.contacts.get(wanted.role) or party.contacts.get("incident_lead")
        if contact is None:
            raise InputError(
                None,
                "participants",
                f"{wanted.role}@{wanted.party}",
                "has no contact and no incident lead to stand in",
                "Add the contact to the agreement.",
            )
        stands_in = None if wanted.role in party.contacts else wanted.role
        key = contact.email.lower()
        if key not in found:
            found[key] = Participant(
                wanted.party, wanted.role if stands_in is None else "incident_lead",
                contact.name, contact.email, contact.timezone, stands_in,
            )  # fmt: skip
    return list(found.values())


def require_participant(stored: Iterable[Mapping[str, Any]], drill_id: str, by: str) -> str:
    """``by`` (lower case) when it is a participant's address as the drill recorded it; else refused:
    only the drill's people speak for it."""
    who = by.strip().lower()
    if who not in {p.email.lower() for p in stored_participants(stored)}:
        raise InputError("--by", None, by, f"is not a participant of drill {drill_id}", "See `drill show`.")
    return who

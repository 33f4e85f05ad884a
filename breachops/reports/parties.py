"""Who acts on a contractual duty and who is told: the two parties of the agreement's notice clause.

A contract duty's jurisdiction is the agreement's governing law, which says nothing of who must act;
its clause does (`notice_windows[].from` and `.to`). Shown as ``receiving party (Horizonte) →
disclosing party (Nordlicht)``; scripts get each party's key and full name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from breachops.config.agreements import Agreement

__all__ = ["ContractParties", "PartyEnd", "contract_parties", "parties_json"]

# Words a company's name may start with that do not tell it apart.
_ARTICLES = frozenset({"the", "a", "an", "die", "der", "das", "o", "os", "as", "le", "la", "les"})


@dataclass(frozen=True, slots=True)
class PartyEnd:
    """One end of a notice clause: the party's key in the agreement and its name."""

    key: str
    name: str

    @property
    def short(self) -> str:
        """The name's first distinctive word (``Horizonte`` of ``Horizonte Automação Ltda.``)."""
        words = self.name.split()
        while len(words) > 1 and words[0].lower() in _ARTICLES:
            words = words[1:]
        return words[0].rstrip(",.;:") if words else self.key

    def label(self) -> str:
        return f"{self.key} party ({self.short})"

    def to_dict(self) -> dict[str, str]:
        return {"party": self.key, "name": self.name}


@dataclass(frozen=True, slots=True)
class ContractParties:
    acting: PartyEnd  # the party that must give notice
    told: PartyEnd  # the party to be told

    def label(self) -> str:
        return f"{self.acting.label()} → {self.told.label()}"


def contract_parties(agreement: Agreement | None, rule_id: str) -> ContractParties | None:
    """The parties of the notice clause a contract rule comes from (``contract-<clause id>``), or
    None for a law's rule or a clause the agreement no longer has."""
    if agreement is None or not rule_id.startswith("contract-"):
        return None
    for notice in agreement.notice_windows:
        if f"contract-{notice.id}" == rule_id:
            sender, receiver = agreement.parties[notice.from_party], agreement.parties[notice.to_party]
            return ContractParties(
                PartyEnd(notice.from_party, sender.name), PartyEnd(notice.to_party, receiver.name)
            )
    return None


def parties_json(agreement: Agreement | None, rule_id: str) -> dict[str, Any]:
    """The JSON fields an obligation gains: ``from_party`` and ``to_party`` (null for a law's duty)."""
    found = contract_parties(agreement, rule_id)
    return {
        "from_party": found.acting.to_dict() if found else None,
        "to_party": found.told.to_dict() if found else None,
    }

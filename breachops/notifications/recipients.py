"""Who may receive an incident's mail: the people its agreement names, and a drill's participants."""

from __future__ import annotations

from collections.abc import Callable, Collection

from breachops.bootstrap import App
from breachops.config.agreements import Agreement, Contact
from breachops.store.models import Drill, Incident

__all__ = ["agreement_contacts", "drill_participants"]


def agreement_contacts(agreement: Agreement) -> dict[str, tuple[str, Contact]]:
    """Address (lower case) → (party, contact) for every person of the agreement."""
    found: dict[str, tuple[str, Contact]] = {}
    for key, party in agreement.parties.items():
        for contact in party.contacts.values():
            found.setdefault(contact.email.lower(), (key, contact))
    return found


def drill_participants(app: App) -> Callable[[str], Collection[str]]:
    """A DrillGuard lookup: the participants a scenario drill recorded when it started; for a drill
    incident opened without a scenario, everyone its agreement lists."""

    def lookup(incident_id: str) -> Collection[str]:
        with app.transaction() as session:
            incident = session.get(Incident, incident_id)
            if incident is None or not incident.drill:
                return frozenset()
            drill = session.get(Drill, incident.drill_id) if incident.drill_id else None
            if drill is None:
                agreement = app.agreements.remember(incident.id, incident.agreement, incident.agreement_path)
                return frozenset(agreement_contacts(agreement))
            return frozenset(str(p["email"]).lower() for p in drill.participants)

    return lookup

"""A person records what became of an obligation: met (the notice went out) or waived (with a reason).

Completing a playbook step marks the obligations it serves; this is for the rest: a staged report's
later stage (the ANPD complement), a notice sent outside the playbook, a duty counsel decides does not
bind. Only a contact of the incident's agreement may record it; the audit log keeps who and why.
"""

from __future__ import annotations

from typing import Literal

from breachops.bootstrap import App
from breachops.errors import InputError
from breachops.services.checks import MAX_NOTE, check_text
from breachops.services.confirm import contacts_of
from breachops.store import Repository
from breachops.store.models import ObligationRow

__all__ = ["record_obligation"]

Outcome = Literal["met", "waived"]


def record_obligation(
    app: App, incident_id: str, key: str, outcome: Outcome, *, by: str, reason: str = ""
) -> ObligationRow:
    """Mark ``key`` (``rule/stage``, as `incident show` lists it) met or waived, in one transaction."""
    check_text("--by", by, max_length=254)
    if outcome == "waived" and not reason.strip():
        raise InputError("--reason", None, reason, "waiving an obligation needs a reason", "Say why.")
    if reason:
        check_text("--reason", reason, max_length=MAX_NOTE, newlines=True)
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        if incident.status != "open":
            raise InputError(None, None, None, f"incident {incident.id} is {incident.status}")
        agreement = app.agreements.of(session, [incident.id])[incident.id]
        if by.lower() not in contacts_of(agreement):
            raise InputError(
                "--by", None, by, "is not a contact of this incident's agreement",
                "An obligation is recorded met or waived by a person the agreement names.",
            )  # fmt: skip
        now = app.clock.now()
        if outcome == "met":
            return repo.mark_obligation_met(incident, key, by, now)
        return repo.waive_obligation(incident, key, reason, by, now)

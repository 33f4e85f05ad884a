"""Staged disclosure: a party keeps facts or steps of an incident internal, or shares them again.

What a mark hides, and from whom, is the console's to apply (``web/views.py``); the CLI, run on a
workspace machine, shows everything.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from breachops.bootstrap import App
from breachops.deadlines.models import Facts
from breachops.errors import InputError
from breachops.services.checks import check_text
from breachops.services.confirm import contacts_of
from breachops.services.incidents import agreement_of, playbook_of
from breachops.store import Repository, append_audit
from breachops.store.disclosures import DisclosureRecords

__all__ = ["DisclosureChange", "View", "change_disclosure", "record_views"]


@dataclass(frozen=True)
class DisclosureChange:
    party: str
    facts: list[str]  # newly marked (or lifted)
    steps: list[str]


def _known(kind: str, given: list[str], names: list[str], option: str) -> None:
    for name in given:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=3)
            hint = f"Did you mean {', '.join(close)}?" if close else f"Known {kind}s: {', '.join(names)}."
            raise InputError(option, None, name, f"is not a {kind} of this incident", hint)


def change_disclosure(
    app: App, incident_id: str, *, facts: list[str], steps: list[str], by: str, share: bool = False
) -> DisclosureChange:
    """Keep ``facts`` and ``steps`` internal to the party of ``by`` (``share``: lift that party's marks).
    Refused, with nothing stored, when ``by`` is not a contact of the incident's agreement, a name is
    not a fact or step of the incident, or another party keeps the item internal."""
    check_text("--by", by, max_length=254)
    if not facts and not steps:
        hint = "Example: --fact jurisdictions --step freeze-access"
        raise InputError("--fact/--step", None, None, "name at least one fact or step", hint)
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        party = contacts_of(agreement_of(app, incident)).get(by.strip().lower())
        if party is None:
            hint = "Use the email address the agreement lists for you: a mark keeps an item to your party."
            raise InputError("--by", None, by, "is not a contact in the incident's agreement", hint)
        _known("fact", facts, sorted(Facts.model_fields), "--fact")
        _known("step", steps, [s.id for s in playbook_of(incident).steps()], "--step")
        records = DisclosureRecords(session)
        change = records.share if share else records.mark_internal
        now, actor = app.clock.now(), by.strip().lower()
        try:
            done_facts = change(incident.id, "fact", facts, party, actor, now) if facts else []
            done_steps = change(incident.id, "step", steps, party, actor, now) if steps else []
        except ValueError as exc:
            hint = "Only the party that keeps an item internal may share it."
            raise InputError("--fact/--step", None, None, str(exc), hint) from None
    return DisclosureChange(party, done_facts, done_steps)


class View(NamedTuple):
    """One incident or step page served to a person."""

    incident_id: str
    email: str
    page: str
    at: datetime


def record_views(app: App, views: Sequence[View]) -> int:
    """Record an ``incident.viewed`` event for each view by a person of a party other than the opener's
    (every view, when the opener is not a contact of the agreement), in one transaction; return how many
    were recorded."""
    recorded = 0
    with app.transaction() as session:
        repo = Repository(session)
        for view in views:
            incident = repo.get_incident(view.incident_id)
            parties = contacts_of(agreement_of(app, incident))
            email = view.email.strip().lower()
            opener = parties.get(incident.opened_by.strip().lower())
            if opener is not None and parties.get(email) == opener:
                continue
            payload = {"viewer": email, "party": parties.get(email), "page": view.page}
            append_audit(session, incident.id, "incident.viewed", payload, email, view.at)
            recorded += 1
    return recorded

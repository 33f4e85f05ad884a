"""Who may use the console: the contacts of the agreements, and what each of them may see.

A person is known by the email address an agreement lists for them (the workspace's agreement or the
snapshot of any incident). They see the incidents and drills of the agreements they are in, and
nothing else; a session opened from a step's link sees that one incident only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breachops.bootstrap import App
from breachops.config.agreements import Agreement, Contact, load_agreement
from breachops.errors import InputError
from breachops.store.database import Session
from breachops.store.repository import Repository

__all__ = ["Person", "Viewer", "contact_in", "find_person", "visible"]


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    timezone: str


@dataclass(frozen=True)
class Viewer:
    """The signed-in person of one request."""

    email: str
    name: str
    timezone: str
    scope: str | None  # an incident id when the session came from a step's link
    csrf: str

    def may_open(self, incident_id: str) -> bool:
        return self.scope is None or self.scope == incident_id


def contact_in(agreement: Agreement, email: str) -> tuple[str, str, Contact] | None:
    """(party, role, contact) of ``email`` in ``agreement``, if it lists them."""
    wanted = email.strip().lower()
    for party, found in agreement.parties.items():
        for role, contact in found.contacts.items():
            if contact.email.lower() == wanted:
                return party, role, contact
    return None


_WORKSPACE_AGREEMENT: dict[Path, tuple[tuple[int, int], Agreement]] = {}


def _workspace_agreement(path: Path) -> Agreement | None:
    """The workspace's agreement, read again only when the file changes (every request asks)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _WORKSPACE_AGREEMENT.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        agreement = load_agreement(path)
    except InputError:  # a half-edited file must not lock everyone out; incidents still count
        return None
    _WORKSPACE_AGREEMENT[path] = (stamp, agreement)
    return agreement


def _agreements(app: App, session: Session) -> Iterable[Agreement]:
    default = _workspace_agreement(app.workspace / "agreement.yaml")
    if default is not None:
        yield default
    ids = Repository(session).incident_ids()
    yield from app.agreements.of(session, ids).values()


def find_person(app: App, session: Session, email: str) -> Person | None:
    for agreement in _agreements(app, session):
        found = contact_in(agreement, email)
        if found is not None:
            contact = found[2]
            return Person(contact.email.lower(), contact.name, contact.timezone)
    return None


def visible(app: App, session: Session, viewer: Viewer, incidents: list[Any]) -> list[Any]:
    """The incidents (drills included) whose agreement lists the viewer, within the session's scope."""
    allowed = [i for i in incidents if viewer.may_open(i.id)]
    agreements = app.agreements.of(session, [i.id for i in allowed])
    return [i for i in allowed if i.id in agreements and contact_in(agreements[i.id], viewer.email)]

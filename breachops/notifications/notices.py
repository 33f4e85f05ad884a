"""The messages of an incident's life besides reminders: opened, step assigned, daily digest, drafts.

Each is queued through the same idempotent outbox as reminders, with a key made of what it is about
(``<incident>|<kind>|...|<party>.<role>``), so a replayed flow or a repeated tick never queues it twice.
Drafts go to the parties' own people for approval; nothing here addresses a regulator or an affected
person. The key and recipients of each kind are listed in docs/notices.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from breachops.bootstrap import App
from breachops.config.agreements import Agreement, Contact
from breachops.deadlines.reminders import notifiers_of
from breachops.notifications.disclosures import shared_with_authorities
from breachops.notifications.drafts import (
    REGULATORY_KINDS,
    DraftWriter,
    plan_drafts,
    regimes_for,
    window_zones,
)
from breachops.notifications.keys import fit_key
from breachops.notifications.regimes import Regimes
from breachops.notifications.render import render
from breachops.store import Repository
from breachops.store.audit import heads_of
from breachops.store.models import Incident, ObligationRow, StepRow
from breachops.timefmt import stored_instant

if TYPE_CHECKING:  # the console builds the links; messages only carry them
    from breachops.web.links import StepLinks

__all__ = [
    "DIGEST_HOUR",
    "DRAFT_KINDS",
    "Notices",
    "digest_instant",
    "next_digest_after",
    "notify",
    "queue_due_digests",
]

DIGEST_HOUR = 7
"""The daily digest goes out at this hour, UTC: morning in Europe, night before in the Americas."""
DRAFT_KINDS = {"counterparty": "counterparty_notice_draft", **REGULATORY_KINDS}
_TEAMS = ("disclosing", "receiving")


class Notices:
    """Queues one incident's messages inside the caller's transaction (``repo``)."""

    def __init__(
        self,
        repo: Repository,
        incident: Incident,
        now: datetime,
        *,
        agreement: Agreement,
        template_dir: Path | None = None,
        participants: Collection[str] | None = None,
        regimes: Callable[[], Regimes] | None = None,
        zones: Callable[[], Mapping[tuple[str, str], str]] | None = None,
        links: StepLinks | None = None,
    ) -> None:
        self.repo = repo
        # Read only when a draft is made: a broken regime file must not stop the other messages.
        self._regimes = regimes or functools.partial(regimes_for, None)
        self._zones = zones or dict  # rule stage -> window time zone: the recipient's zone in drafts
        self.links = links  # signed links to the console's step pages, when a console URL is known
        self.incident = incident
        self.now = now
        self.template_dir = template_dir
        self.agreement = agreement  # the incident's snapshot, from ``App.agreements`` (parsed once)
        # A drill only ever writes to its participants; a real incident to anyone in the agreement.
        self._allowed = {a.lower() for a in participants} if participants is not None else None

    # ---- who -------------------------------------------------------------------------------------

    def contact(self, party: str, role: str) -> tuple[str, Contact] | None:
        """The person with ``role`` at ``party``, else that party's incident lead."""
        found = self.agreement.parties.get(party)
        if found is None:
            return None
        if role in found.contacts:
            return role, found.contacts[role]  # type: ignore[index]
        return "incident_lead", found.contacts["incident_lead"]

    def _people(self, wanted: Iterable[tuple[str, str]]) -> list[tuple[str, Contact]]:
        """``party.role`` label and contact for each wanted (party, role), each address once."""
        seen: dict[str, tuple[str, Contact]] = {}
        for party, role in wanted:
            found = self.contact(party, role)
            if found is None:
                continue
            label, person = f"{party}.{found[0]}", found[1]
            if self._allowed is not None and person.email.lower() not in self._allowed:
                continue
            seen.setdefault(person.email.lower(), (label, person))
        return list(seen.values())

    # ---- the messages ----------------------------------------------------------------------------

    def incident_opened(self) -> list[str]:
        facts = self.incident.facts
        steps = [s for s in self.repo.steps(self.incident.id) if s.status in ("pending", "waiting")]
        obligations = [
            o for o in self.repo.obligations(self.incident.id) if o.status not in ("met", "waived")
        ]
        lead = self._lead()
        context = {
            "incident": {
                "id": self.incident.id,
                "title": self.incident.title,
                "summary": str(facts.get("summary") or self.incident.title),
                "aware_at": stored_instant(facts.get("aware_at")) or self.incident.opened_at,
                "opened_at": self.incident.opened_at,
            },
            "opened_by": self.incident.opened_by,
            "lead": {"name": lead.name, "email": lead.email},
            "obligations": [{"title": o.title, "citation": o.citation, "due_at": o.due} for o in obligations],
            "first_steps": [
                {"title": s.title, "owner": _owner_label(s), "due_at": s.due}
                for s in sorted(steps, key=lambda s: (s.due is None, s.due))[:5]
            ],
        }
        people = [(party, role) for party in _TEAMS for role in self._roles(party)]
        return self._queue("incident_opened", "incident_opened", people, context)

    def step_assigned(self, step: StepRow, description: str, gate: str | None) -> list[str]:
        context = {
            "incident": {"id": self.incident.id, "title": self.incident.title},
            "step": {
                "title": step.title,
                "phase": step.phase,
                "description": description,
                "due_at": step.due,
                "gate": gate,
            },
            "assigned_by": "the playbook " + (self.incident.playbook_name or ""),
        }
        parties = _TEAMS if step.owner_party == "both" else (step.owner_party,)
        owners = [(p, step.owner_role) for p in parties]
        return self._queue("step_assigned", f"step_assigned|{step.step_id}", owners, context, step.step_id)

    def digest(self, instant: datetime) -> list[str]:
        """The digest of ``instant`` (a day's ``DIGEST_HOUR``), as things stand now."""
        day = instant.astimezone(UTC).date().isoformat()
        if all(
            k is not None
            for k in self._existing_keys(f"digest|{day}", [(p, "incident_lead") for p in _TEAMS])
        ):
            return []  # already queued: skip reading and rendering
        steps = [s for s in self.repo.steps(self.incident.id) if s.status not in ("done", "skipped")]
        obligations = self.repo.obligations(self.incident.id)
        recent = self.repo.fact_events(self.incident.id)
        head = heads_of(self.repo.session, [self.incident.id]).get(self.incident.id)
        context = {
            # The record's head as the digest is written: a witness in each lead's mailbox.
            "audit_head": None if head is None else {"seq": head[0], "hash": head[1]},
            "incident": {
                "id": self.incident.id,
                "title": self.incident.title,
                "status": self.incident.status,
                "phase": steps[0].phase if steps else "done",
            },
            "as_of": self.now,
            "open_steps": [
                {
                    "title": s.title,
                    "owner": _owner_label(s),
                    "due_at": s.due,
                    "overdue": s.due is not None and s.due <= self.now,
                }
                for s in steps
            ],
            "obligations": [
                {"title": o.title, "status": _digest_status(o.status), "due_at": o.due} for o in obligations
            ],
            "recent": [
                {"at": e.recorded_at, "summary": f"{e.field} set to {e.new_value!r} ({e.source})"}
                for e in recent
                if e.recorded_at > self.now - timedelta(hours=24) and e.source != "open"
            ],
        }
        return self._queue("digest", f"digest|{day}", [(p, "incident_lead") for p in _TEAMS], context)

    def catalogue_changed(
        self, fingerprint: str, rules: list[dict[str, Any]], changes: list[dict[str, Any]]
    ) -> list[str]:
        """The rule catalogue changed this incident's obligations: tell the people who answer for them."""
        context = {
            "incident": {"id": self.incident.id, "title": self.incident.title},
            "as_of": self.now,
            "rules": rules,
            "changes": changes,
        }
        people = [(p, r) for p in _TEAMS for r in ("incident_lead", "legal", "dpo")]
        return self._queue("catalogue_changed", f"catalogue_changed|{fingerprint[:16]}", people, context)

    def drafts(self, obligations: Iterable[ObligationRow]) -> list[str]:
        """A draft per open obligation for its approvers; obligations with the same notice and the same
        recipient share one draft (its key names every obligation it serves, in a stable order)."""
        queued: list[str] = []
        notifier = notifiers_of(self.agreement)
        closed = ("met", "waived", "withdrawn")
        rows = [r for r in obligations if r.audience in DRAFT_KINDS and r.status not in closed and r.due]
        for row in (r for r in rows if r.audience == "counterparty"):
            party = notifier.get(row.rule_id, "receiving")
            people = [(party, "incident_lead"), (party, "legal")]
            kind = DRAFT_KINDS["counterparty"]
            queued += self._queue(kind, f"{kind}|{row.key}", people, self._counterparty_context(row, party))
        plans = plan_drafts((r for r in rows if r.audience != "counterparty"), self.regimes())
        people = [(p, r) for p in _TEAMS for r in ("dpo", "legal")]
        for plan in plans:
            if all(k is not None for k in self._existing_keys(plan.what, people)):
                continue  # already queued: skip rendering
            queued += self._queue(plan.kind, plan.what, people, self._writer().context(plan))
        return queued

    # ---- contexts --------------------------------------------------------------------------------

    def regimes(self) -> Regimes:
        return self._regimes()

    def _writer(self) -> DraftWriter:
        return DraftWriter(
            self.incident, self.agreement, self.repo.steps(self.incident.id), self.now,
            regimes=self.regimes(), template_dir=self.template_dir, zones=self._zones(),
        )  # fmt: skip

    def _counterparty_context(self, row: ObligationRow, party: str) -> dict[str, Any]:
        facts = self.incident.facts
        window = next((n for n in self.agreement.notice_windows if f"contract-{n.id}" == row.rule_id), None)
        to_key = window.to_party if window else ("disclosing" if party != "disclosing" else "receiving")
        to_party = self.agreement.parties[to_key]
        sender = self.agreement.parties[party]
        glossary = [{"term": t, "definition": d} for t, d in self.agreement.glossary.items()]
        return {
            "incident": self._incident_facts(),
            "agreement": {"title": self.agreement.title, "clause": window.clause if window else row.citation},
            "from_party": {"name": sender.name},
            "to_party": {
                "name": to_party.name,
                "contact_name": to_party.contacts["incident_lead"].name,
                "timezone": to_party.contacts["incident_lead"].timezone,
            },
            "due_at": row.due,
            "discovered_at": stored_instant(facts.get("discovered_at")),
            "what_happened": facts.get("summary"),
            "information": list(facts.get("data_categories", [])),
            "measures_taken": self._measures(),
            "next_update_at": None,
            "contact": self._person(sender.contacts["incident_lead"]),
            "disclosures": shared_with_authorities(
                self.repo.obligations(self.incident.id), self.repo.steps(self.incident.id), facts
            ),
            "glossary": glossary,
        }

    def _incident_facts(self) -> dict[str, Any]:
        aware = stored_instant(self.incident.facts.get("aware_at")) or self.incident.opened_at
        return {"id": self.incident.id, "title": self.incident.title, "aware_at": aware}

    def _measures(self) -> list[str]:
        """What the done steps record: their titles, as a start for the person editing the draft."""
        return [s.title for s in self.repo.steps(self.incident.id) if s.status == "done"]

    @staticmethod
    def _person(contact: Contact) -> dict[str, Any]:
        return {"name": contact.name, "email": contact.email, "phone": None}

    def _lead(self) -> Contact:
        for party in _TEAMS:
            lead = self.agreement.parties[party].contacts["incident_lead"]
            if lead.email.lower() == self.incident.opened_by.lower():
                return lead
        return self.agreement.parties["disclosing"].contacts["incident_lead"]

    def _roles(self, party: str) -> list[str]:
        found = self.agreement.parties.get(party)
        return list(found.contacts) if found else []

    # ---- queueing --------------------------------------------------------------------------------

    def _existing_keys(self, what: str, wanted: Iterable[tuple[str, str]]) -> list[str | None]:
        found = []
        for label, _ in self._people(wanted):
            key = fit_key(f"{self.incident.id}|{what}|{label}")
            found.append(key if self.repo.get_message_by_key(key) is not None else None)
        return found

    def _link(self, step_id: str, email: str) -> str | None:
        return self.links.url(self.incident.id, step_id, email, self.now) if self.links else None

    def _queue(
        self,
        kind: str,
        what: str,
        wanted: Iterable[tuple[str, str]],
        context: dict[str, Any],
        step_id: str | None = None,
    ) -> list[str]:
        queued: list[str] = []
        for label, person in self._people(wanted):
            key = fit_key(f"{self.incident.id}|{what}|{label}")
            if self.repo.get_message_by_key(key) is not None:
                continue
            recipient = {"name": person.name, "email": person.email, "timezone": person.timezone}
            extra = {"action_url": self._link(step_id, person.email)} if step_id is not None else {}
            rendered = render(
                kind, {**context, **extra, "recipient": recipient}, drill=self.incident.drill,
                template_dir=self.template_dir,
            )  # fmt: skip
            made = self.repo.queue_message(
                idempotency_key=key, kind=kind, template=kind, recipients=[person.email],
                subject=rendered.subject, body_text=rendered.text, body_html=rendered.html, at=self.now,
                incident_id=self.incident.id, drill=self.incident.drill, actor="notices",
            )  # fmt: skip
            if made.created:
                queued.append(key)
        return queued


def digest_instant(opened_at: datetime, now: datetime) -> datetime | None:
    """The latest digest instant at or before ``now`` that comes after the incident opened, if any."""
    today = datetime.combine(now.astimezone(UTC).date(), time(DIGEST_HOUR), UTC)
    latest = today if today <= now else today - timedelta(days=1)
    return latest if latest > opened_at else None


def next_digest_after(now: datetime) -> datetime:
    today = datetime.combine(now.astimezone(UTC).date(), time(DIGEST_HOUR), UTC)
    return today if today > now else today + timedelta(days=1)


def notify(
    app: App, incident_id: str, make: Callable[[Notices], list[str]], now: datetime | None = None
) -> list[str]:
    """Run ``make`` on the incident's :class:`Notices` in a transaction of its own; return new keys."""
    from breachops.notifications.outbox import drill_participants

    participants = drill_participants(app)(incident_id)  # before the write transaction: SQLite has one writer
    folder = app.workspace / "templates"
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        agreement = app.agreements.remember(incident.id, incident.agreement, incident.agreement_path)
        notices = Notices(
            repo, incident, now or app.clock.now(), agreement=agreement,
            template_dir=folder if folder.is_dir() else None,
            participants=participants if incident.drill else None,
            regimes=functools.partial(regimes_for, app.workspace / "regimes"),
            zones=lambda: window_zones(app.catalogue), links=app.step_links(),
        )  # fmt: skip
        return make(notices)


def queue_due_digests(app: App, now: datetime) -> list[str]:
    """Today's digest of every open incident, once (keys carry the date)."""
    with app.transaction() as session:
        opened = [(i.id, i.opened_at) for i in Repository(session).list_incidents(True, "open")]
    queued: list[str] = []
    for incident_id, opened_at in opened:
        instant = digest_instant(opened_at, now)
        if instant is not None:
            queued += notify(app, incident_id, functools.partial(Notices.digest, instant=instant), now)
    return queued


def _owner_label(step: StepRow) -> str:
    return f"{step.owner_role.replace('_', ' ').capitalize()} ({step.owner_party})"


def _digest_status(status: str) -> str:
    return {"overdue": "pending", "awaiting": "pending", "withdrawn": "waived"}.get(status, status)

"""Incidents: open one, read its snapshots (facts, agreement, playbook), recompute, close.

No Prefect here: these are plain transactions over the store, so that the CLI, a flow task and a test
do exactly the same thing. Every input is validated before anything is written, and each operation is
one transaction (its audit events included). Fact changes are in ``facts.py``, steps in ``steps.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from breachops.bootstrap import App
from breachops.config.agreements import Agreement
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts, parse_facts
from breachops.errors import InputError
from breachops.notifications.notices import Notices
from breachops.notifications.render import render
from breachops.notifications.samples import sample_context
from breachops.playbooks import Playbook, parse_playbook
from breachops.services.checks import MAX_NOTE, MAX_TITLE, check_fact_instants, check_text
from breachops.services.confirm import contacts_of
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.models import Drill, Incident
from breachops.store.obligations import UNMET_STATUSES, ObligationDiff
from breachops.store.steps import StepPlan

__all__ = [
    "agreement_of",
    "close_incident",
    "facts_of",
    "missing_owners",
    "open_incident",
    "playbook_of",
    "recompute",
    "recompute_obligations",
    "record_of",
    "require_open",
]


def facts_of(incident: Incident) -> Facts:
    return parse_facts(dict(incident.facts), f"incident {incident.id} facts")


def agreement_of(app: App, incident: Incident) -> Agreement:
    """The incident's agreement snapshot, parsed once per process (``App.agreements``)."""
    return app.agreements.remember(incident.id, incident.agreement, incident.agreement_path)


def playbook_of(incident: Incident) -> Playbook:
    if incident.playbook is None:
        raise InputError(None, None, None, f"incident {incident.id} has no playbook snapshot")
    return parse_playbook(dict(incident.playbook), f"{incident.playbook_name}@{incident.playbook_version}")


def _events(incident: Incident, facts: Facts) -> dict[str, datetime | None]:
    return {
        "opened": incident.opened_at,
        "aware": facts.aware_at,
        "discovered": facts.clock("discovered"),
        "assessed": facts.assessed_at,
        "material": facts.material_at,
        "classified": facts.classified_at,
    }


def recompute(
    app: App,
    repo: Repository,
    incident: Incident,
    facts: Facts,
    actor: str,
    *,
    record_gaps: bool = True,
    agreement: Agreement | None = None,
) -> ObligationDiff:
    """Obligations are a pure function of the facts; steps tied to them follow. Where the catalogue
    knows nothing of a jurisdiction of the facts, the record says so: obligations there are unknown.

    ``agreement``: the one an incident being opened was given. Its snapshot is not cached before
    the opening commits, since a rolled-back id is handed out again, perhaps with another agreement."""
    now = app.clock.now()
    agreement = agreement or agreement_of(app, incident)
    result = assess(facts, app.catalogue, now=now, agreement=agreement)
    diff = repo.replace_obligations(incident, result.obligations, now, actor)
    if result.gaps and record_gaps:
        repo.record_coverage_gaps(incident, result.gaps, now, actor)
    playbook = playbook_of(incident)
    rows = repo.obligations(incident.id)
    events = _events(incident, facts)
    plans = [
        StepPlan(
            step_id=step.id,
            phase=playbook.phase_of(step.id),
            title=step.title,
            owner_role=step.owner.role,
            owner_party=step.owner.party,
            due=step.due.resolve(events, rows) if step.due else None,
        )
        for step in playbook.steps()
    ]
    repo.upsert_steps(incident, plans, actor, now)
    return diff


def recompute_obligations(
    app: App, repo: Repository, incident: Incident, actor: str, *, record_gaps: bool = True
) -> ObligationDiff:
    """Recompute an incident's obligations and step due times from its stored facts against the
    catalogue in use, in the caller's transaction: what a fact change does, for a changed catalogue."""
    return recompute(app, repo, incident, facts_of(incident), actor, record_gaps=record_gaps)


def record_of(facts: Facts, playbook: Playbook, agreement: Agreement) -> dict[str, Any]:
    """What an incident record keeps of the facts, playbook and agreement it was opened with, so that
    later reads never depend on files that may since have changed."""
    return {
        "facts": facts.model_dump(mode="json", exclude_none=True),
        "playbook_name": playbook.name,
        "playbook_version": playbook.version,
        "playbook": playbook.model_dump(mode="json", by_alias=True, exclude_none=True),
        "agreement": agreement.model_dump(mode="json", by_alias=True, exclude_none=True),
        "agreement_path": agreement.origin or None,
    }


def open_incident(
    app: App,
    *,
    facts: Facts,
    agreement: Agreement,
    playbook: Playbook,
    title: str,
    actor: str,
    drill: bool = False,
    drill_id: str | None = None,
) -> str:
    """Record a new incident, its facts, obligations and planned steps, and queue its first messages;
    return its id.

    Everything is checked before the first write (the title, who opens it, and the first messages'
    templates, rendered with the real title for every recipient), and the records and the first
    messages are one transaction: a refusal leaves the database exactly as it was. ``actor`` that is
    not a contact in the agreement is recorded, marked ``unverified`` in the audit event."""
    check_text("--title", title, max_length=MAX_TITLE)
    check_text("--by", actor, max_length=254)
    check_fact_instants(facts, "facts")
    verified = actor.lower() in contacts_of(agreement)
    template_dir = app.template_dir
    _preview_first_messages(agreement, playbook, title, actor, drill, template_dir)
    now = app.clock.now()
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.add_incident(
            title=title,
            opened_by=actor,
            opened_at=now,
            **record_of(facts, playbook, agreement),
            drill=drill,
            drill_id=drill_id,
            opened_by_verified=verified,
        )
        recompute(app, repo, incident, facts, actor, agreement=agreement)
        participants = _drill_people(session, agreement, drill_id) if drill else None
        notices = Notices(
            repo, incident, now, agreement=agreement, template_dir=template_dir, participants=participants
        )
        notices.incident_opened()  # both parties' incident teams
        return incident.id


def _preview_first_messages(
    agreement: Agreement, playbook: Playbook, title: str, actor: str, drill: bool, template_dir: Any
) -> None:
    """Render the opening message for every contact, and each step's assignment once, with the real
    title, names and steps and sample facts: a broken workspace template, or a title or step no
    subject can carry, is refused before anything is stored rather than in the flow afterwards."""
    context = sample_context("incident_opened")
    incident = {**context["incident"], "id": "INC-(new)", "title": title, "summary": title}
    context |= {"incident": incident, "opened_by": actor}
    recipients = [
        {"name": c.name, "email": c.email, "timezone": c.timezone}
        for party in agreement.parties.values()
        for c in party.contacts.values()
    ]
    for recipient in recipients:
        render("incident_opened", {**context, "recipient": recipient}, drill=drill, template_dir=template_dir)
    assigned = sample_context("step_assigned")
    for step in playbook.steps():
        check_text(f"playbook {playbook.ref}: step {step.id}: title", step.title, max_length=MAX_TITLE * 2)
        shown = {
            **assigned["step"], "title": step.title, "description": (step.description or "").strip(),
            "gate": step.gate.prompt,
        }  # fmt: skip
        values = {**assigned, "incident": incident, "step": shown, "recipient": recipients[0]}
        render("step_assigned", values, drill=drill, template_dir=template_dir)


def _drill_people(session: Any, agreement: Agreement, drill_id: str | None) -> set[str]:
    """Who a drill incident may write to: its drill's participants, else everyone in its agreement."""
    found = session.get(Drill, drill_id) if drill_id else None
    if found is None:
        return set(contacts_of(agreement))
    return {str(p["email"]).lower() for p in found.participants}


def missing_owners(playbook: Playbook, agreement: Agreement) -> list[str]:
    """Steps whose owner role has no contact at the owning party (their incident lead stands in)."""
    gaps = []
    for step in playbook.steps():
        for party in step.owner.parties:
            contacts = agreement.parties[party].contacts if party in agreement.parties else {}
            if step.owner.role not in contacts:
                gaps.append(f"{step.id} ({step.owner.role} @ {party})")
    return gaps


def require_open(incident: Incident) -> None:
    if incident.status != "open":
        raise InputError(
            None,
            None,
            None,
            f"incident {incident.id} is {incident.status}",
            "Closed incidents keep their record; open a new incident for new events.",
        )


def close_incident(
    app: App, incident_id: str, *, reason: str, actor: str, accept_pending: bool = False
) -> Incident:
    """Close an incident. Obligations still owed are named and the close refused, unless the closer
    accepts them (``accept_pending``): they are then recorded as ``closed-unmet``. Closing a drill's
    record stops the drill, so its clock stands still."""
    if not reason.strip():
        raise InputError("--reason", None, reason, "a reason is required", "Say why, for the record.")
    check_text("--reason", reason, max_length=MAX_NOTE, newlines=True)
    check_text("--by", actor, max_length=254)
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        require_open(incident)
        unmet = [o.key for o in repo.obligations(incident_id) if o.status in UNMET_STATUSES]
        if unmet and not accept_pending:
            raise InputError(
                None, None, None,
                f"{incident_id} has {len(unmet)} obligation(s) not met: {', '.join(unmet)}",
                "Mark them met or waive them first, or close with --accept-pending "
                "(they are recorded as closed-unmet).",
            )  # fmt: skip
        now = app.clock.now()
        if incident.drill:
            drills = DrillRepository(session)
            drill = drills.get_drill(incident_id)
            if drill.status == "running":
                drills.finish(drill, status="stopped", at=now, actor=actor)
        return repo.close_incident(incident, reason, actor, now, unmet=unmet)

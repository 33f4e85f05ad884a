"""Incident operations shared by the CLI and the flows: open, change facts, answer gates, close.

No Prefect here: these are plain transactions over the store, so that the CLI, a flow task and a test
do exactly the same thing. Every input is validated before anything is written, and each operation is
one transaction (its audit events included).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from breachops.bootstrap import App
from breachops.config.agreements import Agreement, parse_agreement
from breachops.deadlines.engine import assess, coverage_gaps
from breachops.deadlines.models import Facts, parse_facts
from breachops.deadlines.reminders import notifiers_of
from breachops.errors import InputError
from breachops.flows.checks import (
    MAX_NOTE,
    MAX_TITLE,
    check_fact_instants,
    check_instant,
    check_text,
    storable,
)
from breachops.flows.confirm import contacts_of, may_confirm
from breachops.notifications.notices import Notices, notify
from breachops.notifications.render import render
from breachops.notifications.samples import sample_context
from breachops.playbooks import Playbook, Step, parse_playbook
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.store.models import Drill, Incident, ObligationRow
from breachops.store.repository import UNMET_STATUSES, ObligationDiff, StepPlan

__all__ = [
    "MAX_NOTE",
    "MAX_TITLE",
    "FactsResult",
    "Progress",
    "agreement_of",
    "change_facts",
    "check_fact_instants",
    "check_instant",
    "check_text",
    "close_incident",
    "complete_step",
    "facts_of",
    "mark_waiting",
    "may_confirm",
    "missing_owners",
    "open_incident",
    "parse_assignments",
    "playbook_of",
    "progress",
    "recompute_obligations",
    "run_automatic_step",
]

_DONE = ("done", "skipped")


@dataclass(frozen=True)
class Progress:
    """Where an incident's playbook stands."""

    runnable: tuple[Step, ...]  # ready, no gate: the flow does them
    waiting: tuple[Step, ...]  # ready, gated: a person must answer
    done: frozenset[str]
    finished: bool
    closed: bool = False


@dataclass(frozen=True)
class FactsResult:
    changed: dict[str, Any]
    obligations: ObligationDiff = field(default_factory=ObligationDiff)
    gaps: tuple[str, ...] = ()  # jurisdictions of the facts whose obligations are unknown


def facts_of(incident: Incident) -> Facts:
    return parse_facts(dict(incident.facts), f"incident {incident.id} facts")


def agreement_of(incident: Incident) -> Agreement:
    return parse_agreement(
        dict(incident.agreement), incident.agreement_path or f"incident {incident.id} agreement"
    )


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


def _recompute(
    app: App, repo: Repository, incident: Incident, facts: Facts, actor: str, record_gaps: bool = True
) -> ObligationDiff:
    """Obligations are a pure function of the facts; steps tied to them follow. Where the catalogue
    knows nothing of a jurisdiction of the facts, the record says so: obligations there are unknown."""
    now = app.clock.now()
    result = assess(facts, app.catalogue, now=now, agreement=agreement_of(incident))
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


def recompute_obligations(app: App, repo: Repository, incident: Incident, actor: str) -> ObligationDiff:
    """Recompute an incident's obligations and step due times from its stored facts against the
    catalogue in use, in the caller's transaction: what a fact change does, for a changed catalogue."""
    return _recompute(app, repo, incident, facts_of(incident), actor)


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
    template_dir = _template_dir(app)
    _preview_first_messages(agreement, playbook, title, actor, drill, template_dir)
    now = app.clock.now()
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.add_incident(
            title=title,
            opened_by=actor,
            opened_at=now,
            facts=facts.model_dump(mode="json", exclude_none=True),
            playbook_name=playbook.name,
            playbook_version=playbook.version,
            playbook=playbook.model_dump(mode="json", by_alias=True, exclude_none=True),
            agreement=agreement.model_dump(mode="json", by_alias=True, exclude_none=True),
            agreement_path=agreement.origin or None,
            drill=drill,
            drill_id=drill_id,
            opened_by_verified=verified,
        )
        _recompute(app, repo, incident, facts, actor)
        participants = _drill_people(session, agreement, drill_id) if drill else None
        notices = Notices(repo, incident, now, template_dir=template_dir, participants=participants)
        notices.incident_opened()  # both parties' incident teams
        return incident.id


def _template_dir(app: App) -> Any:
    folder = app.workspace / "templates"
    return folder if folder.is_dir() else None


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


def _require_open(incident: Incident) -> None:
    if incident.status != "open":
        raise InputError(
            None,
            None,
            None,
            f"incident {incident.id} is {incident.status}",
            "Closed incidents keep their record; open a new incident for new events.",
        )


def parse_assignments(pairs: list[str], source: str = "--set") -> dict[str, Any]:
    """``field=value`` pairs from the command line. Lists are written ``a,b``; jurisdictions ``DE=120,BR``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(source, None, pair, "expected field=value", "Example: --set risk=high")
        out[name] = value.strip()
    return out


def _coerce_fact(name: str, value: Any) -> Any:
    """Command-line text into the shape a fact takes; the Facts model does the checking. Counts per
    jurisdiction are ``CODE=COUNT`` (or a code alone, count unknown), nothing looser."""
    if not isinstance(value, str):
        return value
    if value in ("", "null", "none", "-"):
        return None
    if name in ("data_categories", "sectors"):
        return [v.strip() for v in value.split(",") if v.strip()]
    if name == "jurisdictions":
        from breachops.playbooks import parse_jurisdiction_counts

        return parse_jurisdiction_counts(value, strict=True)
    return value


def _merge_jurisdictions(current: Any, given: Any) -> Any:
    """The recorded counts with the given ones put in by code: ``DE=12`` changes Germany's count
    and leaves every other jurisdiction as it was (a count is never dropped by naming another)."""
    if not isinstance(current, list) or not isinstance(given, list):
        return given
    merged = {entry.get("code"): entry for entry in current if isinstance(entry, dict)}
    merged.update({entry["code"]: entry for entry in given})
    return list(merged.values())


def change_facts(
    app: App,
    incident_id: str,
    changes: Mapping[str, Any],
    *,
    source: str,
    actor: str,
    label: str = "--set",
    merge_jurisdictions: bool = False,
) -> FactsResult:
    """Change facts, recompute obligations and step due times, and record every change.

    ``merge_jurisdictions``: given counts update the recorded list by code (``incident facts
    --set``); otherwise the given list replaces it (``--replace``, gate answers, drill injects)."""
    check_text("--by", actor, max_length=254)
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        _require_open(incident)
        return _change_facts(
            app, repo, incident, changes, source=source, actor=actor, label=label, merge=merge_jurisdictions
        )


def _change_facts(
    app: App,
    repo: Repository,
    incident: Incident,
    changes: Mapping[str, Any],
    *,
    source: str,
    actor: str,
    label: str,
    merge: bool = False,
) -> FactsResult:
    coerced = {}
    for name, value in changes.items():
        try:
            coerced[name] = _coerce_fact(name, value)
        except ValueError as exc:
            raise InputError(label, name, value, str(exc)) from None
    if merge and coerced.get("jurisdictions") is not None:
        coerced["jurisdictions"] = _merge_jurisdictions(
            incident.facts.get("jurisdictions"), coerced["jurisdictions"]
        )
    merged = {k: v for k, v in {**incident.facts, **coerced}.items() if v is not None}
    facts = check_fact_instants(parse_facts(merged, label), label)  # refused before anything is written
    canonical = facts.model_dump(mode="json", exclude_none=True)
    normalised = {name: canonical.get(name) for name in coerced}
    changed = repo.record_fact_changes(incident, normalised, source, actor, app.clock.now())
    if not changed:
        return FactsResult(changed={})
    diff = _recompute(app, repo, incident, facts, actor)
    return FactsResult(
        changed={k: v.new for k, v in changed.items()},
        obligations=diff,
        gaps=coverage_gaps(facts, app.catalogue),
    )


def complete_step(
    app: App,
    incident_id: str,
    step_id: str,
    answer: Mapping[str, Any] | None,
    *,
    by: str,
    note: str = "",
    source: str = "cli",
    on_behalf_of: str | None = None,
) -> FactsResult:
    """A person confirms a step (with the gate's typed answer). Refused, with nothing stored, when the
    step is unknown, already done, not yet reachable, the person may not confirm it (see
    :func:`may_confirm`), or the answer does not fit the gate."""
    check_text("--by", by, max_length=254)
    if note:
        check_text("--note", note, max_length=MAX_NOTE, newlines=True)
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        _require_open(incident)
        playbook = playbook_of(incident)
        ids = [s.id for s in playbook.steps()]
        if step_id not in ids:
            close = difflib.get_close_matches(step_id, ids, n=3)
            hint = (
                f"Did you mean {', '.join(close)}?"
                if close
                else f"`breachops incident show {incident_id}` lists them."
            )
            raise InputError(None, None, None, f"{incident_id}'s playbook has no step {step_id!r}", hint)
        step = playbook.step(step_id)
        rows = {row.step_id: row for row in repo.steps(incident_id)}
        if rows[step_id].status in _DONE:
            row = rows[step_id]
            raise InputError(
                None,
                None,
                None,
                f"step {step_id!r} of {incident_id} is already {row.status} "
                f"(by {row.completed_by} at {row.completed_at:%Y-%m-%d %H:%M} UTC)",
                "Nothing was changed.",
            )
        missing = [d for d in step.depends_on if rows[d].status not in _DONE]
        if missing:
            raise InputError(
                None,
                None,
                None,
                f"step {step_id!r} of {incident_id} is not ready yet",
                f"It waits for: {', '.join(missing)}.",
            )
        may_confirm(agreement_of(incident), step, by, on_behalf_of)
        values = step.validate_answer(answer or {}, source=f"answer to {step_id}")
        now = app.clock.now()
        changes = step.gate.fact_changes(values, now)
        recorded = {k: v for k, v in values.items() if v is not None}
        if note:
            recorded["note"] = note
        if on_behalf_of is not None:
            recorded["on_behalf_of"] = on_behalf_of
        recorded["source"] = source
        storable(recorded, f"answer to {step_id}")
        repo.set_step_status(incident, step_id, "done", by, now, answer=recorded)
        _meet_tied_obligations(repo, incident, step, by, now)
        if changes:
            return _change_facts(
                app, repo, incident, changes, source=f"gate:{step_id}", actor=by, label=f"answer to {step_id}"
            )
        return FactsResult(changed={})


def _meet_tied_obligations(repo: Repository, incident: Incident, step: Step, by: str, now: datetime) -> None:
    """A step whose due time is tied to obligations (``due: {obligation: ...}``) is the doing of them:
    once it is done, the open obligations it follows are met, which also stops their reminders. A
    contractual notice counts only for the party that owes it (the step's owner party).

    A staged duty (a first communication, then its complement) is met one stage per filing: the step
    meets the earliest open stage of each rule, and a later stage waits for its own filing."""
    if step.due is None or step.due.obligation is None:
        return
    notifier = notifiers_of(agreement_of(incident))
    parties = set(step.owner.parties)
    first_open: dict[str, ObligationRow] = {}
    for row in repo.obligations(incident.id):
        if row.status in ("met", "waived", "withdrawn") or not step.due.obligation.matches(row):
            continue
        owed_by = notifier.get(row.rule_id)
        if owed_by is not None and owed_by not in parties:
            continue
        earlier = first_open.get(row.rule_id)
        if earlier is None or _stage_order(row) < _stage_order(earlier):
            first_open[row.rule_id] = row
    for row in first_open.values():
        repo.mark_obligation_met(incident, row.key, by, now)


def _stage_order(row: ObligationRow) -> tuple[bool, datetime, int]:
    """Stages in the order they fall due (a later stage counts from the one before it)."""
    due = row.due if row.due is not None else datetime.max.replace(tzinfo=UTC)
    return (row.due is None, due if due.tzinfo else due.replace(tzinfo=UTC), row.id)


def progress(app: App, incident_id: str) -> Progress:
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        playbook = playbook_of(incident)
        rows = repo.steps(incident_id)
        done = frozenset(r.step_id for r in rows if r.status in _DONE)
        ready = playbook.ready_steps(done)
        runnable = tuple(s for s in ready if s.gate.type == "none")
        waiting = tuple(s for s in ready if s.gate.type != "none")
        finished = len(done) == len(playbook.steps())
        return Progress(runnable, waiting, done, finished, closed=incident.status != "open")


def mark_waiting(app: App, incident_id: str, step_ids: list[str]) -> None:
    """Mark steps as waiting for a person and tell their owners (step_assigned). A step that is the
    doing of notices (its due time is tied to obligations) also gets the drafts of those notices, for
    its owners' people to approve. Keys are deterministic, so a replayed flow queues nothing twice."""
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        now = app.clock.now()
        for row in repo.steps(incident_id):
            if row.step_id in step_ids and row.status == "pending":
                repo.set_step_status(incident, row.step_id, "waiting", "flow", now)
        playbook = playbook_of(incident)
    notify(app, incident_id, lambda notices: _assign(notices, playbook, step_ids))


def _assign(notices: Notices, playbook: Playbook, step_ids: list[str]) -> list[str]:
    queued: list[str] = []
    obligations = notices.repo.obligations(notices.incident.id)
    for row in notices.repo.steps(notices.incident.id):
        if row.step_id not in step_ids or row.status != "waiting":
            continue
        step = playbook.step(row.step_id)
        queued += notices.step_assigned(row, (step.description or "").strip(), step.gate.prompt)
        if step.due is not None and step.due.obligation is not None:
            tied = step.due.obligation
            queued += notices.drafts(o for o in obligations if tied.matches(o))
    return queued


def run_automatic_step(app: App, incident_id: str, step_id: str) -> bool:
    """Do a step that needs no person. Returns False when it was already done (a replayed flow)."""
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        row = repo.get_step(incident, step_id)
        if row.status in _DONE:
            return False
        now = app.clock.now()
        repo.set_step_status(incident, step_id, "running", "flow", now)
        repo.set_step_status(incident, step_id, "done", "flow", now, answer={"source": "flow"})
        return True


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
        _require_open(incident)
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

"""An incident's playbook steps: where the playbook stands, a person confirming a step (with the
gate's typed answer), steps marked waiting with their owners told, and automatic steps done."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from breachops.bootstrap import App
from breachops.config.agreements import Agreement
from breachops.deadlines.reminders import notifiers_of
from breachops.errors import InputError
from breachops.notifications.notices import Notices, notify
from breachops.playbooks import Playbook, Step
from breachops.services.checks import MAX_NOTE, check_text, storable
from breachops.services.confirm import may_confirm
from breachops.services.facts import FactsResult, apply_fact_changes
from breachops.services.incidents import agreement_of, playbook_of, require_open
from breachops.store import Repository
from breachops.store.models import Incident, ObligationRow

__all__ = ["DONE", "Progress", "complete_step", "mark_waiting", "progress", "run_automatic_step"]

DONE = ("done", "skipped")


@dataclass(frozen=True)
class Progress:
    """Where an incident's playbook stands."""

    runnable: tuple[Step, ...]  # ready, no gate: the flow does them
    waiting: tuple[Step, ...]  # ready, gated: a person must answer
    done: frozenset[str]
    finished: bool
    closed: bool = False


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
        require_open(incident)
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
        if rows[step_id].status in DONE:
            row = rows[step_id]
            raise InputError(
                None,
                None,
                None,
                f"step {step_id!r} of {incident_id} is already {row.status} "
                f"(by {row.completed_by} at {row.completed_at:%Y-%m-%d %H:%M} UTC)",
                "Nothing was changed.",
            )
        missing = [d for d in step.depends_on if rows[d].status not in DONE]
        if missing:
            raise InputError(
                None,
                None,
                None,
                f"step {step_id!r} of {incident_id} is not ready yet",
                f"It waits for: {', '.join(missing)}.",
            )
        agreement = agreement_of(app, incident)
        may_confirm(agreement, step, by, on_behalf_of)
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
        _meet_tied_obligations(repo, incident, agreement, step, by, now)
        if changes:
            return apply_fact_changes(
                app, repo, incident, changes, source=f"gate:{step_id}", actor=by, label=f"answer to {step_id}"
            )
        return FactsResult(changed={})


def _meet_tied_obligations(
    repo: Repository, incident: Incident, agreement: Agreement, step: Step, by: str, now: datetime
) -> None:
    """A step whose due time is tied to obligations (``due: {obligation: ...}``) is the doing of them:
    once it is done, the open obligations it follows are met, which also stops their reminders. A
    contractual notice counts only for the party that owes it (the step's owner party).

    A staged duty (a first communication, then its complement) is met one stage per filing: the step
    meets the earliest open stage of each rule, and a later stage waits for its own filing."""
    if step.due is None or step.due.obligation is None:
        return
    notifier = notifiers_of(agreement)
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
        done = frozenset(r.step_id for r in rows if r.status in DONE)
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
        if row.status in DONE:
            return False
        now = app.clock.now()
        repo.set_step_status(incident, step_id, "running", "flow", now)
        repo.set_step_status(incident, step_id, "done", "flow", now, answer={"source": "flow"})
        return True

"""A step the answers so far have made moot: skipped with the reason, not confirmed.

A step tied to obligations (``due: {obligation: ...}``) is the doing of them. When the facts the
answers revealed leave it nothing to do (no such obligation applies, or none has a clock running once
every step it depends on is answered: ``assess-materiality`` answered ``material: no``, so the
securities regulator's clock never starts), a scripted participant in ``--simulate`` must not confirm
"Disclose a material incident": the step is skipped, and the reason names the answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from breachops.bootstrap import App
from breachops.playbooks import Playbook, Step
from breachops.store import Repository
from breachops.store.models import ObligationRow, StepRow

__all__ = ["moot_reason", "skip_if_moot"]

_SETTLED = ("withdrawn",)


def moot_reason(
    step: Step, obligations: Sequence[ObligationRow], answers: Mapping[str, Mapping[str, Any] | None]
) -> str | None:
    """Why ``step`` has nothing left to do, or None. ``answers``: the recorded answers of the steps
    it depends on (by step id)."""
    if step.due is None or step.due.obligation is None:
        return None
    ref = step.due.obligation
    what = f"rule {ref.rule}" if ref.rule else f"{ref.audience} obligation"
    matching = [o for o in obligations if ref.matches(o) and o.status not in _SETTLED]
    revealed = _revealed(step, answers)
    if not matching:
        return f"no {what} applies to the facts" + (f" ({revealed})" if revealed else "")
    if all(o.due is None for o in matching) and revealed:
        return f"no {what} has its clock started by the answers ({revealed})"
    return None


def _revealed(step: Step, answers: Mapping[str, Mapping[str, Any] | None]) -> str:
    """The yes/no answers of the steps ``step`` depends on, as a person reads them."""
    said = []
    for dependency in step.depends_on:
        for name, value in (answers.get(dependency) or {}).items():
            if isinstance(value, bool):
                said.append(f"{dependency} answered {name}: {'yes' if value else 'no'}")
    return "; ".join(said)


def skip_if_moot(
    app: App, incident_id: str, playbook: Playbook, step_id: str, *, actor: str, source: str
) -> str | None:
    """Skip ``step_id`` with its reason (recorded in the step's answer and the audit log) when the
    answers have made it moot; returns the reason, or None when the step still has work to do."""
    step = playbook.step(step_id)
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        rows: dict[str, StepRow] = {r.step_id: r for r in repo.steps(incident_id)}
        answers = {d: rows[d].answer for d in step.depends_on if d in rows}
        reason = moot_reason(step, repo.obligations(incident_id), answers)
        if reason is None or rows[step_id].status in ("done", "skipped"):
            return None
        answer = {"skipped_because": reason, "source": source}
        repo.set_step_status(incident, step_id, "skipped", actor, app.clock.now(), answer=answer)
    return reason

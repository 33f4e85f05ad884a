"""The incident response flow: the playbook, step by step, waiting for people where it must.

The store is the source of truth for what is done. Each (re)execution reads where the incident stands,
runs the steps that need no person as tasks, and suspends when only gated steps are left. An answer
reschedules the run, which starts again from the top, skipping what is done; suspension keys follow the
steps done so far, so a replay meets its earlier suspensions and their answers (docs/runtime.md).
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.flow_runs import suspend_flow_run

from breachops.bootstrap import App, bootstrap
from breachops.errors import InputError
from breachops.flows.artifacts import publish_playbook_picture
from breachops.flows.gates import gate_input_model, split_answer
from breachops.flows.names import FLOW_NAME
from breachops.services.incidents import playbook_of, recompute_obligations
from breachops.services.steps import complete_step, mark_waiting, progress, run_automatic_step
from breachops.store import Repository

__all__ = ["incident_response"]
log = logging.getLogger("breachops.flows.incident")


@lru_cache(maxsize=1)
def _app() -> App:
    # The flow run's composition root: settings come from the environment `serve` runs in.
    return bootstrap()


def _step_key(parameters: dict[str, Any]) -> str:
    return f"{parameters['incident_id']}:{parameters['step_id']}"


@task(
    name="obligations",
    task_run_name="assess obligations",
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=1,
)
def assess_obligations(incident_id: str) -> int:
    """Recompute the incident's obligations from its facts (recorded only when something changed)."""
    app = _app()
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        if incident.status != "open":
            return 0
        # Gaps were recorded when the incident opened or its facts changed; a flow re-run adds none.
        recompute_obligations(app, repo, incident, "engine", record_gaps=False)
        return len(repo.obligations(incident_id))


@task(
    name="step",
    task_run_name="{phase} · {step_id}",
    cache_key_fn=lambda _context, parameters: _step_key(parameters),
    retries=3,
    retry_delay_seconds=1,
)
def perform_step(incident_id: str, step_id: str, phase: str) -> bool:
    """A step that needs no person. Idempotent: the store says whether it is already done."""
    return run_automatic_step(_app(), incident_id, step_id)


@task(name="answer", task_run_name="{phase} · {step_id} (answered in the UI)", cache_policy=NO_CACHE)
def record_answer(incident_id: str, step_id: str, phase: str, answer: dict[str, Any]) -> bool:
    """Apply an answer given in the Prefect UI's resume form, unless the CLI already recorded one."""
    if not str(answer.get("by") or "").strip():
        return False  # a wake-up from `breachops step done`: the answer is in the store already
    app = _app()
    current = progress(app, incident_id)
    if step_id in current.done or step_id not in {s.id for s in current.waiting}:
        return False
    try:
        complete_step(
            app,
            incident_id,
            step_id,
            split_answer(answer, step_id),
            by=str(answer.get("by", "")),
            note=str(answer.get("note", "")),
            source="prefect-ui",
            on_behalf_of=str(answer.get("on_behalf_of") or "") or None,
        )
    except InputError as exc:
        # The form let through an answer the gate refuses: the step stays waiting, and the log says why.
        log.warning("answer to %s refused: %s", step_id, exc)
        return False
    return True


@task(name="picture", task_run_name="show the playbook in Prefect", cache_policy=NO_CACHE)
def show_playbook(incident_id: str) -> None:
    """Steps and obligations as artifacts keyed by the incident (``flows/artifacts.py``). A failure to
    publish them is logged and never stops the playbook."""
    try:
        publish_playbook_picture(_app(), incident_id)
    except Exception:
        log.exception("could not publish the playbook's artifacts for %s", incident_id)


def _gate_key(done: frozenset[str], attempt: int) -> str:
    digest = hashlib.sha256(",".join(sorted(done)).encode()).hexdigest()[:12]
    return f"gate-{digest}-{attempt}"


@flow(name=FLOW_NAME, flow_run_name="{incident_id}", persist_result=True, log_prints=True)
def incident_response(incident_id: str) -> str:
    """Walk the incident's playbook: containment → investigation → remediation → notification."""
    app = _app()
    assess_obligations(incident_id)
    attempt = 0
    while True:
        where = progress(app, incident_id)
        if where.closed or where.finished:
            show_playbook(incident_id)
            return "closed" if where.closed else "completed"
        if where.runnable:
            phase_of = _phases_by_step(app, incident_id)
            futures = [
                perform_step.submit(incident_id, step.id, phase_of[step.id]) for step in where.runnable
            ]
            for future in futures:
                future.result()
            continue
        mark_waiting(app, incident_id, [s.id for s in where.waiting])
        show_playbook(incident_id)
        answer = suspend_flow_run(
            wait_for_input=gate_input_model(where.waiting),
            key=_gate_key(where.done, attempt),
            timeout=None,
        )
        # Reached when this suspension was already answered (the run is replaying after a resume).
        data = answer.model_dump() if hasattr(answer, "model_dump") else dict(answer or {})
        step_id = str(data.get("step", ""))
        phase = _phases_by_step(app, incident_id).get(step_id, "")
        applied = record_answer(incident_id, step_id, phase, data) if phase else False
        attempt = 0 if applied else attempt + 1


def _phases_by_step(app: App, incident_id: str) -> dict[str, str]:
    with app.transaction() as session:
        playbook = playbook_of(Repository(session).get_incident(incident_id))
    return {s.id: playbook.phase_of(s.id) for s in playbook.steps()}

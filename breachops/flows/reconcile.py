"""Every open incident has exactly one live flow run: `serve` checks at start and every few seconds.

An incident is recorded before its flow run is created; if Prefect refused or was away at that
moment (the CLI says so and exits), the incident has no run. `serve` creates it with the same
idempotency key the CLI used, so a CLI retrying at the same time gets the same run, never a second.
A run Prefect lost (its database reset) is created again; a crashed one is rescheduled (every step
is idempotent: a step done in the store is not run again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from breachops.bootstrap import App
from breachops.flows.prefect_api import PrefectAPI
from breachops.flows.runtime import PrefectRuntime

__all__ = ["reconcile_flow_runs"]

log = logging.getLogger("breachops.serve")

# An incident younger than this may still be getting its run from the CLI that opened it.
GRACE = timedelta(seconds=10)


@dataclass(frozen=True)
class _Open:
    id: str
    drill: bool
    flow_run_id: str | None
    young: bool


def reconcile_flow_runs(app: App, runtime: PrefectRuntime) -> list[str]:
    """Create or reschedule the runs open incidents lack; the ids of the incidents mended."""
    from breachops.flows.launcher import attach_run, create_run, drill_run_spec, incident_run_spec
    from breachops.store import Repository

    now = app.clock.now()
    with app.transaction() as session:
        incidents = [
            _Open(i.id, i.drill, i.flow_run_id, _aware(i.opened_at) > now - GRACE)
            for i in Repository(session).list_incidents(include_drills=True, status="open")
        ]
    mended: list[str] = []
    with PrefectAPI(runtime.api_url) as api:
        states = api.states([i.flow_run_id for i in incidents if i.flow_run_id])
        for incident in incidents:
            run = incident.flow_run_id
            if run and run in states:
                if (state := states[run]) is not None and state.type == "CRASHED":
                    log.warning("%s: flow run %s crashed; rescheduling", incident.id, run)
                    api.reschedule(run, "Recovering")
                    mended.append(incident.id)
                continue
            if run:
                log.warning("%s: Prefect lost flow run %s; creating one", incident.id, run)
            elif incident.young:
                continue
            else:
                log.warning("%s: open without a flow run; starting its playbook", incident.id)
            spec = drill_run_spec(incident.id) if incident.drill else incident_run_spec(incident.id)
            if run:  # Prefect lost it: a new key, or the server would say it exists
                spec = (*spec[:3], f"{spec[3]}:{run}")
            run_id = create_run(api, runtime, *spec)
            attach_run(app, incident.id, run_id, drill=incident.drill, actor="serve")
            mended.append(incident.id)
    return mended


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

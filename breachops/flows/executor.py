"""Runs breachops flow runs in this process: what `breachops serve` does all day.

Prefect's own runner starts a new Python process for every flow run (two to three seconds of imports,
and 150 MB each); an incident flow is mostly waiting at gates and runs for a second between them, so
`serve` claims scheduled runs of its deployments and runs them in a thread pool instead. A run that
suspends at a gate ends here with Prefect's ``Pause``; a person's answer reschedules it and the next
poll picks it up again, from wherever this process (or a restarted one) is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect import Flow, get_client
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterNextScheduledStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import Pause
from prefect.flow_engine import run_flow
from prefect.states import Pending, Scheduled

from breachops.clock import Clock, SystemClock

__all__ = ["FlowExecutor", "register_deployments"]

log = logging.getLogger("breachops.serve")


def register_deployments(flows: list[tuple[str, Flow[..., Any]]]) -> dict[UUID, Flow[..., Any]]:
    """Create or update one deployment (name, flow) per flow (served by this process: no work pool)."""
    out: dict[UUID, Flow[..., Any]] = {}
    for name, flow_ in flows:
        deployment: Any = flow_.to_deployment(name=name)  # sync here: no event loop is running
        deployment_id = deployment.apply()
        out[UUID(str(deployment_id))] = flow_
    return out


@dataclass
class FlowExecutor:
    """Claims scheduled runs of the given deployments and runs them on a thread pool."""

    deployments: dict[UUID, Flow[..., Any]]
    poll_seconds: float = 0.5
    max_workers: int = 8
    idle_poll_seconds: float = 2.0
    busy_seconds: float = 60.0  # poll fast this long after the last run ended
    clock: Clock = field(default_factory=SystemClock)
    _pool: ThreadPoolExecutor = field(init=False)
    _running: dict[UUID, Future[None]] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _poll_client: SyncPrefectClient | None = field(init=False, default=None)
    on_run_done: Callable[[], None] | None = None  # called when a run suspends or ends

    def __post_init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="breachops-flow")

    # -- recovery -----------------------------------------------------------------------------
    def recover_orphans(self) -> list[UUID]:
        """Reschedule runs left Running or Pending by a process that died (a SIGKILLed `serve`), or
        by a server that died under them (their state changes never reached it); not runs of ours
        still running.

        Safe because every step is idempotent: a step already done in the store is not run again.
        Only for a single `serve` per Prefect server (the embedded default); several serving
        processes share work through Prefect's work pools instead.
        """
        recovered: list[UUID] = []
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
                    )
                ),
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=list(self.deployments))),
            )
            for run in runs:
                with self._lock:
                    if run.id in self._running:
                        continue  # ours, and still running
                client.set_flow_run_state(run.id, Scheduled(name="Recovering"), force=True)
                recovered.append(run.id)
                log.warning("rescheduled flow run %s, left %s by a stopped process", run.id, run.state_name)
        return recovered

    # -- polling ------------------------------------------------------------------------------
    def _client(self) -> SyncPrefectClient:
        """One client for every poll: a new one each half second cost CPU and a CSRF-token request."""
        if self._poll_client is None:
            client = get_client(sync_client=True)
            client.__enter__()
            self._poll_client = client
        return self._poll_client

    def _drop_client(self) -> None:
        client, self._poll_client = self._poll_client, None
        if client is not None:
            try:
                client.__exit__(None, None, None)
            except Exception:  # closing a client whose server went away
                log.debug("closing the Prefect client failed", exc_info=True)

    def poll_once(self) -> list[UUID]:
        """Claim every due scheduled run and start it; returns the ids started."""
        try:
            return self._poll(self._client())
        except Exception:
            self._drop_client()  # a fresh connection next time (the server may have restarted)
            raise

    def _poll(self, client: SyncPrefectClient) -> list[UUID]:
        started: list[UUID] = []
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                next_scheduled_start_time=FlowRunFilterNextScheduledStartTime(
                    before_=self.clock.now()  # type: ignore[arg-type]  # a datetime is what it sends
                ),
            ),
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=list(self.deployments))),
            sort=FlowRunSort.NEXT_SCHEDULED_START_TIME_ASC,
            limit=self.max_workers * 4,
        )
        for run in runs:
            with self._lock:
                if run.id in self._running:
                    continue
            # Pending is the claim: the orchestrator refuses a second Pending, so two serving
            # processes never run the same flow run.
            result: Any = client.set_flow_run_state(run.id, Pending())
            if result.state is None or result.state.type != StateType.PENDING:
                continue
            flow_ = self.deployments.get(run.deployment_id) if run.deployment_id else None
            if flow_ is None:
                continue
            self._submit(flow_, run)
            started.append(run.id)
        return started

    def _submit(self, flow_: Flow[..., Any], run: FlowRun) -> None:
        future = self._pool.submit(self._execute, flow_, run)
        with self._lock:
            self._running[run.id] = future
        run_id = run.id
        future.add_done_callback(lambda _future: self._forget(run_id))

    def _forget(self, run_id: UUID) -> None:
        with self._lock:
            self._running.pop(run_id, None)
        if self.on_run_done is not None:
            try:
                self.on_run_done()
            except Exception:
                log.exception("after flow run %s", run_id)

    @staticmethod
    def _execute(flow_: Flow[..., Any], run: FlowRun) -> None:
        try:
            run_flow(flow_, flow_run=run, parameters=run.parameters, return_type="state")
        except Pause:
            pass  # suspended at a gate: the run waits in Prefect for a person's answer
        except BaseException:  # a failing flow must not take `serve` down with it
            log.exception("flow run %s ended with an error", run.id)

    @property
    def active(self) -> int:
        with self._lock:
            return len(self._running)

    def run_forever(
        self,
        stop: threading.Event,
        on_tick: Callable[[], None] | None = None,
        on_poll: Callable[[Exception | None], None] | None = None,
        wake: threading.Event | None = None,
    ) -> None:
        """Poll, tell ``on_poll`` whether it reached Prefect, run ``on_tick``; until ``stop`` is set.

        Every ``poll_seconds`` while runs are in flight or were lately; every ``idle_poll_seconds``
        when nothing happens (each poll costs the server a query). ``wake`` (set by the CLI's signal
        after it creates or resumes a run) ends the wait at once.
        """
        wake = wake or threading.Event()
        busy_until = 0.0
        while not stop.is_set():
            error: Exception | None = None
            try:
                if self.poll_once():
                    busy_until = time.monotonic() + self.busy_seconds
            except Exception as exc:  # the API may be restarting; try again next tick
                error = exc
                if on_poll is None:
                    log.exception("polling Prefect failed; retrying")
            if on_poll is not None:
                on_poll(error)
            if on_tick:
                try:
                    on_tick()
                except Exception:
                    log.exception("a periodic task failed; retrying at the next tick")
            if self.active:
                busy_until = time.monotonic() + self.busy_seconds
            busy = time.monotonic() < busy_until
            wake.wait(self.poll_seconds if busy else max(self.poll_seconds, self.idle_poll_seconds))
            wake.clear()

    def shutdown(self, wait: bool = True) -> None:
        self._drop_client()
        self._pool.shutdown(wait=wait, cancel_futures=False)

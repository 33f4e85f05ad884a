"""The reminder service: an APScheduler ``BackgroundScheduler`` that wakes the dispatcher on time.

Reminders are derived from the database at every tick; the scheduler only decides *when* to look. Two
jobs live in the application database: a one-shot wake-up at the next instant with work, and a safety
tick every 30 s. A stored job names a module-level function and a service id, never the service, so a
restarted process re-attaches its jobs. ``serve`` hosts it (docs/reminders.md).
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from breachops.bootstrap import App
from breachops.deadlines.reminders import ReminderPolicy
from breachops.notifications.action_reminders import queue_action_reminders
from breachops.notifications.channels.base import Channel
from breachops.notifications.models import Mailbox
from breachops.notifications.notices import next_digest_after, queue_due_digests
from breachops.notifications.outbox import (
    DispatchReport,
    dispatch,
    next_due,
    queue_due_reminders,
    recover_stuck,
)
from breachops.notifications.planner import ReminderPlanner
from breachops.notifications.senders import SenderPool

__all__ = ["JOB_TABLE", "SAFETY_JOB", "WAKE_JOB", "ReminderService"]

log = logging.getLogger("breachops.reminders")

JOB_TABLE = "apscheduler_jobs"
WAKE_JOB = "breachops-reminders-wake"
SAFETY_JOB = "breachops-reminders-safety"
DAY = timedelta(days=1)
_SERVICES: dict[str, ReminderService] = {}


def _run_tick(service_id: str) -> None:
    """What a stored job calls: the tick of the service registered under ``service_id`` in this process."""
    service = _SERVICES.get(service_id)
    if service is None:
        log.warning("no reminder service %s in this process; job ignored", service_id)
        return
    service.tick()


class ReminderService:
    """Queues due reminders and dispatches due messages, woken by APScheduler (or by ``tick()``)."""

    def __init__(
        self,
        app: App,
        channel: Channel,
        fallback: Channel | None = None,
        *,
        sender: Mailbox | None = None,
        policy: ReminderPolicy | None = None,
        max_attempts: int = 5,
        safety_seconds: float = 30.0,
        service_id: str = "default",
        claimant: str | None = None,
        batch: int = 200,
        senders: int = 1,
    ) -> None:
        self.app = app
        self.channel = channel
        self.fallback = fallback
        self.sender = sender
        # The workspace's reminder settings over the defaults; each agreement may override them again.
        self.policy = policy or ReminderPolicy().with_overrides(app.settings.reminders)
        self.planner = ReminderPlanner(app, self.policy)
        self.batch = batch
        # More than one: that many sender threads, each with its own connection (notifications/senders.py),
        # started by the first tick that sends and ended by stop().
        self.sender_threads = senders
        self.senders: SenderPool | None = None
        self._digests_checked: datetime | None = None
        self._stopping = False
        self.max_attempts = max_attempts
        self.safety_seconds = safety_seconds
        self.service_id = service_id
        # Its claims on messages: one name per machine and workspace, which a serve lock keeps to one
        # live process, so at start what it held is its dead predecessor's (docs/exactly-once.md).
        self.claimant = claimant or f"serve:{socket.gethostname()}:{app.workspace}"
        self.scheduler: BackgroundScheduler | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Take over rows a dead predecessor left in ``sending``, then start the jobs and tick once."""
        self._stopping = False
        recover_stuck(self.app, claimant=self.claimant)  # what this service held when it died
        _SERVICES[self.service_id] = self
        store = SQLAlchemyJobStore(engine=self.app.engine, tablename=JOB_TABLE)
        scheduler = BackgroundScheduler(
            jobstores={"default": store},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        scheduler.start()
        scheduler.add_job(
            "breachops.flows.scheduler:_run_tick", "interval", seconds=self.safety_seconds,
            args=[self.service_id], id=SAFETY_JOB, replace_existing=True,
        )  # fmt: skip
        self.scheduler = scheduler
        self._schedule_wake(self.app.clock.now())

    def stop(self) -> None:
        """Stop the jobs and wait for a tick under way (it no longer reschedules anything)."""
        self._stopping = True  # a tick under way ends after its current round
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            # Not wait=True: a job thread inside add_job would wait for the scheduler we are stopping.
            scheduler.shutdown(wait=False)
        with self._lock:
            _SERVICES.pop(self.service_id, None)
            if self.senders is not None:
                self.senders.close()
                self.senders = None

    def wake(self) -> None:
        """Look now, in the scheduler's thread: messages were just queued by another process (an
        incident opened with the CLI) or by a flow run (a step waiting for its owners)."""
        scheduler = self.scheduler
        if scheduler is not None and not self._stopping:
            scheduler.add_job(
                "breachops.flows.scheduler:_run_tick", "date", run_date=None,
                args=[self.service_id], id=WAKE_JOB, replace_existing=True,
            )  # fmt: skip

    def tick(self, now: datetime | None = None) -> DispatchReport:
        """Queue what is due, send what is due, and set the next wake-up. Safe to call at any time.

        Works in rounds of ``batch`` messages until a round finds less than a full batch, taking the
        time afresh each round (unless ``now`` is given), so reminders that fall due during a burst go
        out in the same tick instead of waiting for the next wake-up.
        """
        with self._lock:
            if self.senders is None and self.sender_threads > 1:
                self.senders = SenderPool(self.sender_threads, name="breachops-sender")
            report = DispatchReport()
            while True:
                at = now or self.app.clock.now()
                queue_due_reminders(self.app, at, planner=self.planner)
                queue_action_reminders(self.app, at)  # corrective actions before and after their due date
                if self._digests_checked is None or self._digests_checked < next_digest_after(at) - DAY:
                    queue_due_digests(self.app, at)  # at most once per digest hour (and at start)
                    self._digests_checked = at
                round_ = dispatch(
                    self.app, self.channel, at, fallback=self.fallback, max_attempts=self.max_attempts,
                    sender=self.sender, limit=self.batch, senders=self.senders, claimant=self.claimant,
                )  # fmt: skip
                report.add(round_)
                if round_.claimed < self.batch or self._stopping:
                    break
            self._schedule_wake(at, reread=False)  # the rounds above have just read the rows
            return report

    def next_wake(self, now: datetime | None = None, *, reread: bool = True) -> datetime | None:
        now = now or self.app.clock.now()
        found = next_due(self.app, now, planner=self.planner, reread=reread)
        digest = next_digest_after(now)  # the daily digests of the open incidents
        return digest if found is None else min(found, digest)

    def _schedule_wake(self, now: datetime, *, reread: bool = True) -> None:
        scheduler = self.scheduler
        if scheduler is None:
            return
        when = self.next_wake(now, reread=reread)
        if when is None:
            if scheduler.get_job(WAKE_JOB) is not None:
                scheduler.remove_job(WAKE_JOB)
            return
        # APScheduler runs on the system clock; wake a moment after the instant so it is really due.
        scheduler.add_job(
            "breachops.flows.scheduler:_run_tick", "date", run_date=when + timedelta(milliseconds=50),
            args=[self.service_id], id=WAKE_JOB, replace_existing=True,
        )  # fmt: skip

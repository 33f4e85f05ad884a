"""The outbox's public face: reminders become messages, messages become mail, and when to wake next.

    queue_due_reminders(app, now)          # reminders whose time has come → messages (reminder_queue.py)
    dispatch(app, channel, now, fallback=) # due messages → the channel, once each (dispatcher.py)
    recover_stuck(app, now)                # after a crash: rows left in ``sending`` (dispatcher.py)
    next_due(app, now)                     # the next instant either of the first two has work

How "once" holds is told in docs/exactly-once.md.
"""

from __future__ import annotations

from datetime import datetime

from breachops.bootstrap import App
from breachops.deadlines.reminders import ReminderPolicy
from breachops.notifications.delivery_alerts import ALERT_KIND
from breachops.notifications.dispatcher import (
    DEFAULT_SENDER,
    IN_DOUBT_PREFIX,
    PARKED,
    DispatchReport,
    dispatch,
    recover_stuck,
)
from breachops.notifications.keys import message_key
from breachops.notifications.planner import ReminderPlanner
from breachops.notifications.recipients import drill_participants
from breachops.notifications.reminder_queue import queue_due_reminders, queue_test_message
from breachops.store import Repository
from breachops.store.outbox_reads import next_waiting

__all__ = [
    "ALERT_KIND",
    "DEFAULT_SENDER",
    "IN_DOUBT_PREFIX",
    "PARKED",
    "DispatchReport",
    "dispatch",
    "drill_participants",
    "message_key",
    "next_due",
    "queue_due_reminders",
    "queue_test_message",
    "recover_stuck",
]


def next_due(
    app: App,
    now: datetime | None = None,
    *,
    policy: ReminderPolicy | None = None,
    planner: ReminderPlanner | None = None,
    reread: bool = True,
) -> datetime | None:
    """The next instant at which :func:`queue_due_reminders` or :func:`dispatch` has work: the earliest
    reminder not yet queued, retry or lease expiry after ``now`` (``now`` itself if something is due).
    ``reread=False``: the planner answers from the rows it read last (its caller has just read them)."""
    now = now or app.clock.now()
    candidates: list[datetime] = []
    with app.transaction() as session:
        if Repository(session).due_message_ids(now, limit=1):
            return now
        waiting = next_waiting(session, now, before=PARKED)
        if waiting is not None:
            candidates.append(waiting)
    reminder_at = (planner or ReminderPlanner(app, policy)).next_at(now, reread=reread)
    if reminder_at is not None:
        candidates.append(reminder_at)
    return min(candidates) if candidates else None

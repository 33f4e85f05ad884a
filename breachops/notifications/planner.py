"""Which reminders of the open incidents are due and not yet in the outbox, cheaply enough to ask often.

A :class:`ReminderPlanner` reads the open incidents' plan revisions, then the steps and obligations of
only those whose revision moved, and derives again for them; it remembers the outbox keys it has seen
(messages are never deleted, and queueing is idempotent by key, so a stale memory costs work, never a
duplicate).
Why: docs/reminders.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from breachops.bootstrap import App
from breachops.config.agreements import Agreement
from breachops.deadlines.reminders import Recipient, Reminder, ReminderPolicy, derive_reminders
from breachops.notifications.keys import message_key
from breachops.store.reminder_inputs import reminder_inputs

__all__ = ["DueReminder", "ReminderPlanner"]


@dataclass(frozen=True, slots=True)
class DueReminder:
    """One recipient's copy of a reminder whose time has come."""

    incident_id: str
    reminder: Reminder
    recipient: Recipient
    key: str


@dataclass(frozen=True, slots=True)
class _Plan:
    revision: int  # the incident's plan_rev its rows were read at
    reminders: tuple[Reminder, ...]
    copies: tuple[DueReminder, ...]  # one per reminder and recipient, by due time, keys worked out once


class ReminderPlanner:
    """Remembers each open incident's derived reminders and the outbox keys it has seen.

    ``policy_for`` gives the policy of one incident's agreement (the workspace policy with the
    agreement's own overrides); by default every incident gets ``policy``.
    """

    def __init__(self, app: App, policy: ReminderPolicy | None = None) -> None:
        self.app = app
        self.policy = policy or ReminderPolicy()
        self._plans: dict[str, _Plan] = {}
        self._queued: set[str] = set()
        self._seen_outbox = False

    def policy_for(self, agreement: Agreement) -> ReminderPolicy:
        return self.policy.with_overrides(agreement.reminders)

    def reminders(self) -> dict[str, tuple[Reminder, ...]]:
        """Every reminder of every open incident, sent or not, ordered by due time per incident."""
        return {incident_id: plan.reminders for incident_id, plan in self._refresh().items()}

    def _refresh(self) -> dict[str, _Plan]:
        """Read the open incidents' rows where their plan revision moved, and derive those again
        (docs/reminders.md)."""
        known = {incident_id: plan.revision for incident_id, plan in self._plans.items()}
        with self.app.transaction() as session:
            rows = reminder_inputs(
                session, outbox_keys=not self._seen_outbox, known=known if self._plans else None
            )
            agreements = self.app.agreements.of(session, rows.read)
        if rows.outbox_keys is not None:
            self._queued.update(rows.outbox_keys)
            self._seen_outbox = True
        steps_of = _group(rows.steps)
        obligations_of = _group(rows.obligations)
        plans: dict[str, _Plan] = {}
        for incident_id, opened_at, revision in rows.incidents:
            plan = self._plans.get(incident_id)
            if plan is None or plan.revision != revision:
                items_s, items_o = steps_of.get(incident_id, []), obligations_of.get(incident_id, [])
                agreement = agreements[incident_id]
                derived = tuple(
                    derive_reminders(
                        incident_id, items_o, items_s, agreement, self.policy_for(agreement), since=opened_at
                    )
                )
                copies = tuple(
                    DueReminder(incident_id, reminder, recipient, message_key(reminder.key, str(recipient)))
                    for reminder in derived
                    for recipient in reminder.recipients
                )
                plan = _Plan(revision, derived, copies)
            plans[incident_id] = plan
        self._plans = plans
        return plans

    def due(self, now: datetime) -> list[DueReminder]:
        """Copies of reminders due at ``now`` whose keys the planner has not seen in the outbox."""
        found = []
        for plan in self._refresh().values():
            for copy in plan.copies:
                if copy.reminder.due_at > now:
                    break
                if copy.key not in self._queued:
                    found.append(copy)
        return found

    def next_at(self, now: datetime, *, reread: bool = True) -> datetime | None:
        """The earliest due time of a reminder with a copy not yet queued (``now`` if one is overdue).
        ``reread=False`` answers from the rows read by the last call (a caller that has just read)."""
        earliest: datetime | None = None
        for plan in (self._refresh() if reread or not self._plans else self._plans).values():
            for copy in plan.copies:
                if earliest is not None and copy.reminder.due_at >= earliest:
                    break
                if copy.key not in self._queued:
                    earliest = max(copy.reminder.due_at, now)
                    break
        return earliest

    def queued(self, keys: Iterable[str]) -> None:
        """Note keys now known to be in the outbox."""
        self._queued.update(keys)


def _group(rows: Iterable[Any]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.incident_id, []).append(row)
    return grouped

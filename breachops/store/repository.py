"""`Repository`: every per-concept record keeper over one session, as the services use them.

Open one with ``with factory.begin() as session: repo = Repository(session)``. Times are passed in
(from the Clock). Repeating a change that is already in place (a retried task) writes nothing.
"""

from __future__ import annotations

from breachops.store.incidents import IncidentRecords
from breachops.store.messages import MessageRecords
from breachops.store.steps import StepRecords

__all__ = ["Repository"]


class Repository(IncidentRecords, StepRecords, MessageRecords):
    """Incidents with their facts and obligations, steps and outbox messages, each change audited."""

"""An in-memory channel for tests and dry runs: records what it was given."""

from __future__ import annotations

from breachops.clock import Clock, SystemClock
from breachops.notifications.channels.base import Delivery, DeliveryError
from breachops.notifications.models import OutgoingMessage

__all__ = ["MemoryChannel"]


class MemoryChannel:
    """Keeps messages by idempotency key (a second send of a key is accepted but not stored twice).

    ``fail_with`` makes every send raise that error, to test callers' retry handling.
    """

    name = "memory"

    def __init__(self, *, clock: Clock | None = None, fail_with: DeliveryError | None = None) -> None:
        self.sent: dict[str, OutgoingMessage] = {}
        self.attempts = 0
        self.fail_with = fail_with
        self._clock = clock or SystemClock()

    def send(self, message: OutgoingMessage) -> Delivery:
        self.attempts += 1
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.setdefault(message.idempotency_key, message)
        return Delivery(channel=self.name, provider_id=message.message_id, accepted_at=self._clock.now())

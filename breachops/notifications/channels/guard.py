"""Drill isolation at the channel boundary, and a fallback wrapper.

``DrillGuard`` wraps the real channel: a message marked ``drill`` goes out only if every recipient is
a participant of that drill and its subject starts with ``[DRILL]``. Anything else raises
:class:`DrillIsolationError` before the inner channel sees the message. ``build_channel`` always
returns a guarded channel, so no code path reaches SMTP or SendGrid around the guard.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from breachops.notifications.channels.base import Channel, Delivery, DeliveryError, DrillIsolationError
from breachops.notifications.models import OutgoingMessage
from breachops.notifications.render import DRILL_PREFIX

__all__ = ["DrillGuard", "FallbackChannel", "ParticipantLookup"]

ParticipantLookup = Callable[[str], Collection[str]]
"""incident id of a drill → the email addresses of its participants."""


class DrillGuard:
    """Refuses drill messages addressed outside the drill. Non-drill messages pass untouched.

    ``participants`` is either a fixed set of addresses or a lookup by the message's incident id. With
    neither (None), every drill message is refused: the guard fails closed.
    """

    def __init__(self, inner: Channel, participants: Collection[str] | ParticipantLookup | None = None):
        if isinstance(participants, str):
            raise TypeError("participants must be a collection of addresses, not one string")
        self.inner = inner
        self.name = inner.name
        self._participants = participants

    def __repr__(self) -> str:
        return f"DrillGuard({self.inner!r})"

    def allowed(self, incident_id: str) -> frozenset[str]:
        if self._participants is None:
            return frozenset()
        found = self._participants(incident_id) if callable(self._participants) else self._participants
        return frozenset(address.strip().lower() for address in found)

    def check(self, message: OutgoingMessage) -> None:
        if not message.drill:
            return
        if not message.subject.startswith(DRILL_PREFIX):
            raise DrillIsolationError(
                f"drill message {message.idempotency_key} ({message.incident_id}) has subject "
                f"{message.subject!r}, which does not start with {DRILL_PREFIX}; refused"
            )
        allowed = self.allowed(message.incident_id)
        outsiders = tuple(email for email in message.addresses if email.lower() not in allowed)
        if outsiders:
            raise DrillIsolationError(
                f"drill message {message.idempotency_key} ({message.incident_id}) is addressed to "
                f"{', '.join(outsiders)}, who {'is' if len(outsiders) == 1 else 'are'} not a participant "
                "of the drill; refused",
                outsiders=outsiders,
            )

    def send(self, message: OutgoingMessage) -> Delivery:
        self.check(message)
        return self.inner.send(message)


class FallbackChannel:
    """Sends through ``primary``; if that raises a retryable DeliveryError, through ``fallback``.

    A non-retryable failure (a 5xx refusal, a bad API key) is raised as is: the fallback would only
    hide a configuration error. Both channels see the same Message-ID, so a recipient's client can
    tell a rare double delivery (primary timed out after accepting) for what it is.
    """

    def __init__(self, primary: Channel, fallback: Channel) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name = f"{primary.name}+{fallback.name}"

    def __repr__(self) -> str:
        return f"FallbackChannel({self.primary!r}, {self.fallback!r})"

    def send(self, message: OutgoingMessage) -> Delivery:
        try:
            return self.primary.send(message)
        except DeliveryError as first:
            if not first.retryable:
                raise
            try:
                return self.fallback.send(message)
            except DeliveryError as second:
                raise DeliveryError(
                    f"{self.primary.name}: {first.reason}; fallback {self.fallback.name}: {second.reason}",
                    retryable=second.retryable,
                    retry_after=first.retry_after,
                ) from second

"""The channel port: one ``send`` that either returns a :class:`Delivery` or raises :class:`DeliveryError`.

Two signals travel beside ``send`` without widening the port, so wrappers (the drill guard, a
fallback) pass them through untouched: :func:`handover_point`, the moment after which the provider
may have the message, and :func:`connection_batch`, a block inside which a channel may keep its
connection open from one message to the next (the dispatcher sends a claimed batch inside one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from breachops.notifications.models import OutgoingMessage

__all__ = [
    "Channel",
    "Delivery",
    "DeliveryError",
    "DrillIsolationError",
    "connection_batch",
    "current_batch",
    "handover_point",
    "on_handover",
]


@dataclass(frozen=True)
class Delivery:
    """The provider accepted the message. ``refused`` lists recipients a server turned down while
    accepting the others (SMTP only); retrying would send the rest a second copy, so callers record
    them instead. ``repeat_safe``: sending the same message again would deliver nothing new (the outbox
    finds its file), so the dispatcher may record it sent together with others of its batch."""

    channel: str
    provider_id: str
    accepted_at: datetime
    refused: tuple[str, ...] = ()
    repeat_safe: bool = False


class DeliveryError(Exception):
    """Sending failed. ``retryable`` says whether the same message may succeed later; ``retry_after``
    (seconds) is the provider's own request to wait, if it made one. ``reason`` never holds a secret."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.reason!r}, retryable={self.retryable}, "
            f"retry_after={self.retry_after})"
        )


class DrillIsolationError(DeliveryError):
    """A drill message would leave the drill: a recipient is not a participant, or the subject does
    not start with ``[DRILL]``. Never retryable; the caller records it on the drill."""

    def __init__(self, reason: str, *, outsiders: tuple[str, ...] = ()) -> None:
        super().__init__(reason, retryable=False)
        self.outsiders = outsiders


@runtime_checkable
class Channel(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> Delivery:
        """Hand the message to the provider; raise DeliveryError if it was not accepted."""
        ...


# ---- the hand-over point -----------------------------------------------------------------------------

_HANDOVER: ContextVar[Callable[[], None] | None] = ContextVar("breachops_handover", default=None)


def handover_point() -> None:
    """Called by a channel just before the step after which the provider may have the message.

    Nothing happens unless a caller is listening (:func:`on_handover`); the dispatcher listens to
    record the hand-over before the point of no return.
    """
    hook = _HANDOVER.get()
    if hook is not None:
        hook()


@contextmanager
def on_handover(hook: Callable[[], None]) -> Iterator[None]:
    """Run ``hook`` when a channel called inside this block reaches its hand-over point."""
    token = _HANDOVER.set(hook)
    try:
        yield
    finally:
        _HANDOVER.reset(token)


# ---- connection batches ------------------------------------------------------------------------------

_BATCH: ContextVar[ExitStack | None] = ContextVar("breachops_connection_batch", default=None)


@contextmanager
def connection_batch() -> Iterator[None]:
    """Let channels called inside this block keep a connection open between messages; every
    connection kept is closed when the block ends. Outside a batch a channel connects per message."""
    with ExitStack() as stack:
        token = _BATCH.set(stack)
        try:
            yield
        finally:
            _BATCH.reset(token)


def current_batch() -> ExitStack | None:
    """The open batch, if any: a channel that keeps a connection registers its closing here."""
    return _BATCH.get()

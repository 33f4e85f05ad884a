"""When to try a failed send again: exponential backoff with jitter, honouring the provider's wish.

Pure: the random source is passed in, nothing sleeps. The caller (a Prefect task or the scheduler)
waits the returned number of seconds, or gives up when it gets None.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from breachops.notifications.channels.base import DeliveryError

__all__ = ["next_delay"]


def next_delay(
    attempt: int,
    error: DeliveryError | None = None,
    *,
    base: float = 2.0,
    cap: float = 300.0,
    max_attempts: int | None = None,
    rng: Callable[[], float] = random.random,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1``, after ``attempt`` (1, 2, …) failed with ``error``.

    The backoff ceiling is ``min(cap, base * 2 ** (attempt - 1))``; the delay is drawn from its upper
    half ("equal jitter", so retries of many messages spread out but never come back at once). A
    provider's ``retry_after`` is a floor, even above ``cap``. None means do not retry: the error is not
    retryable, or ``max_attempts`` attempts have been made.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts failed attempts from 1, got {attempt}")
    if base <= 0 or cap <= 0:
        raise ValueError("base and cap must be positive")
    if error is not None and not error.retryable:
        return None
    if max_attempts is not None and attempt >= max_attempts:
        return None
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 64))
    jitter = rng()
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"rng must return a number in [0, 1], got {jitter}")
    delay = ceiling / 2 + jitter * ceiling / 2
    if error is not None and error.retry_after is not None:
        delay = max(delay, float(error.retry_after))
    return delay

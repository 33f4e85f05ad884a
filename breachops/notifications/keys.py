"""Idempotency keys of messages: deterministic from what a message is about, and fit for a header."""

from __future__ import annotations

import hashlib
import re

__all__ = ["fit_key", "message_key"]

_MAX_KEY = 200


def fit_key(key: str) -> str:
    """``key`` with anything but visible ASCII replaced, hashed down to 200 characters if longer."""
    key = re.sub(r"[^\x21-\x7e]", "_", key)
    if len(key) <= _MAX_KEY:
        return key
    return f"{key[: _MAX_KEY - 18]}~{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def message_key(reminder_key: str, recipient: str) -> str:
    """The idempotency key of one recipient's copy of a reminder (hashed down if it would be too long)."""
    return fit_key(f"{reminder_key}|{recipient}")

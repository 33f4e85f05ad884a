"""The audit ledger as a long-running reader sees it: walked in full now and then, on from there between.

The console shows each incident page's chain "verified"; walking the whole ledger for that costs a page
seconds once thousands of incidents have written to it. A watch keeps the end of its last sound walk,
walks only the entries written since, and walks everything again once ``full_every`` has passed, so
that a rewrite of an entry it already walked shows within that time (`audit verify` always walks all).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from breachops.store.audit_verify import LedgerResult, ledger_head, verify_ledger

__all__ = ["LedgerWatch"]


class LedgerWatch:
    def __init__(self, full_every: float = 300.0, monotonic: Callable[[], float] = time.monotonic):
        self.full_every = full_every
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._sound: LedgerResult | None = None  # the end of the last walk that found no problem
        self._full_at = 0.0

    def current(self, session: Session) -> LedgerResult:
        """The ledger's state in ``session``'s transaction; a problem is never kept, so the next call
        walks in full again."""
        with self._lock:
            now = self._monotonic()
            sound = self._sound
            head = ledger_head(session)
            # A transaction that began before the last walk's sees fewer entries: walk its view whole.
            older = sound is not None and (head[0] if head else 0) < sound.entries
            full = sound is None or older or now - self._full_at >= self.full_every
            result = verify_ledger(session, since=None if full else sound)
            if result.problem is not None:
                self._sound = None
            elif not older:
                self._sound = result
                self._full_at = now if full else self._full_at
            return result

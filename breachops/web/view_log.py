"""Views of an incident by another party, written to the audit log beside the page, not in its way.

A page reads without the write lock (SQLite WAL), so it must not wait for one to record its view: the
view is queued here and a thread writes the queue in batches, retrying while the database is busy.
A view the thread cannot write after its retries is logged as an error, naming it, rather than dropped
in silence.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from breachops.bootstrap import App
from breachops.services.disclosure import View, record_views

__all__ = ["ViewLog"]

log = logging.getLogger("breachops.web")
_BATCH = 200
_ATTEMPTS = 8


class ViewLog:
    def __init__(self, app: App) -> None:
        self.app = app
        self._queue: queue.Queue[View] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="breachops-web-views", daemon=True)
        self._thread.start()

    def note(self, incident_id: str, email: str, page: str) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(View(incident_id, email, page, self.app.clock.now()))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every view noted so far is written (or given up); False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < _BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._write(batch)
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()

    def _write(self, batch: list[View]) -> None:
        delay = 0.05
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                record_views(self.app, batch)
                return
            except Exception:
                if attempt == _ATTEMPTS:
                    log.exception("could not record %d incident views: %s", len(batch), batch)
                    return
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

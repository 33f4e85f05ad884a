"""Sender threads: a few messages on the wire at once, each thread over a connection of its own.

A burst of reminders spends most of its time waiting for replies and commits; a :class:`SenderPool`
lets those waits overlap. Each thread keeps its connection across batches and closes it when idle.
Exactly-once is unchanged: the threads only decide which connection a message travels on
(docs/mail.md).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from breachops.notifications.channels.base import connection_batch

__all__ = ["DEFAULT_SENDERS", "SenderPool"]

DEFAULT_SENDERS = 4
"""Connections open at once to the mail provider. Relays commonly allow 5 to 20 per client."""

T = TypeVar("T")
_Job = tuple[Callable[[], object], Future[object]] | None  # None tells one thread to end


class SenderPool:
    """Up to ``size`` threads that run jobs; started on demand, ended after ``idle_seconds`` idle."""

    def __init__(
        self, size: int = DEFAULT_SENDERS, *, idle_seconds: float = 10.0, name: str = "sender"
    ) -> None:
        if size < 1:
            raise ValueError(f"a sender pool needs at least one thread, not {size}")
        self.size = size
        self.idle_seconds = idle_seconds
        self.name = name
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self._closed = False

    def run(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        """Run every job on a sender thread and return their results in order, once all have ended.
        If a job raised, the first such error is raised (after the others have ended)."""
        if self._closed:
            raise RuntimeError("this sender pool is closed")
        futures: list[Future[object]] = []
        for job in jobs:
            future: Future[object] = Future()
            self._jobs.put((job, future))
            futures.append(future)
            self._ensure_thread()
        errors = [f.exception() for f in futures]  # waits for every job, even after a failure
        for error in errors:
            if error is not None:
                raise error
        return [f.result() for f in futures]  # type: ignore[misc]

    @property
    def threads(self) -> int:
        """Sender threads alive now (each holding at most one connection per channel)."""
        with self._lock:
            return len(self._threads)

    def close(self, timeout: float | None = 30.0) -> None:
        """End every thread once its current job is done, closing its connections."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._jobs.put(None)
        for thread in threads:
            thread.join(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self._threads) + 1}", daemon=True
                )
                self._threads.add(thread)
                thread.start()

    def _work(self) -> None:
        me = threading.current_thread()
        with connection_batch():  # this thread's connections, closed when it ends
            while True:
                try:
                    job = self._jobs.get(timeout=self.idle_seconds)
                except queue.Empty:
                    with self._lock:
                        # Checked under the lock that run() takes to start threads: a job put after
                        # this check finds one thread fewer and starts a new one.
                        if self._jobs.empty():
                            self._threads.discard(me)
                            return
                    continue
                if job is None:
                    with self._lock:
                        self._threads.discard(me)
                    return
                work, future = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(work())
                except BaseException as exc:  # handed to the caller of run()
                    future.set_exception(exc)

"""The sender pool: jobs run side by side on at most ``size`` threads, each in a connection batch of its
own that outlives one call, and every job's outcome (result or error) comes back to the caller."""

from __future__ import annotations

import threading
import time

import pytest

from breachops.notifications.channels.base import current_batch
from breachops.notifications.senders import SenderPool


def _wait_until(condition, timeout: float = 5.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


def test_jobs_run_side_by_side_and_results_come_back_in_order() -> None:
    pool = SenderPool(4)
    together = threading.Barrier(4, timeout=5)  # breaks (and fails the jobs) unless all 4 run at once

    def job(n: int) -> int:
        together.wait()
        return n * n

    try:
        assert pool.run([lambda n=n: job(n) for n in range(4)]) == [0, 1, 4, 9]
        assert pool.threads == 4
    finally:
        pool.close()


def test_no_more_threads_than_its_size_and_each_keeps_its_connection_batch_between_calls() -> None:
    pool = SenderPool(3)
    seen: list[tuple[int, int]] = []  # (thread, batch) of each job
    lock = threading.Lock()

    def job() -> None:
        batch = current_batch()
        assert batch is not None  # every job runs inside its thread's batch
        with lock:
            seen.append((threading.get_ident(), id(batch)))

    try:
        for _ in range(5):
            pool.run([job] * 6)
    finally:
        pool.close()
    threads = {t for t, _ in seen}
    assert len(seen) == 30 and len(threads) <= 3
    assert len({b for _, b in seen}) == len(threads)  # one batch per thread, for all five calls
    assert pool.threads == 0  # closed: every thread ended, and with it its connections


def test_an_error_comes_back_after_the_other_jobs_have_finished() -> None:
    pool = SenderPool(2)
    done: list[int] = []

    def fails() -> None:
        raise RuntimeError("relay said no")

    def slow() -> None:
        time.sleep(0.05)
        done.append(1)

    try:
        with pytest.raises(RuntimeError, match="relay said no"):
            pool.run([fails, slow, slow])
        assert done == [1, 1]
        assert pool.run([lambda: "still works"]) == ["still works"]
    finally:
        pool.close()


def test_idle_threads_end_and_new_work_starts_new_ones() -> None:
    pool = SenderPool(2, idle_seconds=0.02)
    try:
        pool.run([lambda: None, lambda: None])
        assert _wait_until(lambda: pool.threads == 0)
        assert pool.run([lambda: 7]) == [7]
    finally:
        pool.close()


def test_a_closed_pool_refuses_work_and_a_pool_needs_a_thread() -> None:
    pool = SenderPool(1)
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.run([lambda: None])
    with pytest.raises(ValueError, match="at least one"):
        SenderPool(0)

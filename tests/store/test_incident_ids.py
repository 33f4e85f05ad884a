from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime

import pytest

from breachops.store.incidents import allocate_incident_id
from breachops.store.repository import Repository

from .helpers import open_incident, worker_open_incidents


def test_ids_are_numbered_per_utc_year(factory):
    with factory.begin() as session:
        repo = Repository(session)
        first = open_incident(repo, at=datetime(2026, 1, 5, tzinfo=UTC)).id
        second = open_incident(repo, at=datetime(2026, 6, 5, tzinfo=UTC)).id
        next_year = open_incident(repo, at=datetime(2027, 1, 1, tzinfo=UTC)).id
    assert (first, second, next_year) == ("INC-2026-0001", "INC-2026-0002", "INC-2027-0001")


def test_rolled_back_opening_leaves_no_gap(factory):
    with factory() as session:
        assert open_incident(Repository(session)).id == "INC-2026-0001"
        session.rollback()
    with factory.begin() as session:
        assert open_incident(Repository(session)).id == "INC-2026-0001"


def test_drills_share_the_sequence_and_are_listed_only_on_request(factory):
    with factory.begin() as session:
        repo = Repository(session)
        open_incident(repo)
        open_incident(repo, drill=True, drill_id="tabletop-q1")
        open_incident(repo)
    with factory() as session:
        repo = Repository(session)
        assert [i.id for i in repo.list_incidents()] == ["INC-2026-0001", "INC-2026-0003"]
        everything = repo.list_incidents(include_drills=True)
        assert [(i.id, i.drill) for i in everything][1] == ("INC-2026-0002", True)


def test_concurrent_threads_opening_incidents_get_distinct_consecutive_ids(factory):
    threads, per_thread = 8, 5
    ids: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def opener() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                with factory.begin() as session:
                    incident_id = open_incident(Repository(session)).id
                with lock:
                    ids.append(incident_id)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=opener) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    assert sorted(ids) == [f"INC-2026-{n:04d}" for n in range(1, threads * per_thread + 1)]


def test_concurrent_processes_opening_incidents_get_distinct_consecutive_ids(db_url, engine):
    processes, per_process = 4, 5
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        results = pool.starmap(worker_open_incidents, [(db_url, per_process)] * processes)
    ids = sorted(i for chunk in results for i in chunk)
    assert ids == [f"INC-2026-{n:04d}" for n in range(1, processes * per_process + 1)]


def test_allocating_for_an_absurd_year_is_refused(factory):
    with factory() as session, pytest.raises(ValueError, match="out of range"):
        allocate_incident_id(session, 20260)

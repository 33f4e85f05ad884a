from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from breachops.store.models import Incident
from breachops.store.repository import Repository

from .helpers import open_incident


def test_aware_datetimes_come_back_aware_in_utc(factory):
    berlin_winter = timezone(timedelta(hours=1))
    opened = datetime(2026, 3, 27, 10, 0, 0, 123456, tzinfo=berlin_winter)
    with factory.begin() as session:
        incident_id = open_incident(Repository(session), at=opened).id
    with factory() as session:
        incident = session.get(Incident, incident_id)
        assert incident.opened_at.tzinfo is not None
        assert incident.opened_at.utcoffset() == timedelta(0)
        assert incident.opened_at == opened
        assert incident.opened_at == datetime(2026, 3, 27, 9, 0, 0, 123456, tzinfo=UTC)


def test_naive_datetime_is_refused_not_guessed(factory):
    with factory() as session:
        repo = Repository(session)
        incident = open_incident(repo)
        session.flush()
        incident.closed_at = datetime(2026, 3, 28, 9, 0)  # naive
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()
        session.rollback()


def test_datetime_comparisons_in_queries_use_utc(factory):
    from sqlalchemy import select

    with factory.begin() as session:
        open_incident(Repository(session), at=datetime(2026, 3, 27, 9, 0, tzinfo=UTC))
    later_in_new_york = datetime(2026, 3, 27, 5, 30, tzinfo=timezone(timedelta(hours=-4)))  # 09:30Z
    with factory() as session:
        found = session.scalars(select(Incident).where(Incident.opened_at < later_in_new_york)).all()
        assert len(found) == 1

"""Store fixtures: every test runs on SQLite (a file in tmp_path) and on PostgreSQL.

PostgreSQL: the server named by BREACHOPS_TEST_POSTGRES_URL (default the local `test` database with
trust auth). One throwaway database is created per test session and dropped at the end; each test
starts from an empty ``public`` schema. Without a reachable server the PostgreSQL variants skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from breachops.clock import ManualClock
from breachops.config.audit_key import AuditKey
from breachops.store.database import make_engine, session_factory, upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
T0 = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)


def postgres_admin_url() -> str:
    return os.environ.get("BREACHOPS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    admin_url = postgres_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    name = f"breachops_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any reason at all: no server, no such role, no permission
        admin.dispose()
        shown = make_url(admin_url).render_as_string(hide_password=True)
        pytest.skip(f"PostgreSQL not reachable at {shown}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database (no tables yet) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'breachops.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


TEST_AUDIT_KEY = AuditKey(bytes(range(32)))


@pytest.fixture
def audit_key() -> AuditKey:
    return TEST_AUDIT_KEY


@pytest.fixture
def factory(engine: Engine, audit_key: AuditKey) -> sessionmaker[Session]:
    """Sessions that seal the audit events they append, as every breachops process does."""
    return session_factory(engine, audit_key=audit_key)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)

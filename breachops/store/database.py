"""Engines, sessions and schema upgrades for the application database.

SQLite (the embedded default) runs in WAL mode with ``synchronous=NORMAL``, foreign keys on and a busy
timeout; every writing transaction starts with ``BEGIN IMMEDIATE`` and a read-only one with a plain
``BEGIN``. PostgreSQL runs at its default READ COMMITTED; the store locks the rows it changes. Why each
setting, and what it costs: docs/database.md.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

import breachops.store.plan_revision  # noqa: F401  (its listener raises plan revisions on every session)
from breachops.files import FILE_MODE, create_private, private_dir

if TYPE_CHECKING:
    from alembic.config import Config

    from breachops.config.audit_key import AuditKey

__all__ = [
    "MIGRATIONS",
    "Engine",
    "Session",
    "SessionFactory",
    "alembic_config",
    "head_revision",
    "is_current",
    "make_engine",
    "redacted_url",
    "session_factory",
    "upgrade",
]

# The session types callers outside the store annotate with, so that only the store imports SQLAlchemy.
SessionFactory = sessionmaker[Session]

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any constant works; it only has to be the same in every breachops process.
_PG_MIGRATION_LOCK = 0x62726561  # "brea"


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for a SQLAlchemy URL; for a SQLite file, its folder is created and the file tuned."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)

    file = _sqlite_file(parsed)
    if file is not None:
        # The database holds incidents and their record: 0600 in a 0700 folder, whatever the umask.
        # SQLite gives its -wal and -shm files the database file's mode.
        if not file.parent.exists():
            private_dir(file.parent)
        create_private(file, b"")  # an empty file is an empty database; an existing one is kept
        if stat.S_IMODE(file.stat().st_mode) != FILE_MODE:
            file.chmod(FILE_MODE)
    connect_args = dict(kwargs.pop("connect_args", {}))
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(parsed, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module; SQLAlchemy emits BEGIN itself below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if file is not None:
                mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
                if mode is not None and str(mode[0]).lower() == "wal":  # safe only under WAL
                    cursor.execute("PRAGMA synchronous=NORMAL")  # docs/database.md says why
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A reader (``read_only`` execution option) takes no write lock: under WAL, readers never wait.
        if connection.get_execution_options().get("read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def redacted_url(url: str) -> str:
    """A database URL fit to show: its password hidden (only the scheme if SQLAlchemy cannot read it)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split(":", 1)[0] + ":…"


def session_factory(
    engine: Engine, audit_key: AuditKey | Callable[[Session], AuditKey | None] | None = None
) -> SessionFactory:
    """Sessions that keep loaded values after commit (the CLI prints what it just stored).

    Use ``with factory.begin() as session:`` for one transaction that commits or rolls back whole.
    ``audit_key`` (a key, or a function of the session giving it on first need) seals the audit events
    the sessions append and checks them in ``verify``; without one, events are written unsealed.
    """
    return sessionmaker(bind=engine, expire_on_commit=False, info={"audit_key": audit_key})


def alembic_config(connection: Any | None = None) -> Config:
    """Alembic's configuration built in code: no alembic.ini is needed at run time."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(target: str | URL | Engine, revision: str = "head") -> None:
    """Bring the database's schema to ``revision`` (by default the newest). Safe to call every start:
    concurrent callers are serialised (SQLite's write lock, a PostgreSQL advisory lock)."""
    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            from alembic import command

            command.upgrade(alembic_config(connection), revision)
    finally:
        if engine is not target:
            engine.dispose()


_REVISION = re.compile(r'^(down_)?revision(?:: [^=]+)? = "?([\w-]+|None)"?', re.MULTILINE)


def head_revision() -> str:
    """The newest migration's id, read from the migration files (without importing Alembic, which
    costs every command a sixth of a second)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def is_current(engine: Engine) -> bool:
    """Whether the database's schema is already at the newest migration."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        versions = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    return versions == {head_revision()}

"""Alembic environment for the breachops application database.

Run through ``breachops.store.database.upgrade``, which hands in an open connection; no alembic.ini.
Autogenerate for a new revision (then read and correct the result by hand)::

    python -c "from breachops.store.database import *; from alembic import command; \
        from sqlalchemy import create_engine; e = make_engine('sqlite:///rev.db'); upgrade(e); \
        c = e.connect(); command.revision(alembic_config(c), 'what changed', autogenerate=True)"
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context

from breachops.store.models import Base, UTCDateTime

target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations spell the plain column type, so they never depend on application code that may change.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    from breachops.store.database import make_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection in config.attributes or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run breachops.store.upgrade")
run_migrations_online()

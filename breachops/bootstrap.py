"""The composition root: settings → rule catalogue, store, playbooks (→ channels, scheduler).

Nothing deeper in the code reaches for a global; entry points call this and pass what it built.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from breachops.clock import Clock, SystemClock
from breachops.config.rules import Catalogue, load_catalogue
from breachops.config.settings import Settings, load_settings

if TYPE_CHECKING:
    from breachops.store.agreement_snapshots import AgreementSnapshots
    from breachops.web.links import StepLinks

__all__ = ["App", "bootstrap"]


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.settings.rule_files, self.settings.target_hours)

    @property
    def workspace(self) -> Path:
        return self.settings.workspace

    @cached_property
    def engine(self) -> Engine:
        from breachops.store.database import is_current, make_engine, upgrade

        engine = make_engine(self.settings.resolved_database_url)
        if not is_current(engine):  # every process works on the newest schema
            upgrade(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from breachops.store import session_factory

        return session_factory(self.engine)

    @cached_property
    def read_sessions(self) -> sessionmaker[Session]:
        from breachops.store import session_factory

        return session_factory(self.engine.execution_options(read_only=True))

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it takes no write lock, so many readers (the web
        console's pages) never queue behind each other or behind a writer."""
        with self.read_sessions.begin() as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: everything in it, audit events included, is stored or nothing is."""
        with self.sessions.begin() as session:
            yield session

    @cached_property
    def agreements(self) -> AgreementSnapshots:
        """The incidents' agreement snapshots, each parsed once (see ``store/agreement_snapshots.py``)."""
        from breachops.store.agreement_snapshots import AgreementSnapshots

        return AgreementSnapshots()

    def step_links(self) -> StepLinks | None:
        """Signed links to the web console's step pages, for messages; None while no console URL is
        known (``BREACHOPS_WEB_URL``, or a console running on this workspace)."""
        from breachops.web.links import step_links

        return step_links(self.workspace)

    @property
    def playbook_search(self) -> list[Path]:
        return [self.workspace / "playbooks"]


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> App:
    return App(settings=settings or load_settings(), clock=clock or SystemClock())

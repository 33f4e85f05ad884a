"""The composition root: settings → rule catalogue, store, playbooks, mail settings and the channel.

Nothing deeper in the code reaches for a global; entry points call this and pass what it built.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from breachops.clock import Clock, SystemClock
from breachops.config.catalogue import Catalogue
from breachops.config.rule_files import load_catalogue
from breachops.config.settings import Settings, load_settings

if TYPE_CHECKING:
    from breachops.config.audit_key import AuditKey
    from breachops.notifications.channels.base import Channel
    from breachops.notifications.settings import MailSettings
    from breachops.store.agreement_snapshots import AgreementSnapshots
    from breachops.store.database import Engine, Session, SessionFactory
    from breachops.web.links import StepLinks

__all__ = ["App", "bootstrap", "shown_mail_settings"]


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    _audit_key: AuditKey | None = field(default=None, init=False, repr=False)
    _key_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.settings.rule_files, self.settings.target_hours)

    def reload_catalogue(self) -> Catalogue:
        """Read the rule files again, so that a long-running process uses an edited catalogue. A bad
        file raises InputError and the catalogue in use stays as it was."""
        fresh = load_catalogue(self.settings.rule_files, self.settings.target_hours)
        self.__dict__["catalogue"] = fresh  # what the cached property returns from now on
        return fresh

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
    def sessions(self) -> SessionFactory:
        from breachops.store import session_factory

        # The key is read when a session first appends or verifies, not for every command.
        return session_factory(self.engine, audit_key=self.audit_key)

    def audit_key(self, session: Session | None = None) -> AuditKey:
        """The workspace's audit key (``config/audit_key.py``): the Secret block named in
        ``BREACHOPS_AUDIT_KEY_BLOCK``, else ``<workspace>/audit.key``, created on first need in a
        workspace made before keys. A missing file is never replaced while the record holds events
        sealed with it: that would seal new events with a key the old ones cannot be checked with.
        ``session``: the one asking, in which the record is looked at."""
        from breachops.config.audit_key import KEY_FILE, KeyLost, load_audit_key

        with self._key_lock:
            if self._audit_key is None:
                key = load_audit_key(self.workspace, secret_block=self._secret_block)
                if key is None:
                    if self._has_sealed_audit(session):
                        raise KeyLost(
                            self.workspace / KEY_FILE, None, None,
                            "the audit key is missing, and the audit log holds events sealed with it",
                            "Restore the file from a backup; a new key would not check the old seals.",
                        )  # fmt: skip
                    key = load_audit_key(self.workspace, secret_block=self._secret_block, create=True)
                self._audit_key = key
            assert self._audit_key is not None  # loaded or created above
            return self._audit_key

    def _has_sealed_audit(self, session: Session | None) -> bool:
        """Asked in the session that needs the key (a second connection would wait for its lock)."""
        from breachops.store.audit_evidence import any_sealed

        if session is None:
            with self.sessions() as own:
                return any_sealed(own)
        return any_sealed(session)

    @cached_property
    def read_sessions(self) -> SessionFactory:
        from breachops.store import session_factory

        return session_factory(self.engine.execution_options(read_only=True), audit_key=self.audit_key)

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

    @cached_property
    def mail_settings(self) -> MailSettings:
        """The mail settings of this process's environment (``notifications/settings.py``), read once.
        A SendGrid key kept in the Prefect Secret block named by ``BREACHOPS_SENDGRID_SECRET_BLOCK``
        is read from the block here. A bad setting raises InputError naming the variable."""
        from breachops.notifications.settings import load_mail_settings

        return load_mail_settings(secret_block=self._secret_block)

    def channel(self) -> Channel:
        """The configured channel (and its fallback) behind the drill guard, which lets a drill's
        message reach only that drill's participants: the one way a process gets a channel."""
        from breachops.notifications.outbox import drill_participants
        from breachops.notifications.settings import build_channel

        return build_channel(
            self.mail_settings, self.workspace, clock=self.clock, drill_participants=drill_participants(self)
        )

    @property
    def template_dir(self) -> Path | None:
        """The workspace's own message templates (``templates/``), which override the shipped ones."""
        folder = self.workspace / "templates"
        return folder if folder.is_dir() else None

    @property
    def playbook_search(self) -> list[Path]:
        return [self.workspace / "playbooks"]

    def _secret_block(self, name: str) -> str | None:
        """A Prefect Secret block's value, for the audit key and the SendGrid key, from the Prefect
        server this workspace uses. Only flows/ knows Prefect: its reader is imported when a Secret
        block is named, not before."""
        from breachops.flows.secret_blocks import read_secret_block

        return read_secret_block(name, self.workspace)


def shown_mail_settings(environ: Mapping[str, str]) -> MailSettings:
    """The mail settings ``environ`` gives, for showing what a process runs with: a Secret block is
    named there but not read (a bad setting raises InputError naming the variable)."""
    from breachops.notifications.settings import load_mail_settings

    return load_mail_settings(environ, secret_block=lambda _name: "not read")


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> App:
    return App(settings=settings or load_settings(), clock=clock or SystemClock())

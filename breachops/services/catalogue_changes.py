"""Re-assess open incidents when the rule catalogue changes (a new release, an edited workspace file).

When the catalogue in use has another fingerprint than the one stored, each open incident's obligations
are recomputed as a fact change would; where that moves an obligation, the audit log records
``catalogue.changed`` and the parties' leads, legal and DPO contacts get one message. The fingerprint is
stored last and message keys carry it, so an interrupted run is done again and nothing is sent twice
(docs/runtime.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from breachops.bootstrap import App
from breachops.config.fingerprint import Fingerprint, fingerprint
from breachops.config.rule_files import shipped_rule_files
from breachops.errors import InputError
from breachops.notifications.notices import Notices
from breachops.services.incidents import agreement_of, recompute_obligations
from breachops.store import Repository
from breachops.store.audit import append as append_audit
from breachops.store.catalogue_fingerprints import StoredFingerprint, load_fingerprint, save_fingerprint
from breachops.store.models import ObligationRow
from breachops.store.obligations import ObligationDiff

__all__ = ["ACTOR", "CatalogueChange", "CatalogueWatch", "IncidentChange", "reassess_open_incidents"]

ACTOR = "catalogue"
EVENT = "catalogue.changed"
log = logging.getLogger("breachops.catalogue")


@dataclass(frozen=True)
class IncidentChange:
    incident_id: str
    rules: tuple[str, ...]  # rule ids whose obligations were added, withdrawn or moved
    obligations: tuple[dict[str, Any], ...]
    queued: tuple[str, ...]  # message keys


@dataclass(frozen=True)
class CatalogueChange:
    fingerprint: str
    previous: str | None  # None: no fingerprint was stored yet
    catalogue: dict[str, str]  # "rule:<id>" / "no_duty:<code>" -> added, changed or removed
    incidents: tuple[IncidentChange, ...] = ()

    @property
    def unchanged(self) -> bool:
        return self.fingerprint == self.previous


def reassess_open_incidents(app: App, *, actor: str = ACTOR) -> CatalogueChange:
    """Read the rule files again and, if the catalogue differs from the one stored, re-assess every open
    incident (drills keep the catalogue they started with). Idempotent."""
    current = fingerprint(app.reload_catalogue())
    with app.transaction() as session:
        stored = load_fingerprint(session)
        open_ids = [i.id for i in Repository(session).list_incidents(status="open")]
    if stored is not None and stored.fingerprint == current.value:
        return CatalogueChange(current.value, stored.fingerprint, {})
    catalogue = current.changed_since(stored.digests) if stored else {}
    changes = [
        found
        for incident_id in open_ids
        if (found := _reassess(app, incident_id, current, stored, catalogue, actor)) is not None
    ]
    with app.transaction() as session:
        save_fingerprint(session, current.value, current.digests, app.clock.now())
    return CatalogueChange(current.value, stored.fingerprint if stored else None, catalogue, tuple(changes))


def _reassess(
    app: App,
    incident_id: str,
    current: Fingerprint,
    stored: StoredFingerprint | None,
    catalogue: dict[str, str],
    actor: str,
) -> IncidentChange | None:
    """One incident, in one transaction: obligations, audit event and messages land together."""
    folder = app.workspace / "templates"
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        if incident.status != "open":
            return None
        before = {row.key: _due(row) for row in repo.obligations(incident_id, include_withdrawn=True)}
        diff = recompute_obligations(app, repo, incident, actor)
        if not (diff.added or diff.removed or diff.due_changed):
            return None  # a status that moved with time alone is no news of the catalogue
        rows = {row.key: row for row in repo.obligations(incident_id, include_withdrawn=True)}
        obligations = _obligation_changes(diff, rows, before)
        rules = tuple(sorted({o["rule"] for o in obligations}))
        now = app.clock.now()
        behind = {r: catalogue[f"rule:{r}"] for r in rules if f"rule:{r}" in catalogue}
        payload = {
            "fingerprint": current.value,
            "previous": stored.fingerprint if stored else None,
            "rules": list(rules),
            "catalogue": behind,
            "no_duty": {k: v for k, v in catalogue.items() if k.startswith("no_duty:")},
            "obligations": list(obligations),
        }
        append_audit(session, incident_id, EVENT, payload, actor, now)
        notices = Notices(
            repo, incident, now, agreement=agreement_of(app, incident),
            template_dir=folder if folder.is_dir() else None,
        )  # fmt: skip
        queued = notices.catalogue_changed(
            current.value,
            [{"id": r, "change": c} for r, c in behind.items()],
            [_for_message(o, rows) for o in obligations],
        )
        return IncidentChange(incident_id, rules, obligations, tuple(queued))


def _due(row: ObligationRow) -> str | None:
    return row.due.isoformat() if row.due else None


def _obligation_changes(
    diff: ObligationDiff, rows: dict[str, ObligationRow], before: dict[str, str | None]
) -> tuple[dict[str, Any], ...]:
    out: list[dict[str, Any]] = []
    for key in diff.added:
        out.append({"obligation": key, "rule": rows[key].rule_id, "change": "added", "old_due": None,
                    "new_due": _due(rows[key])})  # fmt: skip
    for key in diff.removed:
        out.append({"obligation": key, "rule": rows[key].rule_id, "change": "withdrawn",
                    "old_due": before.get(key), "new_due": None})  # fmt: skip
    for moved in diff.due_changed:
        out.append({"obligation": moved.key, "rule": rows[moved.key].rule_id, "change": "due changed",
                    "old_due": moved.old.isoformat() if moved.old else None,
                    "new_due": moved.new.isoformat() if moved.new else None})  # fmt: skip
    return tuple(sorted(out, key=lambda o: (o["rule"], o["obligation"])))


def _for_message(change: dict[str, Any], rows: dict[str, ObligationRow]) -> dict[str, Any]:
    row = rows[change["obligation"]]

    def instant(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return {
        "title": row.title,
        "citation": row.citation,
        "rule": row.rule_id,
        "change": change["change"],
        "old_due": instant(change["old_due"]),
        "new_due": instant(change["new_due"]),
    }


class CatalogueWatch:
    """For ``serve``: re-assess at start-up and whenever a rule file changes (its size or modification
    time), and stay cheap in between. A broken rule file is logged once; the catalogue in use stays."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._seen: tuple[tuple[str, int, int], ...] | None = None

    def _stamp(self) -> tuple[tuple[str, int, int], ...]:
        files: Sequence[Path] = [*shipped_rule_files(), *self.app.settings.rule_files]
        stamps = []
        for path in files:
            try:
                st = os.stat(path)
                stamps.append((str(path), st.st_mtime_ns, st.st_size))
            except OSError:
                stamps.append((str(path), -1, -1))
        return tuple(stamps)

    def check(self) -> CatalogueChange | None:
        stamp = self._stamp()
        if stamp == self._seen:
            return None
        try:
            change = reassess_open_incidents(self.app)
        except InputError as exc:
            log.error("the rule catalogue was not reloaded: %s", exc)
            self._seen = stamp  # wait for the next edit
            return None
        except Exception:  # the database may be busy or briefly away; the next tick tries again
            log.exception("re-assessing open incidents after a catalogue change failed; retrying")
            return None
        self._seen = stamp
        for found in change.incidents:
            log.info("%s: the catalogue changed obligations of %s", found.incident_id, ", ".join(found.rules))
        return change

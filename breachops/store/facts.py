"""An incident's facts: each change a `FactEvent`, so ``replay_facts`` always rebuilds ``Incident.facts``.

Facts are a JSON dict; ``None`` unsets a fact. The opening facts are events with source ``open``. The
store does not interpret facts: validate them (``parse_facts``) before recording.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select

from breachops.errors import InputError
from breachops.store import audit
from breachops.store.base import RepositoryBase, aware
from breachops.store.models import FactEvent, Incident

__all__ = ["FactChange", "FactRecords"]

_FACT_SOURCE = re.compile(r"^(cli|open|gate:[\w.-]+|inject:[\w.-]+)$")


class FactChange(NamedTuple):
    old: Any
    new: Any


class FactRecords(RepositoryBase):
    """Records fact changes (audit kind ``fact.changed``) and replays them."""

    def record_fact_changes(
        self, incident: Incident, changes: Mapping[str, Any], source: str, actor: str, at: datetime
    ) -> dict[str, FactChange]:
        """Apply ``changes`` (field → new value; None unsets it) and return what actually changed.

        Each change becomes a FactEvent and all of them one ``fact.changed`` audit event. Setting a
        fact to the value it already has records nothing, so a retried task is harmless.
        ``source`` is ``cli``, ``gate:<step>``, ``inject:<inject>`` (drills) or ``open``.
        """
        if not _FACT_SOURCE.match(source):
            raise InputError(
                None,
                "source",
                source,
                "unknown source of a fact change",
                "Use cli, gate:<step> or inject:<id>.",
            )
        # Lock the incident row (PostgreSQL) and read its facts afresh: two writers never interleave seqs.
        self.session.refresh(incident, with_for_update=True)
        return self._apply_facts(incident, audit.to_jsonable(changes), source, actor, at)

    def _apply_facts(
        self, incident: Incident, changes: dict[str, Any], source: str, actor: str, at: datetime
    ) -> dict[str, FactChange]:
        at = aware(at, "at")
        current = dict(incident.facts or {})
        changed: dict[str, FactChange] = {}
        for field in sorted(changes):
            new, old = changes[field], current.get(field)
            if new != old:
                changed[field] = FactChange(old, new)
        if not changed:
            return {}
        seq = self.session.execute(
            select(func.coalesce(func.max(FactEvent.seq), 0)).where(FactEvent.incident_id == incident.id)
        ).scalar_one()
        for field, change in changed.items():
            seq += 1
            self.session.add(
                FactEvent(
                    incident_id=incident.id,
                    seq=seq,
                    recorded_at=at,
                    field=field,
                    old_value=change.old,
                    new_value=change.new,
                    source=source,
                    actor=actor,
                )
            )
            if change.new is None:
                current.pop(field, None)
            else:
                current[field] = change.new
        incident.facts = current
        self.session.flush()
        audit.append(
            self.session,
            incident.id,
            "fact.changed",
            {"source": source, "changes": {f: {"old": c.old, "new": c.new} for f, c in changed.items()}},
            actor,
            at,
        )
        return changed

    def fact_events(self, incident_id: str) -> list[FactEvent]:
        return list(
            self.session.scalars(
                select(FactEvent).where(FactEvent.incident_id == incident_id).order_by(FactEvent.seq)
            )
        )

    def replay_facts(self, incident_id: str, until_seq: int | None = None) -> dict[str, Any]:
        """The facts as they were after event ``until_seq`` (default: now), rebuilt from the events."""
        facts: dict[str, Any] = {}
        for event in self.fact_events(incident_id):
            if until_seq is not None and event.seq > until_seq:
                break
            if event.new_value is None:
                facts.pop(event.field, None)
            else:
                facts[event.field] = event.new_value
        return facts

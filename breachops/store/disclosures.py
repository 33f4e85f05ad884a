"""Which facts and steps of an incident a party keeps internal, each mark and its lifting audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from breachops.store import audit
from breachops.store.base import RepositoryBase, aware
from breachops.store.models import DisclosureMark

__all__ = ["ITEM_KINDS", "DisclosureRecords", "Withheld", "withheld"]

ITEM_KINDS: Final = ("fact", "step")


@dataclass(frozen=True)
class Withheld:
    """What one viewer's party may not see of an incident: fact names and step ids, each with the party
    that keeps it internal."""

    facts: dict[str, str]
    steps: dict[str, str]

    def __bool__(self) -> bool:
        return bool(self.facts or self.steps)


def withheld(session: Session, incident_id: str, viewer_party: str | None) -> Withheld:
    """The marks of ``incident_id`` that hide something from ``viewer_party`` (None: a person of no party
    of the agreement, from whom every mark hides)."""
    facts: dict[str, str] = {}
    steps: dict[str, str] = {}
    query = select(DisclosureMark).where(DisclosureMark.incident_id == incident_id)
    for mark in session.scalars(query):
        if mark.party != viewer_party:
            (facts if mark.item_kind == "fact" else steps)[mark.item] = mark.party
    return Withheld(facts, steps)


class DisclosureRecords(RepositoryBase):
    """Marks in force, as rows; their history, as ``disclosure.internal`` and ``disclosure.shared``
    events of the incident's audit stream."""

    def marks(self, incident_id: str) -> list[DisclosureMark]:
        query = select(DisclosureMark).where(DisclosureMark.incident_id == incident_id)
        return list(self.session.scalars(query.order_by(DisclosureMark.item_kind, DisclosureMark.item)))

    def mark_internal(
        self, incident_id: str, item_kind: str, items: list[str], party: str, actor: str, at: datetime
    ) -> list[str]:
        """Keep ``items`` internal to ``party``; return those newly marked (a mark already in place for
        the same party is left as it is). An item another party keeps internal is refused."""
        at = aware(at, "at")
        current = {m.item: m for m in self.marks(incident_id) if m.item_kind == item_kind}
        taken = [i for i in items if i in current and current[i].party != party]
        if taken:
            raise ValueError(f"kept internal by another party: {', '.join(taken)}")
        new = [i for i in dict.fromkeys(items) if i not in current]
        for item in new:
            self.session.add(
                DisclosureMark(
                    incident_id=incident_id, item_kind=item_kind, item=item, party=party,
                    marked_by=actor, marked_at=at,
                )
            )  # fmt: skip
        if new:
            self.session.flush()
            payload = {"kind": item_kind, "items": new, "party": party}
            audit.append(self.session, incident_id, "disclosure.internal", payload, actor, at)
        return new

    def share(
        self, incident_id: str, item_kind: str, items: list[str], party: str, actor: str, at: datetime
    ) -> list[str]:
        """Lift ``party``'s marks on ``items``; return those lifted. Only the party that keeps an item
        internal may share it."""
        at = aware(at, "at")
        current = {m.item: m for m in self.marks(incident_id) if m.item_kind == item_kind}
        foreign = [i for i in items if i in current and current[i].party != party]
        if foreign:
            raise ValueError(f"kept internal by another party: {', '.join(foreign)}")
        lifted = [i for i in dict.fromkeys(items) if i in current]
        for item in lifted:
            self.session.delete(current[item])
        if lifted:
            self.session.flush()
            payload = {"kind": item_kind, "items": lifted, "party": party}
            audit.append(self.session, incident_id, "disclosure.shared", payload, actor, at)
        return lifted

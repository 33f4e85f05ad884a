"""Reminder times for an incident's open obligations and steps: a pure function of what is stored.

Nothing here reads a clock or the database. The caller passes the incident's obligation and step rows
(anything with the attributes named below), its agreement and a :class:`ReminderPolicy`, and gets back
every :class:`Reminder` the items call for, sent or not, past or future. A reminder's key holds no time,
so a recomputed deadline moves its reminders and a closed item drops them. Who owns what, how overdue
items escalate and which schedule wins: docs/reminders.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from breachops.config.agreements import Agreement
from breachops.config.reminders import ReminderSchedule, ReminderSettings

__all__ = [
    "CLOSED_STATUSES",
    "Recipient",
    "Reminder",
    "ReminderPolicy",
    "Schedule",
    "derive_reminders",
    "format_offset",
    "notifiers_of",
]

CLOSED_STATUSES = frozenset({"met", "done", "waived", "withdrawn", "skipped"})
"""Statuses that end an item's reminders (a person decided, or the engine withdrew it)."""

ReminderKind = Literal["reminder", "overdue"]


class ObligationLike(Protocol):
    key: str
    rule_id: str
    title: str
    citation: str
    audience: str
    due: datetime | None
    status: str


class StepLike(Protocol):
    step_id: str
    title: str
    owner_role: str
    owner_party: str
    due: datetime | None
    status: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """A role at a party; the dispatcher looks the person up in the agreement."""

    role: str
    party: str

    def __str__(self) -> str:
        return f"{self.party}.{self.role}"


@dataclass(frozen=True, slots=True)
class Schedule:
    """When to remind about one item: ``offsets`` before the due time, escalations every
    ``overdue_every`` after it (``None``: no escalation)."""

    offsets: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=4), timedelta(hours=1))
    overdue_every: timedelta | None = timedelta(hours=4)

    def __post_init__(self) -> None:
        if any(o <= timedelta(0) for o in self.offsets):
            raise ValueError("reminder offsets are positive durations before the due time")
        if self.overdue_every is not None and self.overdue_every <= timedelta(0):
            raise ValueError("overdue_every must be a positive duration")


@dataclass(frozen=True)
class ReminderPolicy:
    default: Schedule = field(default_factory=Schedule)
    by_rule: Mapping[str, Schedule] = field(default_factory=dict)
    by_role: Mapping[str, Schedule] = field(default_factory=dict)
    late_after: timedelta = timedelta(minutes=15)
    """A reminder sent this long after its ``due_at`` (e.g. after downtime) is marked late."""

    def with_overrides(self, settings: ReminderSettings | None) -> ReminderPolicy:
        """This policy with ``settings`` laid over it; a field the settings leave out stays as it is."""
        if settings is None:
            return self
        default = _override(self.default, settings)
        by_role = {**self.by_role, **{r: _override(default, s) for r, s in settings.by_role.items()}}
        by_rule = {**self.by_rule, **{r: _override(default, s) for r, s in settings.by_rule.items()}}
        return ReminderPolicy(default=default, by_rule=by_rule, by_role=by_role, late_after=self.late_after)

    def schedule_for(self, names: Iterable[str], role: str | None) -> Schedule:
        for name in names:
            if name in self.by_rule:
                return self.by_rule[name]
        if role is not None and role in self.by_role:
            return self.by_role[role]
        return self.default


def _override(base: Schedule, given: ReminderSchedule) -> Schedule:
    offsets = base.offsets
    if given.before_hours is not None:
        offsets = tuple(timedelta(hours=h) for h in given.before_hours)
    every = base.overdue_every
    if given.overdue_every_hours is not None:
        every = timedelta(hours=given.overdue_every_hours)
    if given.escalate is False:
        every = None
    elif given.escalate and every is None:
        every = Schedule().overdue_every
    return Schedule(offsets=offsets, overdue_every=every)


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder or escalation. ``key`` is ``incident|target|kind|offset``, stable across
    recomputations; ``due_at`` is when it should go out."""

    key: str
    incident_id: str
    target: str  # "obligation:<key>" or "step:<step id>"
    kind: ReminderKind
    offset_label: str  # "-24h", "+4h#1"
    due_at: datetime
    recipients: tuple[Recipient, ...]
    level: int  # 0 for a reminder, 1, 2, … for escalations
    item_title: str
    item_kind: Literal["obligation", "step"]
    item_due: datetime
    owners: tuple[Recipient, ...]
    citation: str | None = None


def format_offset(delta: timedelta) -> str:
    """``-24h``, ``+4h``, ``-90m``: the sign, then whole hours if it is whole hours, else minutes."""
    sign = "-" if delta < timedelta(0) else "+"
    seconds = int(abs(delta.total_seconds()))
    if seconds % 3600 == 0:
        return f"{sign}{seconds // 3600}h"
    return f"{sign}{seconds // 60}m"


def notifiers_of(agreement: Agreement) -> dict[str, str]:
    """Rule id of each contract notice window (``contract-<id>``) → the party that must notify."""
    return {f"contract-{n.id}": n.from_party for n in agreement.notice_windows}


def _resolve(agreement: Agreement, role: str, party: str) -> Recipient | None:
    found = agreement.parties.get(party)
    if found is None:
        return None
    return Recipient(role if role in found.contacts else "incident_lead", party)


def _unique(items: Iterable[Recipient | None]) -> tuple[Recipient, ...]:
    return tuple(dict.fromkeys(r for r in items if r is not None))


def _obligation_owners(
    ob: ObligationLike, agreement: Agreement, notifier: Mapping[str, str]
) -> tuple[Recipient, ...]:
    party = notifier.get(ob.key) or notifier.get(ob.rule_id)
    if party is not None and (ob.audience == "counterparty" or ob.rule_id.startswith("contract-")):
        return _unique([_resolve(agreement, "incident_lead", party)])
    return _unique(_resolve(agreement, "legal", p) for p in ("disclosing", "receiving"))


def _step_owners(step: StepLike, agreement: Agreement) -> tuple[Recipient, ...]:
    parties = ("disclosing", "receiving") if step.owner_party == "both" else (step.owner_party,)
    return _unique(_resolve(agreement, step.owner_role, p) for p in parties)


def _escalation(agreement: Agreement, owners: Sequence[Recipient], level: int) -> tuple[Recipient, ...]:
    """Who gets escalation ``level`` (1-based): per owner, that many roles above it in its party's chain."""
    found = []
    for owner in owners:
        chain = agreement.parties[owner.party].escalation
        start = chain.index(owner.role) + 1 if owner.role in chain else 0  # type: ignore[arg-type]
        index = start + level - 1
        if index < len(chain):
            found.append(Recipient(chain[index], owner.party))
    return _unique(found)


def _for_item(
    *,
    incident_id: str,
    target: str,
    item_kind: Literal["obligation", "step"],
    title: str,
    citation: str | None,
    due: datetime,
    owners: tuple[Recipient, ...],
    schedule: Schedule,
    agreement: Agreement,
    since: datetime | None,
) -> list[Reminder]:
    out: list[Reminder] = []

    def add(kind: ReminderKind, delta: timedelta, level: int, to: tuple[Recipient, ...]) -> None:
        label = format_offset(delta) + (f"#{level}" if level else "")
        at = due + delta
        if not to or (since is not None and at < since):
            return
        out.append(
            Reminder(
                key=f"{incident_id}|{target}|{kind}|{label}",
                incident_id=incident_id,
                target=target,
                kind=kind,
                offset_label=label,
                due_at=at,
                recipients=to,
                level=level,
                item_title=title,
                item_kind=item_kind,
                item_due=due,
                owners=owners,
                citation=citation,
            )
        )

    for offset in sorted(set(schedule.offsets), reverse=True):
        add("reminder", -offset, 0, owners)
    if schedule.overdue_every is not None:
        level = 1
        while to := _escalation(agreement, owners, level):
            add("overdue", schedule.overdue_every * level, level, to)
            level += 1
    return out


def derive_reminders(
    incident_id: str,
    obligations: Iterable[Any],
    steps: Iterable[Any],
    agreement: Agreement,
    policy: ReminderPolicy | None = None,
    *,
    since: datetime | None = None,
    notifier: Mapping[str, str] | None = None,
) -> list[Reminder]:
    """Every reminder the open, dated items of one incident call for, ordered by ``due_at``.

    ``notifier`` maps an obligation's rule id (or key) to the party that must give the notice; it
    defaults to :func:`notifiers_of` the agreement.
    """
    policy = policy or ReminderPolicy()
    notifier = notifiers_of(agreement) if notifier is None else notifier
    found: list[Reminder] = []
    for ob in obligations:
        if ob.status in CLOSED_STATUSES or ob.due is None:
            continue
        owners = _obligation_owners(ob, agreement, notifier)
        found += _for_item(
            incident_id=incident_id,
            target=f"obligation:{ob.key}",
            item_kind="obligation",
            title=ob.title,
            citation=ob.citation or None,
            due=ob.due,
            owners=owners,
            schedule=policy.schedule_for((ob.key, ob.rule_id), owners[0].role if owners else None),
            agreement=agreement,
            since=since,
        )
    for step in steps:
        if step.status in CLOSED_STATUSES or step.due is None:
            continue
        found += _for_item(
            incident_id=incident_id,
            target=f"step:{step.step_id}",
            item_kind="step",
            title=step.title,
            citation=None,
            due=step.due,
            owners=_step_owners(step, agreement),
            schedule=policy.schedule_for((step.step_id,), step.owner_role),
            agreement=agreement,
            since=since,
        )
    found.sort(key=lambda r: (r.due_at, r.key))
    return found

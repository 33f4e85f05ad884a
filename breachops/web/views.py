"""What the pages show, worked out in Python so the templates only lay it out: local times,
countdowns, the board's rows, an incident's phases, timeline, messages and audit trail.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from breachops.config.agreements import Agreement
from breachops.services.incidents import playbook_of
from breachops.store import console, verify
from breachops.store.audit_verify import LedgerResult
from breachops.store.database import Session
from breachops.store.disclosures import Withheld, withheld
from breachops.store.models import Incident, ObligationRow
from breachops.store.repository import Repository
from breachops.web.people import contact_in
from breachops.web.redaction import WITHHELD, event_for, fact_text

__all__ = [
    "BoardRow",
    "Moment",
    "board_rows",
    "countdown",
    "incident_view",
    "moment",
    "owners_of",
    "waiting_for",
    "withheld_from",
]

_OPEN_STEP = ("pending", "waiting", "running")
PHASES = ("containment", "investigation", "remediation", "notification")
TIMELINE_HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class Moment:
    """An instant as the viewer reads it: local wall clock and zone, plus the ISO form for <time>."""

    iso: str
    local: str
    utc: str


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def moment(value: datetime | None, zone: str) -> Moment | None:
    if value is None:
        return None
    here = value.astimezone(_zone(zone))
    return Moment(value.isoformat(), f"{here:%Y-%m-%d %H:%M} {here.tzname()}", f"{value:%Y-%m-%d %H:%M} UTC")


def countdown(due: datetime | None, now: datetime) -> tuple[str, bool]:
    """``in 5 h 20 min`` or ``overdue by 2 d 3 h``, and whether it is overdue."""
    if due is None:
        return "no fixed time", False
    gap = due - now
    minutes = int(abs(gap.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = f"{days} d {hours} h" if days else (f"{hours} h {mins} min" if hours else f"{mins} min")
    return (f"overdue by {text}", True) if gap <= timedelta(0) else (f"in {text}", False)


def owners_of(agreement: Agreement, role: str, party: str) -> list[tuple[str, str]]:
    """(party, email) of the people who own a step: the role at each party, else its incident lead."""
    parties = ("disclosing", "receiving") if party == "both" else (party,)
    found = []
    for key in parties:
        team = agreement.parties.get(key)
        if team is None:
            continue
        contact = team.contacts.get(role) or team.contacts["incident_lead"]  # type: ignore[call-overload]
        found.append((key, contact.email.lower()))
    return found


def waiting_for(agreement: Agreement, steps: list[Any], email: str) -> list[Any]:
    """The steps waiting for a person's answer that ``email`` owns."""
    me = email.lower()
    return [
        s
        for s in steps
        if s.status == "waiting"
        and any(e == me for _, e in owners_of(agreement, s.owner_role, s.owner_party))
    ]


@dataclass
class BoardRow:
    incident: Any  # id, title, drill
    next_title: str | None
    next_due: Moment | None
    next_countdown: str
    overdue: bool
    open_obligations: int
    mine: list[tuple[Any, Moment | None]] = field(default_factory=list)


def board_rows(
    session: Session,
    incidents: list[Any],
    agreements: dict[str, Agreement],
    email: str,
    zone: str,
    now: datetime,
) -> list[BoardRow]:
    """One row per incident: its next due obligation with a countdown, and the steps waiting for me.
    Two queries for all of them, so a board of a thousand incidents stays one page load."""
    ids = [i.id for i in incidents]
    obligations = console.first_due(session, ids)
    steps = console.waiting_steps(session, ids)
    rows = []
    for incident in incidents:
        first = obligations.get(incident.id)
        text, late = countdown(first.due if first else None, now)
        mine = waiting_for(agreements[incident.id], steps.get(incident.id, []), email)
        rows.append(
            BoardRow(
                incident,
                first.title if first else None,
                moment(first.due, zone) if first else None,
                text if first else "",
                late,
                first.total if first else 0,
                [(s, moment(s.due, zone)) for s in mine],
            )
        )
    # Overdue first, then by the next due time; incidents with nothing due last.
    rows.sort(key=lambda r: (not r.overdue, r.next_due is None, r.next_due.iso if r.next_due else ""))
    return rows


def _timeline(obligations: list[ObligationRow], opened: datetime, now: datetime) -> dict[str, Any]:
    """Positions (0-1000 wide) of each dated obligation and of now, on a span from opening to the last
    due time (a little past now at least)."""
    dated = [o for o in obligations if o.due is not None]
    start = min(opened, now)
    # Two weeks past now at most: a duty due in months would squeeze the urgent ones into a corner;
    # later ones sit at the right edge, labelled with their date.
    horizon = now + TIMELINE_HORIZON
    end = max([o.due for o in dated if o.due is not None and o.due <= horizon] + [now + timedelta(hours=1)])
    span = (end - start).total_seconds() or 1.0

    def x(at: datetime) -> float:
        return round(40 + 920 * min((at - start).total_seconds() / span, 1.0), 1)

    marks = []
    for index, o in enumerate(sorted(dated, key=lambda o: o.due or now)):
        assert o.due is not None
        late = o.status in console.OPEN_OBLIGATION and o.due <= now
        state = "met" if o.status == "met" else ("late" if late or o.status == "missed" else o.status)
        marks.append({"x": x(o.due), "y": 40 + 22 * index, "title": o.title, "state": state, "due": o.due})
    return {"now_x": x(now), "start": start, "end": end, "marks": marks, "height": 60 + 22 * len(marks)}


def withheld_from(
    session: Session, incident: Incident, agreement: Agreement, viewer_email: str
) -> tuple[Withheld, dict[str, str]]:
    """What the viewer's party may not see of the incident, and each party's display name."""
    found = contact_in(agreement, viewer_email)
    names = {key: party.name for key, party in agreement.parties.items()}
    return withheld(session, incident.id, found[0] if found else None), names


def incident_view(
    session: Session,
    incident: Incident,
    agreement: Agreement,
    viewer_email: str,
    zone: str,
    now: datetime,
    ledger: LedgerResult | None = None,
) -> dict[str, Any]:
    hidden, names = withheld_from(session, incident, agreement, viewer_email)
    playbook = playbook_of(incident)
    repository = Repository(session)
    steps = repository.steps(incident.id)
    obligations = repository.obligations(incident.id)
    messages = console.message_heads(session, incident.id)
    events = console.audit_events(session, incident.id)
    phases: dict[str, list[dict[str, Any]]] = {}
    mine = {s.step_id for s in waiting_for(agreement, steps, viewer_email)}
    for s in steps:
        owners = []
        for party, email in owners_of(agreement, s.owner_role, s.owner_party):
            found = contact_in(agreement, email)
            owners.append(f"{found[2].name} ({s.owner_role.replace('_', ' ')}, {party})" if found else email)
        text, late = countdown(s.due, now)
        phases.setdefault(s.phase, []).append(
            {
                "row": s, "owners": owners, "due": moment(s.due, zone), "mine": s.step_id in mine,
                "countdown": text if s.status in _OPEN_STEP and s.due else "",
                "overdue": late and s.status in _OPEN_STEP,
                "completed": moment(s.completed_at, zone),
            }
        )  # fmt: skip
    ordered = [(p, phases[p]) for p in PHASES if p in phases] + [
        (p, v) for p, v in phases.items() if p not in PHASES
    ]
    obligation_rows = []
    for o in obligations:
        text, late = countdown(o.due, now)
        is_open = o.status in console.OPEN_OBLIGATION
        obligation_rows.append(
            {"row": o, "due": moment(o.due, zone), "countdown": text if is_open else o.status,
             "overdue": late and is_open}
        )  # fmt: skip
    timeline = _timeline(obligations, incident.opened_at, now)
    for mark in timeline["marks"]:
        mark["when"] = moment(mark.pop("due"), zone)
    return {
        "phases": ordered,
        "obligations": obligation_rows,
        "timeline": timeline,
        "facts": [(k, fact_text(k, _fact_text(v), hidden, names)) for k, v in sorted(incident.facts.items())],
        "messages": [
            {"row": m, "created": moment(m.created_at, zone), "sent": moment(m.sent_at, zone)}
            for m in messages
        ],
        "events": [
            {
                "row": e,
                "at": moment(e.at, zone),
                "summary": _summary(e.kind, e.payload, playbook, hidden, names),
            }
            for e in reversed(events)
        ],
        "verified": verify(session, incident.id, ledger),
        "parties": [(key, p.name) for key, p in agreement.parties.items()],
    }


def _fact_text(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, dict) and "code" in v for v in value):
        return ", ".join(f"{v['code']}={v['affected']}" if v.get("affected") else v["code"] for v in value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _summary(kind: str, payload: str, playbook: Any, hidden: Withheld, names: dict[str, str]) -> str:
    """An audit payload as the viewer may see it, shortened for a table cell (the full record is in
    `breachops audit export`)."""
    try:
        data = event_for(kind, json.loads(payload), playbook, hidden, names)
    except ValueError:
        return WITHHELD if hidden else payload[:200]
    if isinstance(data, dict):
        text = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in data.items())
    else:
        text = json.dumps(data, ensure_ascii=False)
    return text if len(text) <= 240 else text[:239] + "…"

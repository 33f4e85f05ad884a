"""An incident as people and scripts see it: its steps by phase, its obligations, countdowns."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table
from rich.text import Text

from breachops.config.agreements import Agreement
from breachops.config.jurisdictions import MEMBERSHIP
from breachops.config.zones import zone_of
from breachops.deadlines.order import strictest_first
from breachops.playbooks import Playbook, Step
from breachops.reports.deadlines import audience_text, countdown, iso_utc, local_label
from breachops.reports.parties import parties_json
from breachops.reports.tables import keep_whole
from breachops.store.models import Incident, Message, ObligationRow, StepRow
from breachops.textsafe import cell, inert, markup

__all__ = [
    "incident_summary",
    "incident_to_dict",
    "messages_to_dict",
    "obligation_countdown",
    "obligation_zones",
    "render_incident",
    "render_incident_list",
]

_STATUS_STYLE = {
    "done": "green",
    "skipped": "dim",
    "waiting": "bold yellow",
    "running": "cyan",
    "pending": "",
}


def step_people(agreement: Agreement, role: str, party: str) -> list[tuple[str, str, str]]:
    """Who owns a step: the role's contact at each party, or that party's incident lead where the
    agreement names nobody for the role (said in the name, so the gap is visible)."""
    parties = ("disclosing", "receiving") if party == "both" else (party,)
    found = []
    for key in parties:
        contacts = agreement.parties[key].contacts if key in agreement.parties else {}
        contact = contacts.get(role)  # type: ignore[call-overload]
        if contact:
            found.append((contact.name, contact.email, contact.timezone))
        elif "incident_lead" in contacts:
            lead = contacts["incident_lead"]
            found.append((f"{lead.name} (no {role} named; incident lead)", lead.email, lead.timezone))
    return found


def _example(spec: Any, facts: dict[str, Any]) -> str:
    """One valid value for a gate field (the choices are listed apart: ``a|b`` is a shell pipe)."""
    if spec.type == "bool":
        return "yes"
    if spec.type == "choice":
        return spec.choices[0] if spec.choices else "VALUE"
    if spec.type in ("url", "urls"):
        return "https://example.org/evidence"
    if spec.sets == "jurisdictions":  # the incident's own codes, each with its current count
        own = [j for j in facts.get("jurisdictions") or [] if isinstance(j, dict) and j.get("code")]
        pairs = (f"{j['code']}={j['affected']}" if j.get("affected") else str(j["code"]) for j in own)
        return ",".join(pairs) or "DE=120"
    return {"int": "10", "datetime": "2026-11-25T10:00:00Z"}.get(spec.type, "text")


def _choices(spec: Any) -> str:
    if spec.type == "bool":
        return "yes or no"
    if spec.type == "choice":
        return ("any of " if spec.multiple else "one of ") + ", ".join(spec.choices)
    if spec.type == "urls":
        return "links, comma-separated"
    if spec.sets == "jurisdictions":
        return "CODE=COUNT, comma-separated"
    return {"int": "a whole number", "datetime": "an ISO 8601 time with its offset"}.get(spec.type, "text")


def answer_command(incident_id: str, step: Step, by: str, facts: dict[str, Any] | None = None) -> str:
    """The command a person types to confirm ``step``, quoted for the shell, with one valid example
    per gate field; what each field accepts follows on comment lines, which a shell ignores."""
    parts = [f"breachops step done {shlex.quote(incident_id)} {shlex.quote(step.id)} --by {shlex.quote(by)}"]
    notes = []
    for name, spec in (step.gate.fields or {}).items():
        parts.append(f"--set {_single_quoted(f'{name}={_example(spec, facts or {})}')}")
        notes.append(f"  # {name}: {_choices(spec)}" + ("" if spec.required else " (optional)"))
    return "\n".join([" \\\n    ".join(parts), *notes])


def _single_quoted(text: str) -> str:
    """Always quoted, so that a value a person swaps in (spaces, ``|``, ``;``) stays one argument."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def gate_to_dict(step: Step) -> dict[str, Any]:
    return {
        "type": step.gate.type,
        "prompt": step.gate.prompt,
        "fields": {
            name: {"type": spec.type, "label": spec.label, "required": spec.required, "choices": spec.choices}
            for name, spec in (step.gate.fields or {}).items()
        },
    }


def step_to_dict(row: StepRow, agreement: Agreement, step: Step | None = None) -> dict[str, Any]:
    return {
        "step": row.step_id,
        "phase": row.phase,
        "title": row.title,
        "owner": {
            "role": row.owner_role,
            "party": row.owner_party,
            "people": [
                {"name": n, "email": e, "timezone": z}
                for n, e, z in step_people(agreement, row.owner_role, row.owner_party)
            ],
        },
        "due": iso_utc(row.due),
        "status": row.status,
        "completed_at": iso_utc(row.completed_at),
        "completed_by": row.completed_by,
        "answer": row.answer,
        "gate": gate_to_dict(step) if step is not None else None,
    }


# Duties that need nothing more: no countdown runs for them.
_SETTLED = ("met", "waived", "withdrawn")


def obligation_countdown(due: datetime | None, status: str, now: datetime) -> str:
    """The countdown of a stored obligation: none once settled, and for one the incident was closed
    without meeting, that it was (its due time no longer approaches: nobody is acting on it)."""
    if status in _SETTLED:
        return ""
    if status == "closed-unmet":
        return "closed-unmet"
    return countdown(due, now)


def obligation_zones(jurisdiction: str, agreement: Agreement) -> tuple[str, ...]:
    """Where a stored obligation's due time is shown: the zone of its jurisdiction (not of a bloc,
    which spans several), then the zones of the agreement's people, as `deadlines` shows them."""
    own = () if jurisdiction in MEMBERSHIP else (zone_of(jurisdiction),)
    return tuple(z for z in dict.fromkeys(own + agreement.zones()) if z != "UTC")


def obligation_row_to_dict(row: ObligationRow, agreement: Agreement | None = None) -> dict[str, Any]:
    zones = obligation_zones(row.jurisdiction, agreement) if agreement is not None else ()
    return {
        "key": row.key,
        "rule": row.rule_id,
        "stage": row.stage,
        "jurisdiction": row.jurisdiction,
        "audience": row.audience,
        "recipient": row.recipient,
        "title": row.title,
        "due": iso_utc(row.due),
        "due_local": {}
        if row.due is None
        else {z: row.due.astimezone(ZoneInfo(z)).isoformat() for z in zones},
        "basis": row.basis,
        "status": row.status,
        "citation": row.citation,
        "reason": row.reason,
        **parties_json(agreement, row.rule_id),
    }


def messages_to_dict(messages: list[Message]) -> dict[str, Any]:
    """The incident's mail: how many in each delivery state, and every message not (yet) sent."""
    counts = {status: 0 for status in ("queued", "sending", "sent", "failed", "fallback")}
    for m in messages:
        counts[m.status] = counts.get(m.status, 0) + 1
    return {
        "counts": counts,
        "total": len(messages),
        "not_sent": [
            {
                "id": m.id,
                "kind": m.kind,
                "to": list(m.recipients),
                "subject": m.subject,
                "status": m.status,
                "attempts": m.attempts,
                "channel": m.channel,
                "last_error": m.last_error,
            }
            for m in messages
            if m.status != "sent"
        ],
    }


def incident_summary(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "drill": incident.drill,
        "opened_at": iso_utc(incident.opened_at),
        "opened_by": incident.opened_by,
        "playbook": f"{incident.playbook_name}@{incident.playbook_version}",
        "flow_run_id": incident.flow_run_id,
        "closed_at": iso_utc(incident.closed_at),
        "close_reason": incident.close_reason,
    }


def incident_to_dict(
    incident: Incident,
    steps: list[StepRow],
    obligations: list[ObligationRow],
    agreement: Agreement,
    flow_state: str | None = None,
    playbook: Playbook | None = None,
    messages: list[Message] | None = None,
) -> dict[str, Any]:
    by_id = {s.id: s for s in playbook.steps()} if playbook else {}
    return {
        **incident_summary(incident),
        "flow_state": flow_state,
        "facts": incident.facts,
        "steps": [step_to_dict(s, agreement, by_id.get(s.step_id)) for s in steps],
        "obligations": [obligation_row_to_dict(o, agreement) for o in strictest_first(obligations)],
        "messages": messages_to_dict(messages or []),
    }


def _style_for(due: datetime | None, status: str, now: datetime) -> str:
    if status in ("done", "met", "waived", "skipped", "withdrawn", "closed-unmet"):
        return "dim"
    if due is not None and due <= now:
        return "bold red"
    return ""


def render_incident(
    console: Console,
    incident: Incident,
    steps: list[StepRow],
    obligations: list[ObligationRow],
    agreement: Agreement,
    now: datetime,
    flow_state: str | None = None,
    playbook: Playbook | None = None,
    messages: list[Message] | None = None,
) -> None:
    head = Text(f"{inert(incident.id)}  ", style="bold")
    head.append(inert(incident.title))
    head.append(f"\n{incident.status}", style="green" if incident.status == "open" else "dim")
    if incident.drill:
        head.append("  DRILL", style="bold magenta")
    head.append(
        f"  opened {incident.opened_at:%Y-%m-%d %H:%M} UTC by {inert(incident.opened_by)}", style="dim"
    )
    head.append(f"  playbook {inert(incident.playbook_name)}@{inert(incident.playbook_version)}", style="dim")
    if flow_state:
        head.append(f"  flow: {inert(flow_state)}", style="dim")
    console.print(head)

    table = Table(title="Playbook", show_lines=False)
    for name in ("phase", "step", "owner", "due", "countdown", "status"):
        table.add_column(name, no_wrap=name in ("phase", "countdown", "status"))
    last_phase = None
    for row in steps:
        people = step_people(agreement, row.owner_role, row.owner_party)
        owner = f"{inert(row.owner_role)} @ {inert(row.owner_party)}\n" + "\n".join(
            f"{inert(n)} <{inert(e)}>" for n, e, _ in people
        )
        due = "—"
        if row.due is not None:
            zones = dict.fromkeys(z for _, _, z in people)
            due = f"{row.due:%Y-%m-%d %H:%M} UTC" + "".join(
                "\n" + local_label(row.due.astimezone(ZoneInfo(z)), z) for z in zones
            )
        style = _style_for(row.due, row.status, now)
        status = Text(row.status, style=_STATUS_STYLE.get(row.status, ""))
        if row.status == "done" and row.completed_by:
            status.append(f"\n{inert(row.completed_by)}", style="dim")
        table.add_row(
            cell(row.phase if row.phase != last_phase else ""),
            cell(f"{inert(row.step_id)}\n{inert(row.title)}"),
            cell(owner),
            Text(due, style=style),
            Text(countdown(row.due, now) if row.status not in ("done", "skipped") else "", style=style),
            status,
        )
        last_phase = row.phase
    console.print(keep_whole(table))

    ob = Table(title="Obligations, strictest first", show_lines=False)
    for name in ("due", "countdown", "to", "obligation", "status"):
        ob.add_column(name)
    for ob_row in strictest_first(obligations):
        style = _style_for(ob_row.due, ob_row.status, now)
        ob.add_row(
            Text(_obligation_due(ob_row, agreement), style=style),
            Text(obligation_countdown(ob_row.due, ob_row.status, now), style=style),
            cell(audience_text(ob_row.audience, ob_row.jurisdiction, ob_row.rule_id, agreement)),
            Text.assemble(
                inert(ob_row.title), "\n", (f"{inert(ob_row.key)} · {inert(ob_row.citation)}", "dim")
            ),
            cell(ob_row.status),
        )
    console.print(keep_whole(ob))
    _render_messages(console, messages or [])
    waiting = [r for r in steps if r.status == "waiting"]
    if playbook is not None and waiting and incident.status == "open":
        console.print("[bold]Waiting for people[/bold] — confirm with:")
        for row in waiting:
            people = step_people(agreement, row.owner_role, row.owner_party)
            by = people[0][1] if people else "EMAIL"
            console.print(
                cell(answer_command(incident.id, playbook.step(row.step_id), by, dict(incident.facts))),
                highlight=False,
            )


def _obligation_due(row: ObligationRow, agreement: Agreement) -> str:
    """UTC, then local time with its zone where the jurisdiction and the parties' people are."""
    if row.due is None:
        return "clock not started"
    lines = [f"{row.due:%Y-%m-%d %H:%M} UTC" + (" (target)" if row.basis == "target" else "")]
    lines += [
        local_label(row.due.astimezone(ZoneInfo(z)), z) for z in obligation_zones(row.jurisdiction, agreement)
    ]
    return "\n".join(lines)


def _render_messages(console: Console, messages: list[Message]) -> None:
    summary = messages_to_dict(messages)
    counts = ", ".join(f"{n} {status}" for status, n in summary["counts"].items() if n)
    console.print(f"[bold]Messages[/bold]: {markup(counts or 'none')}", highlight=False)
    if not summary["not_sent"]:
        return
    table = Table(show_header=True, box=None)
    for name in ("id", "status", "kind", "to", "tries", "last error"):
        table.add_column(name)
    style = {"failed": "bold red", "fallback": "yellow", "sending": "cyan"}
    for m in summary["not_sent"]:
        table.add_row(
            str(m["id"]), cell(m["status"], style=style.get(m["status"], "")), cell(m["kind"]),
            cell(", ".join(m["to"])), str(m["attempts"]), cell(m["last_error"] or ""),
        )  # fmt: skip
    console.print(keep_whole(table))


def render_incident_list(console: Console, incidents: list[Incident], now: datetime) -> None:
    table = Table(title=f"{len(incidents)} incident(s)")
    for name in ("id", "title", "status", "opened", "playbook"):
        table.add_column(name)
    for i in incidents:
        ident = cell(i.id)
        if i.drill:
            ident.append(" drill", style="magenta")
        table.add_row(
            ident,
            cell(i.title),
            cell(i.status),
            f"{i.opened_at:%Y-%m-%d %H:%M} UTC ({countdown(i.opened_at, now).replace('overdue', 'ago')})",
            cell(f"{i.playbook_name}@{i.playbook_version}"),
        )
    console.print(keep_whole(table))

"""`breachops incident …` and `breachops step …`: open, follow, change, answer, close."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from breachops.bootstrap import App
from breachops.commands.common import TableOrJson, actor, err, make_app, out, record_id, say
from breachops.config.agreements import agreement_file, load_agreement
from breachops.deadlines.engine import assess, coverage_gaps
from breachops.deadlines.models import load_facts, parse_facts
from breachops.errors import ServiceUnavailable
from breachops.playbooks import load_playbook
from breachops.reports.deadlines import (
    assessment_to_json,
    gap_lines,
    render_assessment,
    render_warnings,
    warning_lines,
)
from breachops.reports.incident import (
    incident_summary,
    incident_to_dict,
    render_incident,
    render_incident_list,
)
from breachops.reports.values import human_due, human_value
from breachops.services.facts import FactsResult, change_facts, parse_assignments
from breachops.services.incidents import (
    agreement_of,
    close_incident,
    facts_of,
    missing_owners,
    open_incident,
    playbook_of,
)
from breachops.services.steps import complete_step
from breachops.store import Repository
from breachops.store.obligations import ObligationDiff
from breachops.store.outbox_reads import list_messages
from breachops.textsafe import json_text, markup

__all__ = ["incident_app", "step_app"]

incident_app = typer.Typer(help="Open, follow and close incidents.", no_args_is_help=True)
step_app = typer.Typer(help="Confirm playbook steps (answer their gates).", no_args_is_help=True)


def _warn(lines: list[str]) -> None:
    """Warnings beside JSON output go to standard error, one line each; standard output stays JSON."""
    for line in lines:
        err.print(Text(f"warning: {line}"), soft_wrap=True)


@incident_app.command("open")
def incident_open(
    facts_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FACTS]",
            help="Facts file (YAML/JSON). Default: aware now, the agreement's jurisdictions.",
        ),
    ] = None,
    agreement: Annotated[
        Path | None, typer.Option("--agreement", "-a", help="agreement.yaml (default: the workspace's).")
    ] = None,
    playbook: Annotated[
        str, typer.Option("--playbook", "-p", help="A playbook name or file.")
    ] = "confidential-information-leak",
    title: Annotated[
        str, typer.Option("--title", "-t", help="A short title for the record.")
    ] = "Suspected leak of confidential information",
    by: Annotated[str | None, typer.Option("--by", help="Who opens it (email).")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    no_flow: Annotated[
        bool, typer.Option("--no-flow", help="Record only; a running `breachops serve` starts its playbook.")
    ] = False,
) -> None:
    """Open an incident: record it, show its obligations, and start its playbook flow."""
    app = make_app()
    agreement_ = load_agreement(agreement_file(app.workspace, agreement))
    playbook_ = load_playbook(playbook, app.playbook_search)
    if facts_file is None:
        facts = parse_facts(
            {"aware_at": app.clock.now().isoformat(), "jurisdictions": list(agreement_.jurisdictions)},
            "defaults",
        )
    else:
        facts = load_facts(facts_file)
    gaps = missing_owners(playbook_, agreement_)
    if gaps:
        say(
            f"the agreement names nobody for {len(gaps)} step owner(s); that party's incident lead "
            "stands in: " + ", ".join(gaps)
        )
    opener = actor(by)
    incident_id = open_incident(
        app, facts=facts, agreement=agreement_, playbook=playbook_, title=title, actor=opener
    )
    if opener.lower() not in {
        c.email.lower() for p in agreement_.parties.values() for c in p.contacts.values()
    }:
        say(f"{opener} is not a contact in the agreement: recorded as opened by them, unverified")
    flow_run_id = None
    if not no_flow:
        from breachops.flows.launcher import start_incident_flow

        try:
            flow_run_id = start_incident_flow(app, incident_id, progress=say)
        except ServiceUnavailable as exc:  # recorded all the same; `serve` starts its playbook later
            reason = escape(str(exc))
            say(f"{incident_id} is recorded; its playbook did not start ({reason}); `serve` starts it")
    now = app.clock.now()
    result = assess(facts, app.catalogue, now=now, agreement=agreement_)
    if fmt is TableOrJson.json:
        _warn(warning_lines(result))
        print(
            json_text(
                {
                    "incident": incident_id,
                    "flow_run_id": flow_run_id,
                    "obligations": assessment_to_json(result, agreement_),
                },
                indent=2,
            )
        )
        return
    out.print(f"[bold]{markup(incident_id)}[/bold] opened: {markup(title)}", highlight=False)
    render_assessment(out, result, now, why_not=False, agreement=agreement_)
    if flow_run_id:
        out.print(f"playbook {markup(playbook_.ref)} running as flow run {markup(flow_run_id)}")
    out.print(f"next: `breachops incident show {markup(incident_id)}`", highlight=False)


@incident_app.command("list")
def incident_list(
    all_: Annotated[bool, typer.Option("--all", help="Include closed incidents.")] = False,
    drills: Annotated[bool, typer.Option("--drills", help="Include drill records.")] = False,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """List incidents (open ones, real ones, unless told otherwise)."""
    app = make_app()
    with app.transaction() as session:
        incidents = Repository(session).list_incidents(include_drills=drills, status=None if all_ else "open")
        if fmt is TableOrJson.json:
            print(json_text([incident_summary(i) for i in incidents], indent=2))
            return
        render_incident_list(out, incidents, app.clock.now())


def _flow_state(app: App, flow_run_id: str | None) -> str | None:
    if not flow_run_id:
        return None
    try:
        from breachops.flows.launcher import flow_run_state

        state = flow_run_state(app, flow_run_id)
        return state.name if state else None
    except Exception:  # Prefect down: the store still answers
        return "unknown (Prefect not reachable)"


@incident_app.command("show")
def incident_show(
    incident_id: Annotated[str, typer.Argument(metavar="INC", callback=record_id)],
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Phases and steps with owners and due times in local time, obligations with countdowns."""
    app = make_app()
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        steps, obligations = repo.steps(incident_id), repo.obligations(incident_id)
        messages = list_messages(session, incident_id)
        agreement_ = agreement_of(app, incident)
        flow_state = _flow_state(app, incident.flow_run_id) if incident.status == "open" else None
        gaps = coverage_gaps(facts_of(incident), app.catalogue)
        if fmt is TableOrJson.json:
            _warn(gap_lines(gaps))
            data = incident_to_dict(
                incident, steps, obligations, agreement_, flow_state, playbook_of(incident), messages
            )
            print(json_text(data, indent=2, default=str))
            return
        render_warnings(out, gaps)
        render_incident(
            out,
            incident,
            steps,
            obligations,
            agreement_,
            app.clock.now(),
            flow_state,
            playbook_of(incident),
            messages,
        )


@incident_app.command("facts")
def incident_facts(
    incident_id: Annotated[str, typer.Argument(metavar="INC", callback=record_id)],
    set_: Annotated[
        list[str],
        typer.Option(
            "--set", help="field=value, e.g. risk=high, jurisdictions=DE=120,BR=40 (CODE=COUNT, by code)."
        ),
    ],
    replace: Annotated[
        bool,
        typer.Option("--replace", help="jurisdictions= replaces the whole list instead of updating by code."),
    ] = False,
    by: Annotated[str | None, typer.Option("--by")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Change facts; obligations and step due times are recomputed and every change recorded.

    ``--set jurisdictions=DE=12`` changes Germany's count and keeps the others; ``--replace`` makes
    the given list the whole list."""
    app = make_app()
    changes = parse_assignments(set_)
    result = change_facts(
        app, incident_id, changes, source="cli", actor=actor(by), merge_jurisdictions=not replace
    )
    _print_fact_result(incident_id, result, fmt)


def _diff_data(diff: ObligationDiff) -> dict[str, Any]:
    return {
        "added": list(diff.added),
        "removed": list(diff.removed),
        "due_changed": [
            {"key": c.key, "old": str(c.old) if c.old else None, "new": str(c.new) if c.new else None}
            for c in diff.due_changed
        ],
    }


def _print_fact_result(incident_id: str, result: FactsResult, fmt: TableOrJson) -> None:
    diff = result.obligations
    data = {"incident": incident_id, "changed": result.changed, "obligations": _diff_data(diff)}
    if fmt is TableOrJson.json:
        _warn(gap_lines(result.gaps))
        print(json_text(data, indent=2, default=str))
        return
    render_warnings(out, result.gaps)
    if not result.changed:
        out.print("nothing changed")
        return
    for name, value in result.changed.items():
        out.print(f"fact [bold]{markup(name)}[/bold] = {markup(human_value(value))}", highlight=False)
    for key in diff.added:
        out.print(f"[yellow]+ obligation {markup(key)}[/yellow]")
    for key in diff.removed:
        out.print(f"[dim]- obligation {markup(key)} (withdrawn)[/dim]")
    for change in diff.due_changed:
        old, new = human_due(change.old), human_due(change.new)
        out.print(f"~ obligation {markup(change.key)}: due {old} → {new}", highlight=False)


@incident_app.command("close")
def incident_close(
    incident_id: Annotated[str, typer.Argument(metavar="INC", callback=record_id)],
    reason: Annotated[str, typer.Option("--reason", help="Why it is closed, for the record.")],
    accept_pending: Annotated[
        bool,
        typer.Option(
            "--accept-pending", help="Close although obligations are not met (recorded as closed-unmet)."
        ),
    ] = False,
    by: Annotated[str | None, typer.Option("--by")] = None,
) -> None:
    """Close an incident; its record stays, and its flow run is stopped. Obligations not yet met
    are named and the close refused, unless --accept-pending. Closing a drill's record stops it."""
    app = make_app()
    incident = close_incident(app, incident_id, reason=reason, actor=actor(by), accept_pending=accept_pending)
    if incident.flow_run_id:
        try:
            from breachops.flows.launcher import cancel_incident_flow

            cancel_incident_flow(app, incident.flow_run_id)
        except Exception as exc:  # the record is closed either way
            say(f"could not stop flow run {incident.flow_run_id}: {exc}")
    out.print(f"{markup(incident_id)} closed: {markup(reason)}", highlight=False)


_KEEPS = "keeps internal to your party: the console withholds it from the other parties' people"


def _disclosure(
    incident_id: str, facts: list[str] | None, steps: list[str] | None, by: str, share: bool, fmt: TableOrJson
) -> None:
    from breachops.services.disclosure import change_disclosure

    change = change_disclosure(
        make_app(), incident_id, facts=facts or [], steps=steps or [], by=by, share=share
    )
    if fmt is TableOrJson.json:
        data = {"incident": incident_id, "party": change.party, "shared": share}
        print(json_text(data | {"facts": change.facts, "steps": change.steps}, indent=2))
        return
    verb = "shared with every party" if share else f"internal to {change.party}"
    done = [f"fact {name}" for name in change.facts] + [f"step {name}" for name in change.steps]
    if not done:
        out.print(f"{markup(incident_id)}: nothing changed (already as asked)", highlight=False)
    for item in done:
        out.print(f"{markup(incident_id)}: {markup(item)} {verb}", highlight=False)


@incident_app.command("internal")
def incident_internal(
    incident_id: Annotated[str, typer.Argument(metavar="INC", callback=record_id)],
    by: Annotated[str, typer.Option("--by", help="Your email, as the agreement lists it.")],
    fact: Annotated[list[str] | None, typer.Option("--fact", help=f"A fact your party {_KEEPS}.")] = None,
    step: Annotated[list[str] | None, typer.Option("--step", help=f"A step your party {_KEEPS}.")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Keep facts or steps internal to your party (staged disclosure): the web console shows them to your
    party's people only, and withholds the audit entries that carry them from the others. Recorded in
    the audit log; `breachops incident share` lifts a mark."""
    _disclosure(incident_id, fact, step, by, share=False, fmt=fmt)


@incident_app.command("share")
def incident_share(
    incident_id: Annotated[str, typer.Argument(metavar="INC", callback=record_id)],
    by: Annotated[str, typer.Option("--by", help="Your email, as the agreement lists it.")],
    fact: Annotated[list[str] | None, typer.Option("--fact", help="A fact your party kept internal.")] = None,
    step: Annotated[list[str] | None, typer.Option("--step", help="A step your party kept internal.")] = None,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Share again what your party kept internal with `breachops incident internal`. Recorded in the
    audit log."""
    _disclosure(incident_id, fact, step, by, share=True, fmt=fmt)


@step_app.command("done")
def step_done(
    incident_id: Annotated[str, typer.Argument(metavar="INC", callback=record_id)],
    step_id: Annotated[str, typer.Argument(metavar="STEP")],
    by: Annotated[str, typer.Option("--by", help="Your email, as the agreement lists it.")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="The gate's answer: field=value (repeat).")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Evidence or remarks for the record.")] = "",
    on_behalf_of: Annotated[
        str | None,
        typer.Option(
            "--on-behalf-of",
            metavar="ROLE",
            help="Confirm for the step's owning role when you do not hold it (recorded as such).",
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the flow has taken the answer.")
    ] = True,
    fmt: Annotated[TableOrJson, typer.Option("--format", help="table for people, json for scripts.")] = (
        TableOrJson.table
    ),
) -> None:
    """Confirm a step (answering its gate); the playbook goes on from there."""
    app = make_app()
    answer = parse_assignments(set_ or [])
    with app.transaction() as session:
        record = Repository(session).get_incident(incident_id)
        flow_run_id, drill_id = record.flow_run_id, record.drill_id if record.drill else None
    # A drill's answers are tagged with the drill; its flow reads them from the store on its next tick.
    source = f"drill:{drill_id}" if drill_id else "cli"
    result = complete_step(
        app, incident_id, step_id, answer, by=by, note=note, source=source, on_behalf_of=on_behalf_of
    )
    if fmt is TableOrJson.json:
        data: dict[str, Any] = {"incident": incident_id, "step": step_id, "by": by}
        data["on_behalf_of"] = on_behalf_of
        data |= {"answer": answer, "changed": result.changed}
        data["obligations"] = _diff_data(result.obligations)
        print(json_text(data, indent=2, default=str))
    else:
        behalf = f" on behalf of {markup(on_behalf_of)}" if on_behalf_of else ""
        out.print(f"{markup(incident_id)} · {markup(step_id)}: done by {markup(by)}{behalf}", highlight=False)
        if result.changed:
            _print_fact_result(incident_id, result, TableOrJson.table)
    if drill_id:
        say("answer recorded; the drill takes it on its next tick")
    elif flow_run_id and wait:
        from breachops.flows.launcher import wake_after_answer

        try:
            say(wake_after_answer(app, flow_run_id, step_id, by))
        except ServiceUnavailable as exc:  # the answer is stored: `serve` wakes the run later
            say(
                f"answer recorded; the playbook could not be woken now ({escape(str(exc))}); `serve` wakes it"
            )
    elif flow_run_id:
        say("answer recorded; `breachops serve` will wake the flow")

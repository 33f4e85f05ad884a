"""`breachops drill …`: tabletop exercises for both parties — run, advance, follow, report, schedule."""

from __future__ import annotations

import math
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from breachops.bootstrap import App
from breachops.commands.common import TableOrJson, actor, make_app, out, record_id, say
from breachops.commands.drill_evaluation import register as register_evaluation_commands
from breachops.commands.drill_msel import register as register_msel_commands
from breachops.commands.drill_pack import register as register_pack_commands
from breachops.commands.drill_schedules import register as register_schedule_commands
from breachops.commands.drill_schedules import schedules_json, schedules_table
from breachops.config.agreements import agreement_file, load_agreement
from breachops.errors import InputError
from breachops.playbooks.loader import list_scenarios, load_scenario
from breachops.playbooks.scenario_time import format_offset, parse_span
from breachops.reports.tables import keep_whole
from breachops.services.drills import advance_drill, scenario_of, start_drill, status, stop_drill
from breachops.store import Repository
from breachops.store.drills import DrillRepository
from breachops.textsafe import cell, inert, json_text, markup

__all__ = ["drill_app"]

drill_app = typer.Typer(
    help="Tabletop drills: a scenario's injects run through the playbook in drill mode, scored and "
    "reported. A drill emails only its participants, every subject starts with [DRILL], and it never "
    "writes to a regulator or to the people affected.",
    no_args_is_help=True,
)


def _scenario_search(app: App) -> list[Path]:
    return [app.workspace / "scenarios"]


def _speed(
    scenario_duration: timedelta, speed: float | None, compress: str | None, facilitated: bool
) -> float:
    chosen = [name for name, given in (("--speed", speed), ("--compress", compress)) if given is not None]
    if facilitated:
        chosen.append("--facilitated")
    if len(chosen) > 1:
        raise InputError(chosen[1], None, None, f"cannot be combined with {chosen[0]}", "Choose one.")
    if facilitated:
        return 0.0
    if compress is not None:
        try:
            span = parse_span(compress)
        except ValueError as exc:
            raise InputError("--compress", None, compress, str(exc)) from None
        if span <= timedelta(0):
            raise InputError("--compress", None, compress, "must be longer than zero")
        return scenario_duration / span
    if speed is None:
        return 1.0
    if not math.isfinite(speed) or speed <= 0:
        raise InputError("--speed", None, speed, "must be above 0", "Use --facilitated for a clock you move.")
    return speed


@drill_app.command("run")
def drill_run(
    scenario_name: Annotated[str, typer.Argument(metavar="SCENARIO", help="A scenario id or file.")],
    speed: Annotated[
        float | None, typer.Option("--speed", help="Scenario hours per real hour (36: 72 h in 2 h).")
    ] = None,
    compress: Annotated[
        str | None, typer.Option("--compress", help="Run the whole scenario in this long (e.g. 2h, 10m).")
    ] = None,
    facilitated: Annotated[
        bool, typer.Option("--facilitated", help="The clock moves only with `drill advance`.")
    ] = False,
    simulate: Annotated[
        bool, typer.Option("--simulate", help="Scripted participants answer (a demonstration or a check).")
    ] = False,
    agreement: Annotated[
        Path | None, typer.Option("--agreement", "-a", help="agreement.yaml (default: the workspace's).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who starts it (the facilitator).")] = None,
    detach: Annotated[bool, typer.Option("--detach", help="Start it and return at once.")] = False,
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Run a drill now: T+0 is now; injects go to the participants on the drill clock."""
    app = make_app()
    scenario = load_scenario(scenario_name, _scenario_search(app), app.playbook_search)
    agreement_ = load_agreement(agreement_file(app.workspace, agreement))
    rate = _speed(scenario.duration, speed, compress, facilitated)
    from breachops.flows.launcher import ensure_runtime, start_drill_flow

    ensure_runtime(app, say)  # before T+0: starting Prefect must not eat into a compressed scenario
    mode = "facilitated" if rate == 0 else "real" if rate == 1 else "compressed"
    drill_id = start_drill(
        app, scenario, agreement_, speed=rate, mode=mode, simulate=simulate, actor=actor(by)
    )
    run_id = start_drill_flow(app, drill_id, progress=say)
    say(f"{drill_id}: {scenario.title} ({mode}, speed {rate:g}{', simulated' if simulate else ''})")
    if not detach:
        _follow(app, drill_id, run_id, quiet=fmt is TableOrJson.json)
    _print_drill(app, drill_id, fmt)


def _follow(app: App, drill_id: str, run_id: str, quiet: bool) -> None:
    """Show the drill clock until the drill ends; fail loudly if its flow run does."""
    from breachops.flows.launcher import flow_run_state

    current = status(app, drill_id)
    total = scenario_of(current.drill).duration.total_seconds()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
        console=out if not quiet else None, transient=True, disable=quiet,
    ) as bar:  # fmt: skip
        task = bar.add_task(drill_id, total=total, detail="")
        checked = 0.0
        while True:
            current = status(app, drill_id)
            if current.drill.status != "running":
                return
            elapsed = current.clock.offset(current.scenario_now).total_seconds()
            with app.transaction() as session:
                injects = DrillRepository(session).injects(drill_id)
                steps = Repository(session).steps(drill_id)
            delivered = sum(1 for i in injects if i.delivered_at is not None)
            done = sum(1 for s in steps if s.status in ("done", "skipped"))
            bar.update(
                task,
                completed=min(elapsed, total),
                detail=f"{format_offset(current.clock.offset(current.scenario_now))} · injects "
                f"{delivered}/{len(injects)} · steps {done}/{len(steps)}",
            )
            if time.monotonic() - checked > 5:
                checked = time.monotonic()
                state = flow_run_state(app, run_id)
                if state is not None and state.final and state.name.lower() != "completed":
                    raise InputError(
                        None, None, None, f"the flow run of {drill_id} ended {state.name.lower()}",
                        "See the run in the Prefect UI; `breachops serve` reruns it after a crash.",
                    )  # fmt: skip
            time.sleep(0.5)


def _drill_dict(app: App, drill_id: str) -> dict[str, Any]:
    current = status(app, drill_id)
    drill = current.drill
    with app.transaction() as session:
        injects = DrillRepository(session).injects(drill_id)
    return {
        "drill": drill.id,
        "scenario": drill.scenario_id,
        "status": drill.status,
        "mode": drill.mode,
        "speed": drill.speed,
        "simulate": drill.simulate,
        "started_at": drill.started_at.isoformat(),
        "ended_at": drill.ended_at.isoformat() if drill.ended_at else None,
        "scenario_time": format_offset(current.clock.offset(current.scenario_now)),
        "participants": drill.participants,
        "injects": [
            {
                "inject": i.inject_id,
                "title": i.title,
                "due": format_offset(i.due_at - drill.t0),
                "delivered": None if i.delivered_at is None else format_offset(i.delivered_at - drill.t0),
                # How late it went out, in real seconds (scenario seconds for a facilitated drill).
                "late_seconds": None
                if i.delivered_at is None
                else round((i.delivered_at - i.due_at).total_seconds() / (drill.speed or 1), 3),
                "skipped": i.skipped,  # why a contingency inject was not delivered
            }
            for i in injects
        ],
        "score": drill.score,
        "report_html": drill.report_html,
        "report_md": drill.report_md,
        "flow_run_id": drill.flow_run_id,
    }


def _print_drill(app: App, drill_id: str, fmt: TableOrJson) -> None:
    data = _drill_dict(app, drill_id)
    if fmt is TableOrJson.json:
        print(json_text(data, indent=2))
        return
    out.print(
        f"[bold]{markup(data['drill'])}[/bold] {markup(data['scenario'])}: {data['status']} "
        f"({data['mode']}, speed {data['speed']:g}), scenario time {data['scenario_time']}",
        highlight=False,
    )
    summary = (data["score"] or {}).get("summary") or {}
    for key, value in summary.items():
        out.print(f"  {markup(key.replace('_', ' '))}: {markup(value)}", highlight=False)
    if data["report_html"]:
        out.print(f"after-action report: {markup(data['report_html'])}", highlight=False)
        out.print(f"                     {markup(data['report_md'])}", highlight=False)
    elif data["status"] == "running":
        out.print(
            f"follow: `breachops drill show {markup(drill_id)}`; "
            f"answer: `breachops step done {markup(drill_id)} STEP --by EMAIL`",
            highlight=False,
        )


@drill_app.command("show")
def drill_show(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
) -> None:
    """Where a drill stands: its clock, injects, score and report."""
    app = make_app()
    data = _drill_dict(app, drill_id)
    if fmt is TableOrJson.json:
        print(json_text(data, indent=2))
        return
    _print_drill(app, drill_id, fmt)
    table = Table("inject", "title", "due", "delivered")
    for inject in data["injects"]:
        table.add_row(
            cell(inject["inject"]),
            cell(inject["title"]),
            inject["due"],
            inject["delivered"] or cell(f"skipped: {inject['skipped']}" if inject["skipped"] else "—"),
        )
    out.print(keep_whole(table))
    out.print(f"steps and obligations: `breachops incident show {markup(drill_id)}`", highlight=False)


@drill_app.command("advance")
def drill_advance(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    for_span: Annotated[
        str | None, typer.Option("--for", help="How far (e.g. 2h, 1d). Default: to the next inject.")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", metavar="EMAIL", help="Who advances it (the facilitator).")
    ] = None,
    who: Annotated[
        str | None, typer.Option("--as", hidden=True, help="Same as --by (older spelling).")
    ] = None,
) -> None:
    """Move a drill's clock forward (the facilitator's control); the drill acts on it within a second."""
    if by is not None and _looks_like_span(by):
        # --by names a person in every command; a span given to it is the older spelling of --for.
        raise InputError("--by", None, by, "names a person, not a span", f"Use `--for {by}`.")
    app = make_app()
    delta = None
    if for_span is not None:
        try:
            delta = parse_span(for_span)
        except ValueError as exc:
            raise InputError("--for", None, for_span, str(exc)) from None
    current = advance_drill(app, drill_id, delta, actor(by or who))
    out.print(
        f"{markup(drill_id)}: scenario time now {format_offset(current.clock.offset(current.scenario_now))}"
    )


@drill_app.command("stop")
def drill_stop(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    reason: Annotated[str, typer.Option("--reason", help="Why it ends early, for the record.")] = "",
    by: Annotated[str | None, typer.Option("--by", help="Who stops it (the facilitator).")] = None,
) -> None:
    """End a running drill now: its clock stops where it is and its record closes."""
    app = make_app()
    current = stop_drill(app, drill_id, reason=reason, actor=actor(by))
    at = format_offset(current.clock.offset(current.scenario_now))
    out.print(f"{markup(drill_id)} stopped at scenario time {at}", highlight=False)


def _looks_like_span(value: str) -> bool:
    try:
        parse_span(value)
    except ValueError:
        return False
    return True


@drill_app.command("report")
def drill_report(
    drill_id: Annotated[str, typer.Argument(metavar="DRILL", callback=record_id)],
    fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown report.")] = False,
    finalize: Annotated[
        bool, typer.Option("--finalize", help="End the evaluation: the report loses its DRAFT mark.")
    ] = False,
    by: Annotated[str | None, typer.Option("--by", help="Who finalizes it (with --finalize).")] = None,
) -> None:
    """The after-action report: where it is (HTML and Markdown), or, for a running drill, an interim one.
    A finished drill's report is a DRAFT, to which evaluators still add, until --finalize."""
    from breachops.services.drill_evaluation import finalize_report
    from breachops.services.drill_reports import build_report

    app = make_app()
    current = status(app, drill_id)
    score: dict[str, Any] | None
    if finalize and not finalize_report(app, drill_id, actor(by)):
        say(f"the report of {drill_id} was final already")
    if finalize or current.drill.status == "running" or not current.drill.report_html:
        outcome = build_report(app, drill_id, interim=current.drill.status == "running")
        html, md, score = str(outcome.html_path), str(outcome.md_path), outcome.score
        if current.drill.status == "running":
            say("the drill is still running: this report is interim")
    else:
        html, md, score = current.drill.report_html, current.drill.report_md or "", current.drill.score
    if fmt is TableOrJson.json:
        print(json_text({"drill": drill_id, "report_html": html, "report_md": md, "score": score}, indent=2))
        return
    if markdown:
        print(inert(Path(md).read_text(encoding="utf-8"), newlines=True))
        return
    out.print(
        f"after-action report of {markup(drill_id)}:\n  {markup(html)}\n  {markup(md)}", highlight=False
    )


@drill_app.command("list")
def drill_list(fmt: Annotated[TableOrJson, typer.Option("--format")] = TableOrJson.table) -> None:
    """Scenarios you can run, schedules, and drills run so far."""
    app = make_app()
    scenarios = list_scenarios(_scenario_search(app), app.playbook_search)
    with app.transaction() as session:
        drills = [
            (d.id, d.scenario_id, d.status, d.mode, d.started_at, d.report_html)
            for d in DrillRepository(session).list_drills()
        ]
    if fmt is TableOrJson.json:
        data = {
            "scenarios": [
                {"id": s.id, "version": s.version, "title": s.title, "playbook": s.playbook,
                 "duration_hours": s.duration.total_seconds() / 3600, "injects": len(s.injects)}
                for s in scenarios
            ],
            "schedules": schedules_json(app),
            "drills": [
                {"drill": d[0], "scenario": d[1], "status": d[2], "mode": d[3],
                 "started_at": d[4].isoformat(), "report_html": d[5]}
                for d in drills
            ],
        }  # fmt: skip
        print(json_text(data, indent=2))
        return
    table = Table("scenario", "title", "playbook", "length", "injects", title="Scenarios")
    for s in scenarios:
        table.add_row(
            cell(s.id), cell(s.title), cell(s.playbook), format_offset(s.duration)[2:], str(len(s.injects))
        )
    out.print(keep_whole(table))
    out.print(cell(schedules_table(app)), highlight=False)
    runs = Table("drill", "scenario", "status", "mode", "started (UTC)", "report", title="Drills")
    for d in drills:
        runs.add_row(
            cell(d[0]), cell(d[1]), cell(d[2]), cell(d[3]), f"{d[4]:%Y-%m-%d %H:%M}", cell(d[5] or "—")
        )
    out.print(keep_whole(runs))


register_schedule_commands(drill_app)
register_evaluation_commands(drill_app)
register_msel_commands(drill_app)
register_pack_commands(drill_app)

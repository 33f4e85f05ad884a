"""From a drill's stored record to its score and after-action report (HTML and Markdown files).

Everything the drill stored in real time is read in scenario time through its drill clock, so the
score compares like with like: a step done at T+5h against a duty due at T+72h.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from breachops.bootstrap import App
from breachops.clock import DrillClock
from breachops.deadlines.drill_record import (
    AnswerRecord,
    DrillRecord,
    InjectRecord,
    ObligationRecord,
    StepRecord,
)
from breachops.deadlines.engine import coverage_gaps
from breachops.deadlines.improvement_plan import CorrectiveAction
from breachops.deadlines.scoring import DrillScore, score_drill
from breachops.playbooks import Playbook
from breachops.playbooks.participants import stored_participants
from breachops.services.drill_ticks import SIMULATED_SOURCE
from breachops.services.drills import drill_clock, scenario_of
from breachops.services.incidents import facts_of, playbook_of
from breachops.store import Repository
from breachops.store.corrective_actions import SETTLED, CorrectiveActionRecords
from breachops.store.drills import DrillRepository
from breachops.store.models import Drill, ObligationRow, StepRow

__all__ = [
    "ReportOutcome",
    "build_report",
    "drill_record",
    "plan_from_json",
    "score_to_json",
    "write_after_action",
]


@dataclass(frozen=True)
class ReportOutcome:
    score: dict[str, Any]
    plan: list[dict[str, Any]]
    html_path: Path
    md_path: Path


def _scenario_at(clock: DrillClock, real: datetime | None) -> datetime | None:
    return None if real is None else clock.scenario_time(real)


def _step_records(
    playbook: Playbook, rows: dict[str, StepRow], clock: DrillClock, expected: dict[str, str]
) -> list[StepRecord]:
    records = []
    for step in playbook.steps():
        row = rows[step.id]
        prerequisites = [rows[d].completed_at for d in step.depends_on]
        ready = None
        if all(p is not None for p in prerequisites):
            ready = clock.scenario_time(max([clock.started_at, *(p for p in prerequisites if p is not None)]))
        records.append(
            StepRecord(
                step_id=step.id,
                title=step.title,
                phase=playbook.phase_of(step.id),
                owner_role=step.owner.role,
                owner_party=step.owner.party,
                ready_at=ready,
                due=row.due,
                completed_at=_scenario_at(clock, row.completed_at),
                status=row.status,
                completed_by=row.completed_by,
                expected_by_inject=expected.get(step.id),
            )
        )
    return records


def _obligation_records(
    playbook: Playbook, obligations: list[ObligationRow], steps: list[StepRecord]
) -> list[ObligationRecord]:
    """A duty counts as met when the step that discharges it (the step whose due time follows it)
    was done, or when a person marked it met."""
    by_id = {s.step_id: s for s in steps}
    records = []
    for row in obligations:
        if row.status == "withdrawn":
            continue
        tied = [
            by_id[s.id]
            for s in playbook.steps()
            if s.due is not None and s.due.obligation is not None and s.due.obligation.matches(row)
        ]
        met_at = min((s.completed_at for s in tied if s.completed_at is not None), default=None)
        owner = tied[0] if tied else None
        records.append(
            ObligationRecord(
                key=row.key,
                title=row.title,
                audience=row.audience,
                jurisdiction=row.jurisdiction,
                citation=row.citation,
                due=row.due,
                met_at=met_at,
                waived=row.status == "waived",
                owner_party=owner.owner_party if owner else "both",
                owner_role=owner.owner_role if owner else "incident_lead",
            )
        )
    return records


def _answers(drill: Drill, rows: list[StepRow], clock: DrillClock) -> list[AnswerRecord]:
    people = {p.email.lower(): p for p in stored_participants(drill.participants)}
    answers = []
    for row in rows:
        if row.completed_at is None or not row.completed_by or row.completed_by == "flow":
            continue
        person = people.get(row.completed_by.lower())
        answer = dict(row.answer or {})
        answers.append(
            AnswerRecord(
                at=clock.scenario_time(row.completed_at),
                step_id=row.step_id,
                party=person.party if person else "unknown",
                role=person.acting_role if person else "unknown",
                by=person.name if person and person.name else row.completed_by,
                answer=answer,
                simulated=answer.get("source") == SIMULATED_SOURCE,
            )
        )
    return sorted(answers, key=lambda a: (a.at, a.step_id))


def drill_record(app: App, drill_id: str) -> tuple[DrillRecord, list[CorrectiveAction], Drill]:
    """The drill as the scoring layer reads it, and the plan the previous drill left open."""
    with app.transaction() as session:
        drills = DrillRepository(session)
        repo = Repository(session)
        drill = drills.get_drill(drill_id)
        clock = drill_clock(drill)
        scenario = scenario_of(drill)
        playbook = playbook_of(repo.get_incident(drill_id))
        rows = repo.steps(drill_id)
        obligations = repo.obligations(drill_id)
        injects = [
            InjectRecord(i.inject_id, i.title, i.due_at, i.delivered_at) for i in drills.injects(drill_id)
        ]
        previous = drills.previous_drill(drill)
        carried = plan_from_json(previous.improvement_plan or []) if previous else []
        # An action a person settled in the register (verified with evidence, or its risk accepted) is
        # carried no further: a gap seen again is a new finding.
        settled = {(r.subject, r.raised_in) for r in CorrectiveActionRecords(session).actions(SETTLED)}
        carried = [a for a in carried if a.status == "closed" or (a.subject, a.raised_in) not in settled]
        ended_real = drill.ended_at or app.clock.now()
        steps = _step_records(playbook, {r.step_id: r for r in rows}, clock, scenario.expected_by())
        record = DrillRecord(
            drill_id=drill.id,
            scenario_id=drill.scenario_id,
            t0=drill.t0,
            ended_at=max(clock.scenario_time(ended_real), drill.t0),
            injects=tuple(injects),
            steps=tuple(steps),
            obligations=tuple(_obligation_records(playbook, obligations, steps)),
            answers=tuple(_answers(drill, rows, clock)),
        )
        session.expunge(drill)
    return record, carried, drill


def build_report(app: App, drill_id: str, *, interim: bool = False) -> ReportOutcome:
    """Score the drill and write its after-action report into ``<workspace>/drills/<id>/``."""
    record, carried, drill = drill_record(app, drill_id)
    return write_after_action(app, drill, record, score_drill(record, carried), interim=interim)


def write_after_action(
    app: App, drill: Drill, record: DrillRecord, score: DrillScore, *, interim: bool = False
) -> ReportOutcome:
    """Write the after-action report of a scored drill into ``<workspace>/drills/<id>/``."""
    from breachops.reports.after_action import AfterActionReport, write_report
    from breachops.services.drill_evaluation import answers_of, hotwash_of, observations_of, overrides_of
    from breachops.services.drill_feedback import trend_of

    drill_id = drill.id
    with app.transaction() as session:
        facts = facts_of(Repository(session).get_incident(drill_id))
        final = DrillRepository(session).finalized(drill_id)
    gaps = coverage_gaps(facts, app.catalogue)
    scenario = scenario_of(drill)
    report = AfterActionReport.for_drill(
        scenario=scenario,
        drill=drill,
        record=record,
        score=score,
        interim=interim,
        generated_at=app.clock.now(),
        gaps=gaps,
        overrides=overrides_of(app, drill_id),
        discussion=answers_of(app, drill_id),
        hotwash=hotwash_of(app, drill_id),
        observations=observations_of(app, drill_id),
        draft=not final,
        feedback=trend_of(app, drill_id) if drill.status != "running" else (),
    )
    html_path, md_path = write_report(report, app.workspace.resolve() / "drills" / drill_id)
    return ReportOutcome(score_to_json(score), [_jsonable(a) for a in score.plan], html_path, md_path)


# ---- JSON forms (stored on the drill, printed by `drill report --format json`) ----------------------


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 2)


def score_to_json(score: DrillScore) -> dict[str, Any]:
    overall = score.overall
    data = _jsonable(score)
    data["summary"] = {
        "time_to_acknowledge_hours": _hours(score.time_to_acknowledge),
        "time_to_contain_hours": _hours(score.time_to_contain),
        "obligations_met": score.obligation_count("met"),
        "obligations_missed": score.obligation_count("missed"),
        "steps_on_time": overall.on_time,
        "steps_late": overall.late,
        "steps_skipped": overall.skipped,
        "gaps": len(score.gaps),
        "open_actions": sum(1 for a in score.plan if a.status == "open"),
    }
    return dict(data)


def plan_from_json(items: list[dict[str, Any]]) -> list[CorrectiveAction]:
    """A stored improvement plan back as actions, for the next drill to pick up."""
    actions = []
    for item in items:
        values = dict(item)
        values["due"] = datetime.fromisoformat(str(values["due"]))
        names = {f.name for f in dataclasses.fields(CorrectiveAction)}
        actions.append(CorrectiveAction(**{k: v for k, v in values.items() if k in names}))
    return actions

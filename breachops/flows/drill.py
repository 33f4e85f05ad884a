"""The tabletop drill flow: a scenario's injects on the drill clock, the playbook in drill mode.

Each inject delivered is a task, and so is each phase of the scoring (the record read in scenario
time, the score, the after-action report, the drill closed), so the Prefect UI shows the exercise as
it went. Every step reads where the drill stands from the store and does only what is not yet done,
so a flow run that dies is simply run again (`serve` recovers orphaned runs) and delivers nothing
twice. Inject emails go out through the configured channel behind the drill guard: only the drill's
participants, every subject starting with ``[DRILL]``.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from breachops.bootstrap import App, bootstrap
from breachops.deadlines.drill_record import DrillRecord
from breachops.deadlines.improvement_plan import CorrectiveAction
from breachops.deadlines.scoring import DrillScore, score_drill
from breachops.flows.names import DRILL_FLOW_NAME
from breachops.services import drill_reports, drill_ticks, drills
from breachops.store.models import Drill

__all__ = ["tabletop_drill"]
log = logging.getLogger("breachops.flows.drill")

# Every task is safe to retry (the store says what is done) and never cached: an inject or a phase
# run again must look at the store again. Results stay in memory, handed from phase to phase.


@lru_cache(maxsize=1)
def _app() -> App:
    # The flow run's composition root: settings come from the environment `serve` runs in.
    return bootstrap()


@lru_cache(maxsize=1)
def _send() -> drill_ticks.Send:
    """Send queued messages by key through the configured channel, now."""
    from breachops.notifications.outbox import dispatch

    app = _app()
    channel, sender = app.channel(), app.mail_settings.mail_from

    def send(keys: list[str]) -> object:
        return dispatch(app, channel, keys=keys, sender=sender)

    return send


@task(
    name="inject",
    task_run_name="inject · {inject_id}",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=3,
    retry_delay_seconds=1,
)
def deliver_inject(drill_id: str, inject_id: str) -> int:
    """Reveal the inject's facts and send its email to its participants; the messages sent."""
    keys = drill_ticks.deliver_inject(_app(), drill_id, inject_id, _send())
    log.info("%s: inject %s delivered to %d participant(s)", drill_id, inject_id, len(keys or ()))
    return len(keys or ())


@task(
    name="drill-record",
    task_run_name="scoring · read the record",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=3,
    retry_delay_seconds=1,
)
def read_record(drill_id: str) -> tuple[DrillRecord, list[CorrectiveAction], Drill]:
    """The drill as the scoring reads it (in scenario time), and the plan the previous drill left."""
    return drill_reports.drill_record(_app(), drill_id)


@task(
    name="drill-score",
    task_run_name="scoring · score",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=3,
    retry_delay_seconds=1,
)
def score(record: DrillRecord, carried: list[CorrectiveAction]) -> DrillScore:
    """Steps, duties, parties and roles scored against the scenario; the gaps and the plan."""
    return score_drill(record, carried)


@task(
    name="drill-report",
    task_run_name="scoring · write the after-action report",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=3,
    retry_delay_seconds=1,
)
def write_report(drill: Drill, record: DrillRecord, scored: DrillScore) -> drill_reports.ReportOutcome:
    """The after-action report, HTML and Markdown, in ``<workspace>/drills/<id>/``."""
    return drill_reports.write_after_action(_app(), drill, record, scored)


@task(
    name="drill-close",
    task_run_name="scoring · close the drill",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=3,
    retry_delay_seconds=1,
)
def close(drill_id: str, report: drill_reports.ReportOutcome) -> Drill:
    """Store the score and the report's place, and close the drill's incident record."""
    return drills.close_drill(_app(), drill_id, report)


@flow(name=DRILL_FLOW_NAME, flow_run_name="{drill_id}", log_prints=True)
def tabletop_drill(drill_id: str) -> str:
    """Run a drill to its end: injects, answers (scripted when simulated), score and report."""
    app = _app()
    _send()  # the mail settings are read before T+0: a bad one fails the drill at its start
    drill_ticks.begin(app, drill_id)
    while True:
        for inject_id in drill_ticks.due_injects(app, drill_id):
            deliver_inject(drill_id, inject_id)
        turn = drill_ticks.play(app, drill_id)  # automatic steps, and scripted answers when simulated
        for step in turn.answered:
            log.info("%s: %s answered by a simulated participant", drill_id, step)
        if turn.finished:
            break
        time.sleep(drill_ticks.seconds_to_wait(app, drill_id, turn))
    ended = drills.status(app, drill_id).drill
    if ended.status != "running":  # stopped by a person: nothing to score
        return f"{ended.status}: {ended.report_html}"
    record, carried, drill = read_record(drill_id)
    scored = score(record, carried)
    report = write_report(drill, record, scored)
    closed = close(drill_id, report)
    return f"{closed.status}: {closed.report_html}"

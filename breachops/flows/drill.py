"""The tabletop drill flow: a scenario's injects on the drill clock, the playbook in drill mode.

The flow is a loop over `drill_service.tick`, which reads the drill's state from the store and does
only what is due and not yet done, so a flow run that dies is simply run again (`serve` recovers
orphaned runs) and delivers nothing twice. Inject emails go out through the configured channel behind
the DrillGuard: only the drill's participants, every subject starting with ``[DRILL]``.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

from prefect import flow

from breachops.bootstrap import App, bootstrap
from breachops.flows.names import DRILL_FLOW_NAME
from breachops.services import drill_ticks as drill_service

__all__ = ["tabletop_drill"]
log = logging.getLogger("breachops.flows.drill")


@lru_cache(maxsize=1)
def _app() -> App:
    return bootstrap()


def mail_sender(app: App) -> drill_service.Send:
    """Send queued messages by key through the configured channel, now."""
    from breachops.notifications import build_channel, load_mail_settings
    from breachops.notifications.outbox import dispatch, drill_participants

    mail = load_mail_settings()
    channel = build_channel(mail, app.workspace, clock=app.clock, drill_participants=drill_participants(app))

    def send(keys: list[str]) -> object:
        return dispatch(app, channel, keys=keys, sender=mail.mail_from)

    return send


@flow(name=DRILL_FLOW_NAME, flow_run_name="{drill_id}", log_prints=True)
def tabletop_drill(drill_id: str) -> str:
    """Run a drill to its end: injects, answers (scripted when simulated), score and report."""
    app = _app()

    def said(result: drill_service.TickResult) -> None:
        for inject in result.delivered:
            log.info("%s: inject %s delivered at %s", drill_id, inject, result.scenario_now)
        for step in result.answered:
            log.info("%s: %s answered by a simulated participant", drill_id, step)

    drill_service.run_drill(app, drill_id, sleep=time.sleep, send=mail_sender(app), on_tick=said)
    drill = drill_service.status(app, drill_id).drill
    return f"{drill.status}: {drill.report_html}"

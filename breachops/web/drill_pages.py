"""The console's drill pages (running drills, schedules, each drill with its injects and its
after-action report) and the catalogue's coverage, for the people of the drills' agreements."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from breachops.config.coverage import Coverage
from breachops.errors import InputError
from breachops.playbooks.scenario_time import format_offset
from breachops.services.drill_feedback import QUESTIONS, record_feedback
from breachops.services.drills import drill_clock
from breachops.store import console
from breachops.store.drills import DrillRepository, UnknownDrill
from breachops.web.forms import first
from breachops.web.people import Viewer, visible
from breachops.web.views import moment

__all__ = ["DrillPages"]


def _emails(agreement: dict[str, Any]) -> set[str]:
    """Every contact address of an agreement snapshot (the dict a schedule or drill keeps)."""
    parties = agreement.get("parties") or {}
    return {
        str(contact.get("email", "")).lower()
        for party in parties.values()
        if isinstance(party, dict)
        for contact in (party.get("contacts") or {}).values()
        if isinstance(contact, dict)
    }


class DrillPages:
    """Routes added to the console's router; rendering and sign-in come from ``Pages``."""

    def __init__(self, pages: Any) -> None:
        self.pages = pages
        self.app = pages.app
        r = pages.router
        r.add_api_route("/drills", self.drills, methods=["GET"])
        r.add_api_route("/drills/{drill_id}", self.drill, methods=["GET"])
        r.add_api_route("/drills/{drill_id}/report", self.report, methods=["GET"])
        r.add_api_route("/drills/{drill_id}/feedback", self.feedback, methods=["GET"])
        r.add_api_route("/drills/{drill_id}/feedback", self.feedback_submit, methods=["POST"])
        r.add_api_route("/coverage", self.coverage, methods=["GET"])

    def _visible_drills(
        self, session: Any, viewer: Viewer, drills: list[Any]
    ) -> list[tuple[Any, str | None]]:
        """(drill, its incident id) for the drills the viewer takes part in or whose agreement lists them."""
        incidents = console.drill_incidents(session, [d.id for d in drills])
        heads = [SimpleNamespace(id=incident_id) for incident_id in incidents.values()]
        shown = {i.id for i in visible(self.app, session, viewer, heads)}
        me = viewer.email.lower()
        found = []
        for drill in drills:
            incident_id = incidents.get(drill.id)
            if incident_id is not None and not viewer.may_open(incident_id):
                continue
            taking_part = me in {str(p.get("email", "")).lower() for p in drill.participants}
            if (
                incident_id in shown
                or taking_part
                or (incident_id is None and me in _emails(drill.agreement))
            ):
                found.append((drill, incident_id))
        return found

    def drills(self, request: Request) -> Response:
        viewer = self.pages.viewer(request)
        if viewer is None:
            return self.pages.to_sign_in(request)
        zone, now = viewer.timezone, self.app.clock.now()
        with self.app.reading() as session:
            repo = DrillRepository(session)
            rows = []
            for drill, incident_id in reversed(self._visible_drills(session, viewer, repo.list_drills())):
                clock = drill_clock(drill)
                at = now if drill.ended_at is None else min(now, drill.ended_at)
                rows.append(
                    {"drill": drill, "incident": incident_id, "started": moment(drill.started_at, zone),
                     "scenario": format_offset(clock.scenario_time(at) - drill.t0)}
                )  # fmt: skip
            schedules = [
                {"row": s, "next": moment(s.next_run_at, zone)}
                for s in repo.schedules()
                if viewer.scope is None and viewer.email.lower() in _emails(s.agreement)
            ]
            return self.pages.page(
                request, "drills.html.j2", viewer=viewer, title="Drills", rows=rows, schedules=schedules,
                now=moment(now, zone),
            )  # fmt: skip

    def _drill_of(self, session: Any, viewer: Viewer, drill_id: str) -> tuple[Any, str | None] | None:
        try:
            drill = DrillRepository(session).get_drill(drill_id)
        except UnknownDrill:
            return None
        found = self._visible_drills(session, viewer, [drill])
        return found[0] if found else None

    def drill(self, request: Request, drill_id: str) -> Response:
        viewer = self.pages.viewer(request)
        if viewer is None:
            return self.pages.to_sign_in(request)
        zone, now = viewer.timezone, self.app.clock.now()
        with self.app.reading() as session:
            found = self._drill_of(session, viewer, drill_id)
            if found is None:
                return self.pages.not_found(request)
            drill, incident_id = found
            at = now if drill.ended_at is None else min(now, drill.ended_at)
            scenario = format_offset(drill_clock(drill).scenario_time(at) - drill.t0)
            injects = [
                {"row": i, "at": format_offset(i.due_at - drill.t0),
                 "delivered": i.delivered_at is not None}
                for i in DrillRepository(session).injects(drill.id)
            ]  # fmt: skip
            return self.pages.page(
                request, "drill.html.j2", viewer=viewer, title=f"{drill.id}: {drill.scenario_id}", drill=True,
                row=drill, incident_id=incident_id, injects=injects, started=moment(drill.started_at, zone),
                ended=moment(drill.ended_at, zone), scenario=scenario,
                has_report=bool(drill.report_html and Path(drill.report_html).is_file()),
            )  # fmt: skip

    def _feedback_page(
        self,
        request: Request,
        viewer: Viewer,
        drill_id: str,
        *,
        status: int = 200,
        error: str = "",
        done: bool = False,
    ) -> Response:
        with self.app.reading() as session:
            found = self._drill_of(session, viewer, drill_id)
        if found is None:
            return self.pages.not_found(request)
        return self.pages.page(
            request, "feedback.html.j2", status, viewer=viewer, title=f"Feedback on {found[0].id}",
            drill=True, row=found[0], questions=QUESTIONS, error=error, done=done,
        )  # fmt: skip

    def feedback(self, request: Request, drill_id: str) -> Response:
        viewer = self.pages.viewer(request)
        if viewer is None:
            return self.pages.to_sign_in(request)
        return self._feedback_page(request, viewer, drill_id, done=request.query_params.get("done") == "1")

    async def feedback_submit(self, request: Request, drill_id: str) -> Response:
        form = await self.pages.checked_form(request)
        viewer = self.pages.viewer(request)
        if viewer is None:
            return self.pages.to_sign_in(request)
        if form is None:
            return self.pages.refused(
                request, "The form expired or did not come from this console. Reload and retry."
            )
        with self.app.reading() as session:
            if self._drill_of(session, viewer, drill_id) is None:
                return self.pages.not_found(request)
        ratings: dict[str, int | None] = {}
        for name in QUESTIONS:
            given = first(form, name)
            ratings[name] = int(given) if given.isdigit() and len(given) == 1 else None
        try:
            await run_in_threadpool(
                record_feedback, self.app, drill_id, viewer.email, ratings, first(form, "comment").strip()
            )
        except InputError as exc:
            return self._feedback_page(request, viewer, drill_id, status=422, error=exc.problem)
        return RedirectResponse(f"/drills/{quote(drill_id)}/feedback?done=1", status_code=303)

    def report(self, request: Request, drill_id: str) -> Response:
        """The after-action report as `drill report` wrote it (HTML made by breachops' own templates)."""
        viewer = self.pages.viewer(request)
        if viewer is None:
            return self.pages.to_sign_in(request)
        with self.app.reading() as session:
            found = self._drill_of(session, viewer, drill_id)
            path = Path(found[0].report_html) if found and found[0].report_html else None
        if path is None or not path.is_file():
            return self.pages.not_found(request)
        return HTMLResponse(path.read_text(encoding="utf-8"))

    def coverage(self, request: Request) -> Response:
        viewer = self.pages.viewer(request)
        if viewer is None:
            return self.pages.to_sign_in(request)
        rows = Coverage(self.app.catalogue).table(self.app.clock.now().date())
        counts = {s: sum(1 for r in rows if r.status == s) for s in ("covered", "no_duty", "gap")}
        return self.pages.page(
            request, "coverage.html.j2", viewer=viewer, title="Rules coverage", rows=rows, counts=counts
        )

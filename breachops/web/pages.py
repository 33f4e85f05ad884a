"""The console's pages: sign-in, the board, an incident, a step with its gate's form.

Every page is plain HTML that works without JavaScript; every form carries a CSRF token; nothing
here writes to the store except through ``auth`` (sessions) and the service (``complete_step``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from breachops.bootstrap import App
from breachops.errors import InputError
from breachops.services.incidents import playbook_of
from breachops.services.steps import complete_step
from breachops.store import Repository, console
from breachops.store.incidents import UnknownIncident
from breachops.store.ledger_watch import LedgerWatch
from breachops.web.auth import SESSION_COOKIE, SESSION_LIFETIME, Auth
from breachops.web.drill_pages import DrillPages
from breachops.web.forms import FormTooLarge, answer_from_form, first, read_form
from breachops.web.people import Viewer, contact_in, visible
from breachops.web.redaction import answer_for
from breachops.web.view_log import ViewLog
from breachops.web.views import board_rows, countdown, incident_view, moment, withheld_from

__all__ = ["Pages", "safe_next"]

log = logging.getLogger("breachops.web")
Wake = Callable[[App, str, str, str], None]


def safe_next(value: str | None) -> str:
    """A local path to go to after signing in; anything else (another site, ``//host``) goes home."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


class Pages:
    def __init__(self, app: App, auth: Auth, wake: Wake | None, secure: bool) -> None:
        self.app = app
        self.auth = auth
        self.wake = wake
        self.secure = secure
        self.views = ViewLog(app)  # other parties' views, written to the audit log beside the pages
        self.ledger = LedgerWatch()  # the audit ledger walked whole every 5 minutes, on from there between
        self.env = Environment(
            loader=PackageLoader("breachops.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.router = APIRouter()
        r = self.router
        r.add_api_route("/", self.board, methods=["GET"])
        r.add_api_route("/sign-in", self.sign_in_form, methods=["GET"])
        r.add_api_route("/sign-in", self.sign_in_request, methods=["POST"])
        r.add_api_route("/sign-in/{token}", self.sign_in_link, methods=["GET"])
        r.add_api_route("/sign-in/{token}", self.sign_in_complete, methods=["POST"])
        r.add_api_route("/sign-out", self.sign_out, methods=["POST"])
        r.add_api_route("/act/{token}", self.step_link, methods=["GET"])
        r.add_api_route("/incidents/{incident_id}", self.incident, methods=["GET"])
        r.add_api_route("/incidents/{incident_id}/steps/{step_id}", self.step, methods=["GET"])
        r.add_api_route("/incidents/{incident_id}/steps/{step_id}", self.step_submit, methods=["POST"])
        r.add_api_route("/healthz", self.health, methods=["GET"])
        DrillPages(self)

    # ---- helpers ---------------------------------------------------------------------------------

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        viewer = context.pop("viewer", None) or self.viewer(request)
        values = {
            "viewer": viewer,
            "csrf": viewer.csrf if viewer else self.auth.csrf(request.state.csrf_cookie),
            "drill": False,
            "title": "",
            **context,
        }
        return HTMLResponse(self.env.get_template(name).render(values), status_code=status)

    def viewer(self, request: Request) -> Viewer | None:
        """The signed-in person, looked up once per request."""
        if not hasattr(request.state, "viewer"):
            request.state.viewer = self.auth.viewer(
                request.cookies.get(SESSION_COOKIE), request.state.csrf_cookie
            )
        found: Viewer | None = request.state.viewer
        return found

    def to_sign_in(self, request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='/')}", status_code=303)

    def set_session(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), httponly=True,
            samesite="lax", secure=self.secure, path="/",
        )  # fmt: skip

    async def checked_form(self, request: Request) -> dict[str, list[str]] | None:
        """The submitted form if its CSRF token matches this browser's cookie, else None."""
        try:
            form = await read_form(request)
        except FormTooLarge:
            return None
        return form if self.auth.csrf_ok(request.state.csrf_cookie, first(form, "csrf")) else None

    def refused(self, request: Request, why: str, status: int = 403) -> HTMLResponse:
        return self.page(request, "message.html.j2", status, title="Not allowed", message=why)

    def not_found(self, request: Request) -> HTMLResponse:
        # The same answer for "no such incident" and "not yours": ids are not to be probed.
        return self.page(
            request, "message.html.j2", 404, title="Not found",
            message="There is no such page, or it is not one of your agreements' incidents.",
        )  # fmt: skip

    # ---- sign-in ---------------------------------------------------------------------------------

    def sign_in_form(self, request: Request, next: str = "/") -> Response:
        return self.page(request, "sign_in.html.j2", title="Sign in", next=safe_next(next), sent=False)

    async def sign_in_request(self, request: Request) -> Response:
        form = await self.checked_form(request)
        if form is None:
            return self.refused(request, "The form expired. Reload the page and try again.")
        email = first(form, "email").strip()
        target = safe_next(first(form, "next"))
        if email and len(email) <= 254:
            await run_in_threadpool(self.auth.request_sign_in, email, target)
        # The same page whether or not the address is known.
        return self.page(request, "sign_in.html.j2", title="Check your mail", next=target, sent=True)

    def sign_in_link(self, request: Request, token: str, next: str = "/") -> Response:
        if not self.auth.sign_in_usable(token):
            return self.page(request, "sign_in.html.j2", 410, title="Link not valid", next="/", sent=False,
                             invalid=True)  # fmt: skip
        return self.page(
            request, "sign_in_confirm.html.j2", title="Sign in", token=token, next=safe_next(next)
        )

    async def sign_in_complete(self, request: Request, token: str) -> Response:
        form = await self.checked_form(request)
        if form is None:
            return self.refused(request, "The form expired. Open the link from your mail again.")
        opened = await run_in_threadpool(self.auth.complete_sign_in, token)
        if opened is None:
            return self.page(request, "sign_in.html.j2", 410, title="Link not valid", next="/", sent=False,
                             invalid=True)  # fmt: skip
        response = RedirectResponse(safe_next(first(form, "next")), status_code=303)
        self.set_session(response, opened.token)
        return response

    async def sign_out(self, request: Request) -> Response:
        form = await self.checked_form(request)
        if form is None:
            return self.refused(request, "The form expired. Reload the page and try again.")
        await run_in_threadpool(self.auth.sign_out, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    def step_link(self, request: Request, token: str) -> Response:
        opened = self.auth.open_step_link(token, self.viewer(request))
        if opened is None:
            return self.page(request, "sign_in.html.j2", 410, title="Link not valid", next="/", sent=False,
                             invalid=True)  # fmt: skip
        session, link = opened
        path = f"/incidents/{quote(link.incident_id)}"
        response = RedirectResponse(path + (f"/steps/{quote(link.step_id)}" if link.step_id else ""), 303)
        if session is not None:
            self.set_session(response, session.token)
        return response

    def health(self) -> dict[str, str]:
        return {"status": "ok"}

    # ---- the board -------------------------------------------------------------------------------

    def board(self, request: Request) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_sign_in(request)
        now = self.app.clock.now()
        # Read, then render with the connection given back: with many readers at once, a connection
        # held through the rendering is one the next reader waits for.
        with self.app.reading() as session:
            incidents = visible(self.app, session, viewer, console.open_heads(session))
            agreements = self.app.agreements.of(session, [i.id for i in incidents])
            rows = board_rows(session, incidents, agreements, viewer.email, viewer.timezone, now)
        return self.page(
            request, "board.html.j2", viewer=viewer, title="Open incidents", rows=rows,
            now=moment(now, viewer.timezone),
        )  # fmt: skip

    # ---- an incident -----------------------------------------------------------------------------

    def _incident(self, session: Any, viewer: Viewer, incident_id: str) -> Any:
        if not viewer.may_open(incident_id):
            return None
        try:
            incident = Repository(session).get_incident(incident_id)
        except (UnknownIncident, InputError):
            return None
        return incident if visible(self.app, session, viewer, [incident]) else None

    def _step_of(self, session: Any, viewer: Viewer, incident_id: str, step_id: str) -> Any:
        """(incident, playbook) when the viewer may see the incident and its playbook has the step."""
        incident = self._incident(session, viewer, incident_id)
        if incident is None:
            return None
        playbook = playbook_of(incident)
        return (incident, playbook) if step_id in {s.id for s in playbook.steps()} else None

    def incident(self, request: Request, incident_id: str) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_sign_in(request)
        now = self.app.clock.now()
        with self.app.reading() as session:
            incident = self._incident(session, viewer, incident_id)
            if incident is None:
                return self.not_found(request)
            agreement = self.app.agreements.of(session, [incident.id])[incident.id]
            ledger = self.ledger.current(session)
            view = incident_view(session, incident, agreement, viewer.email, viewer.timezone, now, ledger)
        response = self.page(
            request, "incident.html.j2", viewer=viewer, title=f"{incident.id}: {incident.title}",
            incident=incident, drill=incident.drill, now=moment(now, viewer.timezone),
            opened=moment(incident.opened_at, viewer.timezone), **view,
        )  # fmt: skip
        self.views.note(incident.id, viewer.email, "incident")
        return response

    # ---- a step ----------------------------------------------------------------------------------

    def _step_page(
        self,
        request: Request,
        viewer: Viewer,
        incident_id: str,
        step_id: str,
        *,
        status: int = 200,
        error: InputError | None = None,
        values: dict[str, list[str]] | None = None,
    ) -> Response:
        now = self.app.clock.now()
        with self.app.reading() as session:
            found = self._step_of(session, viewer, incident_id, step_id)
            if found is None:
                return self.not_found(request)
            incident, playbook = found
            step = playbook.step(step_id)
            rows = {r.step_id: r for r in Repository(session).steps(incident_id)}
            row = rows[step_id]
            waiting_on = [rows[d].title for d in step.depends_on if rows[d].status not in ("done", "skipped")]
            agreement = self.app.agreements.of(session, [incident.id])[incident.id]
            text, late = countdown(row.due, now)
            hidden, names = withheld_from(session, incident, agreement, viewer.email)
            answer = answer_for(playbook, step_id, row.answer, hidden, names)
            shown = incident.id
            response = self.page(
                request, "step.html.j2", status, viewer=viewer, title=f"{incident.id}: {step.title}",
                incident=incident, drill=incident.drill, step=step, row=row, answer=answer,
                due=moment(row.due, viewer.timezone),
                countdown=text, overdue=late and row.status not in ("done", "skipped"), waiting_on=waiting_on,
                completed=moment(row.completed_at, viewer.timezone), fields=step.gate.answer_fields,
                error=error, values=values or {}, is_contact=contact_in(agreement, viewer.email) is not None,
                closed=incident.status != "open",
            )  # fmt: skip
        self.views.note(shown, viewer.email, f"step:{step_id}")
        return response

    def step(self, request: Request, incident_id: str, step_id: str) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_sign_in(request)
        return self._step_page(request, viewer, incident_id, step_id)

    async def step_submit(self, request: Request, incident_id: str, step_id: str) -> Response:
        form = await self.checked_form(request)
        return await run_in_threadpool(self._submit, request, incident_id, step_id, form)

    def _submit(
        self, request: Request, incident_id: str, step_id: str, form: dict[str, list[str]] | None
    ) -> Response:
        viewer = self.viewer(request)
        if viewer is None:
            return self.to_sign_in(request)
        if form is None:
            return self.refused(
                request, "The form expired or did not come from this console. Reload and retry."
            )
        with self.app.reading() as session:
            found = self._step_of(session, viewer, incident_id, step_id)
            if found is None:
                return self.not_found(request)
            incident, playbook = found
            fields = playbook.step(step_id).gate.answer_fields
            flow_run_id, is_drill = incident.flow_run_id, incident.drill
        answer = answer_from_form(form, fields, viewer.timezone)
        note = first(form, "evidence_note").strip()
        try:
            complete_step(self.app, incident_id, step_id, answer, by=viewer.email, note=note, source="web")
        except InputError as exc:
            return self._step_page(request, viewer, incident_id, step_id, status=422, error=exc, values=form)
        log.info("%s · %s: done by %s (web)", incident_id, step_id, viewer.email)
        if flow_run_id and not is_drill and self.wake is not None:
            self.wake(self.app, flow_run_id, step_id, viewer.email)
        return RedirectResponse(f"/incidents/{quote(incident_id)}/steps/{quote(step_id)}?done=1", 303)

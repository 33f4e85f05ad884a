"""The console as an ASGI app, and the two ways to run it: beside ``breachops serve`` (``start_web``)
and alone for development (``breachops web``).

Settings: ``BREACHOPS_WEB_BIND`` (host:port; default 127.0.0.1 on a free port) and
``BREACHOPS_WEB_URL`` (the public base URL people's links use; default ``http://<bind>``). A running
console records its URL in ``<workspace>/web.json`` so that messages queued by other processes of the
workspace can link to it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from breachops.bootstrap import App
from breachops.errors import InputError
from breachops.web.auth import CSRF_COOKIE, Auth
from breachops.web.links import WEB_RECORD, Signer
from breachops.web.pages import Pages, Wake
from breachops.web.secret import workspace_secret

__all__ = ["WebServer", "bind_address", "create_app", "start_web", "wake_flow"]

log = logging.getLogger("breachops.web")
PAGES_AT_ONCE = 8  # within the database pool (5 + 10 overflow): a page takes at most two in turn
access = logging.getLogger("breachops.web.access")
_TOKEN_PATH = re.compile(r"^/(sign-in|act)/[^/?]+")
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def redact(path: str) -> str:
    """A request path fit for a log: the token of a sign-in or step link is left out."""
    return _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/…", path)


def wake_flow(app: App, flow_run_id: str, step_id: str, by: str) -> None:
    """Wake the incident's flow as `step done` does, in the background: the answer is already stored,
    and `serve` wakes a sleeping run within seconds anyway if this fails."""
    from breachops.flows.launcher import wake_after_answer

    def run() -> None:
        try:
            log.info("flow run %s: %s", flow_run_id, wake_after_answer(app, flow_run_id, step_id, by))
        except Exception:
            log.warning("could not wake flow run %s; `breachops serve` will", flow_run_id, exc_info=True)

    threading.Thread(target=run, name="breachops-web-wake", daemon=True).start()


def create_app(
    app: App,
    base_url: str,
    *,
    send_now: Callable[[], object] | None = None,
    wake: Wake | None = wake_flow,
) -> FastAPI:
    """The console for ``app``'s workspace, reached by people at ``base_url``."""
    signer = Signer(workspace_secret(app.workspace))
    auth = Auth(app, signer, lambda: base_url.rstrip("/"), send_now)
    pages = Pages(app, auth, wake, secure=base_url.startswith("https://"))
    web = FastAPI(title="breachops", docs_url=None, redoc_url=None, openapi_url=None)
    web.include_router(pages.router)
    web.state.views = pages.views  # `flush()` before reading the audit log of views just served
    web.mount("/static", StaticFiles(directory=str(resources.files("breachops.web") / "static")), "static")

    # Requests past this many wait here, in the event loop, holding neither a thread nor a database
    # connection: fifty readers at once would otherwise share the GIL forty ways, each slowed while
    # it holds one of the pool's connections, until the pool's waiters time out.
    at_once = asyncio.Semaphore(PAGES_AT_ONCE)

    @web.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = None if cookie and len(cookie) <= 64 else secrets.token_urlsafe(24)
        request.state.csrf_cookie = cookie if fresh is None else fresh
        try:
            async with at_once:
                response = await call_next(request)
        except InputError as exc:  # a broken snapshot or playbook: say so, without a stack trace page
            log.warning("%s %s: %s", request.method, redact(request.url.path), exc)
            response = Response("This record cannot be shown: " + exc.problem, 500, media_type="text/plain")
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        if fresh is not None:
            response.set_cookie(
                CSRF_COOKIE, fresh, httponly=True, samesite="lax", secure=pages.secure, path="/"
            )
        access.info(
            "%s %s %d %.0f ms", request.method, redact(request.url.path), response.status_code,
            (time.perf_counter() - started) * 1000,
        )  # fmt: skip
        return response

    return web


def bind_address(environ: dict[str, str] | None = None) -> tuple[str, int]:
    """``BREACHOPS_WEB_BIND`` as (host, port); default loopback, port 0 (a free one)."""
    env = os.environ if environ is None else environ
    text = env.get("BREACHOPS_WEB_BIND", "").strip()
    if not text:
        return "127.0.0.1", 0
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InputError("BREACHOPS_WEB_BIND", None, text, "expected host:port", "Example: 0.0.0.0:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


@dataclass
class WebServer:
    """A console running in a thread of this process."""

    url: str
    server: object
    thread: threading.Thread
    record: Path

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True  # type: ignore[attr-defined]
        self.thread.join(timeout)
        try:
            if json.loads(self.record.read_text()).get("pid") == os.getpid():
                self.record.unlink()
        except (OSError, ValueError):
            pass


def start_web(
    app: App,
    *,
    send_now: Callable[[], object] | None = None,
    wake: Wake | None = wake_flow,
    environ: dict[str, str] | None = None,
) -> WebServer:
    """Run the console in a daemon thread (beside `serve`'s other services) and return once it listens."""
    import uvicorn

    env = dict(os.environ if environ is None else environ)
    host, port = bind_address(env)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = (env.get("BREACHOPS_WEB_URL") or f"http://{shown}:{bound}").rstrip("/")
    config = uvicorn.Config(
        create_app(app, url, send_now=send_now, wake=wake), log_config=None, access_log=False,
        lifespan="off", server_header=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="breachops-web", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the web console did not start on {host}:{bound}")
        time.sleep(0.02)
    record = app.workspace.resolve() / WEB_RECORD
    record.write_text(json.dumps({"pid": os.getpid(), "url": url}), encoding="utf-8")
    log.info("web console at %s", url)
    return WebServer(url, server, thread, record)

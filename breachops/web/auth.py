"""Sign-in by emailed one-time link, sessions, step links and CSRF tokens.

- A sign-in link works once, for 15 minutes; only the SHA-256 of its token is stored, and asking for one
  answers the same whether or not the address belongs to a contact.
- Following it shows a button; only the POST spends it, so mail scanners cannot use it up.
- A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS), its hash stored,
  valid 12 hours; one opened from a step link is limited to that incident. Every form carries a CSRF
  token: the HMAC of a random per-browser cookie under the workspace's web secret (``web/secret.py``).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from breachops.bootstrap import App
from breachops.notifications.keys import fit_key
from breachops.notifications.render import render
from breachops.store import Repository, web_tokens
from breachops.store.database import Session
from breachops.web.links import Signer, StepLink, StepLinks
from breachops.web.people import Person, Viewer, contact_in, find_person

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "SESSION_LIFETIME",
    "SIGN_IN_LIFETIME",
    "SIGN_IN_LIMIT",
    "Auth",
    "Opened",
]

log = logging.getLogger("breachops.web")

SIGN_IN_LIFETIME = timedelta(minutes=15)
SIGN_IN_LIMIT = 3
"""Sign-in links one address gets per ``SIGN_IN_LIFETIME`` at most: asking again and again cannot
flood a contact's mailbox."""
SESSION_LIFETIME = timedelta(hours=12)
SESSION_COOKIE = "breachops_session"
CSRF_COOKIE = "breachops_csrf"


@dataclass(frozen=True)
class Opened:
    """A session just opened: the cookie's token, and where to go."""

    token: str
    email: str
    target: str


class Auth:
    def __init__(
        self,
        app: App,
        signer: Signer,
        base_url: Callable[[], str],
        send_now: Callable[[], object] | None = None,
    ) -> None:
        self.app = app
        self.signer = signer
        self.base_url = base_url
        self.send_now = send_now

    def __repr__(self) -> str:
        return "Auth(********)"

    @property
    def step_links(self) -> StepLinks:
        return StepLinks(self.signer, self.base_url())

    # ---- sign-in links ---------------------------------------------------------------------------

    def request_sign_in(self, email: str, next_path: str = "/") -> bool:
        """Mail a sign-in link to ``email`` if it belongs to a contact. The caller shows the same page
        either way; the result is for tests and metrics only."""
        now = self.app.clock.now()
        with self.app.reading() as session:
            person = find_person(self.app, session, email)
        if person is None:
            return False
        with self.app.transaction() as session:
            if (
                web_tokens.issued_since(session, person.email, "sign_in", now - SIGN_IN_LIFETIME)
                >= SIGN_IN_LIMIT
            ):
                log.info("sign-in link not sent: %d already sent within %s", SIGN_IN_LIMIT, SIGN_IN_LIFETIME)
                return False
            web_tokens.purge_expired(session, now - timedelta(days=1))
            token = secrets.token_urlsafe(32)
            expires = now + SIGN_IN_LIFETIME
            web_tokens.issue(session, token, kind="sign_in", email=person.email, at=now, expires_at=expires)
            url = f"{self.base_url()}/sign-in/{token}"
            if next_path != "/":
                url += f"?next={quote(next_path, safe='/')}"
            self._queue(session, person, url, expires, now)
        if self.send_now is not None:  # mail it now rather than at the sender's next look
            threading.Thread(target=self._send, name="breachops-web-send", daemon=True).start()
        return True

    def _send(self) -> None:
        try:
            assert self.send_now is not None
            self.send_now()
        except Exception:  # the message stays queued; the reminder service sends it
            log.warning("could not send the sign-in message now; it stays queued", exc_info=True)

    def _queue(self, session: Session, person: Person, url: str, expires: datetime, now: datetime) -> None:
        # The key names the request, never the token: keys travel in headers and the audit log.
        key = fit_key(f"sign_in|{person.email}|{now:%Y%m%dT%H%M%S}|{secrets.token_hex(6)}")
        recipient = {"name": person.name, "email": person.email, "timezone": person.timezone}
        folder = self.app.workspace / "templates"
        rendered = render(
            "sign_in", {"recipient": recipient, "sign_in_url": url, "expires_at": expires},
            template_dir=folder if folder.is_dir() else None,
        )  # fmt: skip
        Repository(session).queue_message(
            idempotency_key=key, kind="sign_in", template="sign_in", recipients=[person.email],
            subject=rendered.subject, body_text=rendered.text, body_html=rendered.html, at=now,
            actor="web",
        )  # fmt: skip

    def sign_in_usable(self, token: str) -> bool:
        now = self.app.clock.now()
        with self.app.reading() as session:
            row = web_tokens.find(session, token, "sign_in")
            return row is not None and row.used_at is None and row.expires_at > now

    def complete_sign_in(self, token: str) -> Opened | None:
        """Spend a sign-in link and open a session; None when it is unknown, used or expired."""
        now = self.app.clock.now()
        with self.app.transaction() as session:
            row = web_tokens.consume(session, token, "sign_in", now)
            if row is None:
                return None
            opened = self._open(session, row.email, None, now)
        log.info("signed in: %s", row.email)
        return Opened(opened, row.email, "/")

    # ---- step links ------------------------------------------------------------------------------

    def open_step_link(self, token: str, current: Viewer | None) -> tuple[Opened | None, StepLink] | None:
        """A step link's content, and a session limited to its incident unless the browser already has
        one of the same person that covers it. None when the link is forged, expired, or its person
        is no longer a contact of the incident's agreement."""
        now = self.app.clock.now()
        link = self.step_links.read(token, now)
        if link is None:
            return None
        with self.app.transaction() as session:
            agreements = self.app.agreements.of(session, [link.incident_id])
            agreement = agreements.get(link.incident_id)
            if agreement is None or contact_in(agreement, link.email) is None:
                return None
            if current is not None and current.email == link.email and current.may_open(link.incident_id):
                return None, link
            opened = self._open(session, link.email, link.incident_id, now)
        return Opened(opened, link.email, ""), link

    # ---- sessions --------------------------------------------------------------------------------

    def _open(self, session: Session, email: str, scope: str | None, now: datetime) -> str:
        token = secrets.token_urlsafe(32)
        web_tokens.issue(
            session, token, kind="session", email=email, at=now,
            expires_at=now + SESSION_LIFETIME, scope=scope,
        )  # fmt: skip
        return token

    def viewer(self, session_token: str | None, csrf_cookie: str | None) -> Viewer | None:
        if not session_token:
            return None
        now = self.app.clock.now()
        with self.app.reading() as session:
            row = web_tokens.find(session, session_token, "session")
            if row is None or row.expires_at <= now:
                return None
            person = find_person(self.app, session, row.email)
            if person is None:
                return None
            return Viewer(person.email, person.name, person.timezone, row.scope, self.csrf(csrf_cookie))

    def sign_out(self, session_token: str | None) -> None:
        if session_token:
            with self.app.transaction() as session:
                web_tokens.revoke(session, session_token)

    # ---- CSRF ------------------------------------------------------------------------------------

    def csrf(self, csrf_cookie: str | None) -> str:
        return self.signer.sign("csrf", csrf_cookie) if csrf_cookie else ""

    def csrf_ok(self, csrf_cookie: str | None, submitted: str | None) -> bool:
        if not csrf_cookie or not submitted:
            return False
        return self.signer.check("csrf", csrf_cookie, submitted)

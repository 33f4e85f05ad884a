"""Signed links: a step's page for one person, and the CSRF token of a form.

A step link names the incident, the step and the person it was mailed to, and when it stops working,
signed with a key derived from the workspace secret (HMAC-SHA256). Changing any part (another
incident, another step, a later expiry) breaks the signature, so a link from one incident never opens
another. The link opens a session limited to that incident (see ``auth``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from breachops.web.secret import workspace_secret

__all__ = ["LINK_LIFETIME", "WEB_RECORD", "Signer", "StepLink", "StepLinks", "base_url", "step_links"]

LINK_LIFETIME = timedelta(days=14)
"""How long a step link in a message works: reminders are read days later, and a step's page still
asks for the sign-in of someone the agreement lists."""
WEB_RECORD = "web.json"
"""Written by a running console: its base URL, so that messages queued elsewhere can link to it."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """HMAC with one key per purpose, each derived from the workspace secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __repr__(self) -> str:
        return "Signer(********)"

    def key(self, purpose: str) -> bytes:
        return hmac.new(self._secret, f"breachops.web.{purpose}".encode(), hashlib.sha256).digest()

    def sign(self, purpose: str, message: str) -> str:
        return _b64(hmac.new(self.key(purpose), message.encode(), hashlib.sha256).digest())

    def check(self, purpose: str, message: str, signature: str) -> bool:
        return hmac.compare_digest(self.sign(purpose, message), signature)


@dataclass(frozen=True)
class StepLink:
    incident_id: str
    step_id: str
    email: str
    expires: datetime


class StepLinks:
    """Makes and reads the tokens of step links (``/act/<token>``)."""

    def __init__(self, signer: Signer, base: str) -> None:
        self.signer = signer
        self.base = base.rstrip("/")

    def token(self, incident_id: str, step_id: str, email: str, now: datetime) -> str:
        expires = int((now + LINK_LIFETIME).timestamp())
        content = json.dumps([incident_id, step_id, email.lower(), expires], separators=(",", ":"))
        body = _b64(content.encode())
        return f"{body}.{self.signer.sign('step-link', body)}"

    def url(self, incident_id: str, step_id: str, email: str, now: datetime) -> str:
        return f"{self.base}/act/{quote(self.token(incident_id, step_id, email, now), safe='')}"

    def read(self, token: str, now: datetime) -> StepLink | None:
        """The link's content, or None when the signature is wrong, it is malformed or it has expired."""
        body, _, signature = token.partition(".")
        if not body or not signature or not self.signer.check("step-link", body, signature):
            return None
        try:
            incident_id, step_id, email, expires = json.loads(_unb64(body))
            link = StepLink(str(incident_id), str(step_id), str(email), datetime.fromtimestamp(expires, UTC))
        except (ValueError, TypeError):
            return None
        return link if link.expires > now else None


def base_url(workspace: Path, environ: dict[str, str] | None = None) -> str | None:
    """The console's public base URL: ``BREACHOPS_WEB_URL``, else the one a running console recorded."""
    env = os.environ if environ is None else environ
    if env.get("BREACHOPS_WEB_URL"):
        return env["BREACHOPS_WEB_URL"].rstrip("/")
    try:
        data: Any = json.loads((workspace / WEB_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = data.get("url") if isinstance(data, dict) else None
    return url.rstrip("/") if isinstance(url, str) and url else None


def step_links(workspace: Path) -> StepLinks | None:
    """Step links for messages, or None while no console URL is known (messages then carry none)."""
    base = base_url(workspace)
    return StepLinks(Signer(workspace_secret(workspace)), base) if base else None

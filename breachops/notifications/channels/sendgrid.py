"""SendGrid's v3 Mail API through the official ``sendgrid`` library.

The idempotency key travels as the personalization's ``custom_args.breachops_key`` (the spec types a
message-level ``custom_args`` as a string, so the object goes on the personalization) and in the
Message-ID header. 429 (honouring Retry-After), 5xx, timeouts and connection errors are retryable;
other 4xx are not. The API key is only ever handed to ``SendGridAPIClient``: it is kept in a
:class:`Secret`, redacted from the library's debug log of request headers, and scrubbed from any
error text.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import re
import urllib.error
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from python_http_client import exceptions as http_errors
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    Content,
    CustomArg,
    Disposition,
    FileContent,
    FileName,
    FileType,
    From,
    Header,
    Mail,
    To,
)
from sendgrid.helpers.mail.exceptions import ApiKeyIncludedException

from breachops.clock import Clock, SystemClock
from breachops.notifications.channels.base import Delivery, DeliveryError
from breachops.notifications.models import OutgoingMessage
from breachops.notifications.secret import Secret, scrub

__all__ = ["DEFAULT_HOST", "SendGridChannel", "sendgrid_body"]

DEFAULT_HOST = "https://api.sendgrid.com"
_log = logging.getLogger(__name__)
_BEARER = re.compile(r"(Bearer\s+)[^\s'\",}]+", re.IGNORECASE)


class _RedactBearer(logging.Filter):
    """python_http_client logs request headers (with ``Authorization: Bearer <key>``) at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if _BEARER.search(text):
            record.msg, record.args = _BEARER.sub(r"\1[redacted]", text), None
        return True


def _install_redaction() -> None:
    logger = logging.getLogger("python_http_client.client")
    if not any(isinstance(f, _RedactBearer) for f in logger.filters):
        logger.addFilter(_RedactBearer())


def sendgrid_body(message: OutgoingMessage) -> dict[str, Any]:
    """The JSON body for POST /v3/mail/send, built with the library's Mail helper."""
    mail = Mail(
        from_email=From(message.sender[1], message.sender[0] or None),
        to_emails=[To(email, name or None) for name, email in message.recipients],
        subject=message.subject,
    )
    mail.add_content(Content("text/plain", message.text))
    mail.add_content(Content("text/html", message.html))
    headers = {
        "Message-ID": message.message_id,
        "Auto-Submitted": "auto-generated",
        "X-Breachops-Key": message.idempotency_key,
        "X-Breachops-Incident": message.incident_id,
        "X-Breachops-Kind": message.kind,
        **({"X-Breachops-Drill": "yes"} if message.drill else {}),
        **({"X-Breachops-Audit-Head": message.audit_head} if message.audit_head else {}),
        **message.headers,
    }
    for name, value in headers.items():
        mail.add_header(Header(name, value))
    args = {
        "breachops_key": message.idempotency_key,
        "breachops_incident": message.incident_id,
        "breachops_kind": message.kind,
        "breachops_drill": "yes" if message.drill else "no",
        **({"breachops_audit_head": message.audit_head} if message.audit_head else {}),
    }
    for key, value in args.items():
        mail.add_custom_arg(CustomArg(key, value, p=0))
    if message.ics is not None:
        mail.add_attachment(
            Attachment(
                FileContent(base64.b64encode(message.ics.content).decode("ascii")),
                FileName(message.ics.filename),
                FileType(f"text/calendar; method={message.ics.method}"),
                Disposition("attachment"),
            )
        )
    body: dict[str, Any] = mail.get()
    return body


class SendGridChannel:
    name = "sendgrid"

    def __init__(
        self,
        api_key: str | Secret,
        *,
        host: str = DEFAULT_HOST,
        timeout: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        self._key = api_key if isinstance(api_key, Secret) else Secret(api_key)
        self.host = host.rstrip("/")
        self.timeout = timeout
        self._clock = clock or SystemClock()
        # An explicit key: the library would otherwise fall back to SENDGRID_API_KEY on its own.
        self._client = SendGridAPIClient(api_key=self._key.reveal(), host=self.host)
        self._client.client.timeout = timeout
        _install_redaction()

    def __repr__(self) -> str:
        return f"SendGridChannel(host={self.host!r}, timeout={self.timeout})"

    def send(self, message: OutgoingMessage) -> Delivery:
        try:
            body = sendgrid_body(message)
        except ApiKeyIncludedException:
            raise DeliveryError(
                "the message body looks like it contains a SendGrid API key; refused to send it",
                retryable=False,
            ) from None
        try:
            response = self._client.send(body)
        except http_errors.HTTPError as exc:
            raise self._http_error(exc) from None
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise DeliveryError(
                self._scrub(f"SendGrid at {self.host} unreachable or too slow: {type(exc).__name__}: {exc}"),
                retryable=True,
            ) from None
        status = int(response.status_code)
        if not 200 <= status < 300:
            raise DeliveryError(f"SendGrid answered HTTP {status}, expected 202", retryable=False)
        headers = response.headers
        provider_id = (headers.get("X-Message-Id") if headers is not None else None) or message.message_id
        _log.info("sendgrid accepted %s (%s), HTTP %s", message.kind, message.incident_id, status)
        return Delivery(channel=self.name, provider_id=str(provider_id), accepted_at=self._clock.now())

    def _http_error(self, exc: http_errors.HTTPError) -> DeliveryError:
        status = int(exc.status_code)
        body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
        detail = self._scrub(_error_detail(self._scrub(body)))  # the whole body first, then the cut
        reason = f"SendGrid answered HTTP {status}" + (f": {detail}" if detail else "")
        if status == 429:
            return DeliveryError(reason, retryable=True, retry_after=self._retry_after(exc.headers))
        if status >= 500 or status == 408:
            return DeliveryError(reason, retryable=True, retry_after=self._retry_after(exc.headers))
        if status in (401, 403):
            reason += "; check the API key (SENDGRID_API_KEY) and its Mail Send permission"
        return DeliveryError(reason, retryable=False)

    def _retry_after(self, headers: Any) -> float | None:
        """Seconds to wait from ``Retry-After`` (seconds or an HTTP date), else ``X-RateLimit-Reset``."""
        if headers is None:
            return None
        value = headers.get("Retry-After")
        if value:
            value = str(value).strip()
            try:
                return max(0.0, float(value))
            except ValueError:
                pass
            try:
                when: datetime = parsedate_to_datetime(value)
                return max(0.0, (when - self._clock.now()).total_seconds())
            except (TypeError, ValueError):
                pass
        reset = headers.get("X-RateLimit-Reset")
        if reset:
            try:
                return max(0.0, float(reset) - self._clock.now().timestamp())
            except ValueError:
                pass
        return None

    def _scrub(self, text: str) -> str:
        return scrub(text, self._key)


def _error_detail(raw: str) -> str:
    """The first ``errors[].message`` of a SendGrid error body, else a short piece of the body."""
    try:
        data = json.loads(raw)
        messages = [e.get("message", "") for e in data.get("errors", []) if isinstance(e, dict)]
        return "; ".join(m for m in messages if m)[:300]
    except (ValueError, AttributeError):
        return raw.strip()[:200]

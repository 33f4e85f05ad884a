"""SMTP with STARTTLS, implicit TLS, or (for a relay on this machine and tests) plain.

Failures map to :class:`DeliveryError`: 4xx replies, dropped connections and timeouts may succeed
later (retryable); 5xx replies will not. The Message-ID carries the idempotency key.
"""

from __future__ import annotations

import smtplib
import ssl
from typing import Literal

from breachops.clock import Clock, SystemClock
from breachops.notifications.channels.base import Delivery, DeliveryError
from breachops.notifications.mime import build_mime
from breachops.notifications.models import OutgoingMessage
from breachops.notifications.secret import Secret, reveal

__all__ = ["SmtpChannel", "TlsMode"]

TlsMode = Literal["starttls", "tls", "none"]


class SmtpChannel:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: TlsMode = "starttls",
        username: str | None = None,
        password: str | Secret | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
    ) -> None:
        if tls not in ("starttls", "tls", "none"):
            raise ValueError(f"tls must be starttls, tls or none, not {tls!r}")
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password go together: give both or neither")
        self.host = host
        self.port = port
        self.tls: TlsMode = tls
        self.username = username
        self._password = password if password is None or isinstance(password, Secret) else Secret(password)
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._clock = clock or SystemClock()

    def __repr__(self) -> str:
        return (
            f"SmtpChannel(host={self.host!r}, port={self.port}, tls={self.tls!r}, username={self.username!r})"
        )

    def send(self, message: OutgoingMessage) -> Delivery:
        now = self._clock.now()
        mime = build_mime(message, now=now)
        try:
            smtp = self._connect()
            try:
                refused = smtp.send_message(
                    mime, from_addr=message.sender[1], to_addrs=list(message.addresses)
                )
            finally:
                _quit(smtp)  # once DATA is accepted, a failing QUIT must not turn success into a retry
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {addr: code for addr, (code, _) in exc.recipients.items()}
            listed = ", ".join(f"{addr} ({code})" for addr, code in codes.items())
            raise DeliveryError(
                f"SMTP server {self.host} refused every recipient: {listed}",
                retryable=any(400 <= code < 500 for code in codes.values()),
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"SMTP server {self.host}:{self.port} does not support {exc}; check BREACHOPS_SMTP_TLS "
                "and whether the server needs credentials",
                retryable=False,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raw = exc.smtp_error
            text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
            what = "authentication failed" if isinstance(exc, smtplib.SMTPAuthenticationError) else "reply"
            raise DeliveryError(
                f"SMTP server {self.host} {what}: {exc.smtp_code} {text}",
                retryable=not 500 <= exc.smtp_code < 600,
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(
                f"TLS certificate of SMTP server {self.host} did not verify: {exc.verify_message}",
                retryable=False,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, refused connections
            raise DeliveryError(
                f"SMTP server {self.host}:{self.port} unreachable or dropped the connection: "
                f"{type(exc).__name__}: {exc}",
                retryable=True,
            ) from exc
        return Delivery(
            channel=self.name, provider_id=message.message_id, accepted_at=now, refused=tuple(refused)
        )

    def _connect(self) -> smtplib.SMTP:
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.tls == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.tls == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username is not None:
                smtp.login(self.username, reveal(self._password) or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()

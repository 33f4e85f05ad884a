"""SMTP with STARTTLS, implicit TLS, or (for a relay on this machine and tests) plain.

Failures map to :class:`DeliveryError`: 4xx replies, dropped connections and timeouts may succeed
later (retryable); 5xx replies will not. The Message-ID carries the idempotency key.

The channel reports its point of no return through :func:`~.base.handover_point`: after the whole
message body has gone out and before the final ``<CRLF>.<CRLF>``. A server that never received the
terminator discards the message (RFC 5321 §4.1.1.4; aiosmtpd does), so until then a resend is safe;
the dispatcher records the hand-over there (see ``notifications/outbox.py``).
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from typing import Literal

from breachops.clock import Clock, SystemClock
from breachops.notifications.channels.base import Delivery, DeliveryError, handover_point
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
        self._ssl_context = ssl_context  # built on first use: loading the CA store takes tens of ms
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

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.tls == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.tls == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if self.username is not None:
                smtp.login(self.username, reveal(self._password) or "")
        except BaseException:
            smtp.close()
            raise
        if smtp.sock is not None:
            # The terminator goes out as a small write of its own (see data below): without NODELAY,
            # Nagle's algorithm holds it until the server's delayed ACK, some 40 ms per message.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        smtp.data = _data_with_handover(smtp)  # type: ignore[method-assign,assignment]
        return smtp


def _data_with_handover(smtp: smtplib.SMTP) -> Callable[[bytes | str], tuple[int, bytes]]:
    """``smtp.data`` that calls :func:`handover_point` between the body and the terminating dot."""

    def data(msg: bytes | str) -> tuple[int, bytes]:
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        # As smtplib.SMTP.data does: CRLF line ends for text, dot-stuffing, a final CRLF.
        raw = re.sub(r"\r\n|\r|\n", "\r\n", msg).encode("ascii") if isinstance(msg, str) else msg
        body = re.sub(rb"(?m)^\.", b"..", raw)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        smtp.send(body)
        handover_point()  # the server has everything but the terminator: a resend is still safe
        smtp.send(b".\r\n")
        return smtp.getreply()

    return data


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()

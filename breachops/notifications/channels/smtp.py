"""SMTP with STARTTLS, implicit TLS, or (for a relay on this machine and tests) plain.

4xx replies, dropped connections and timeouts are retryable :class:`DeliveryError`; 5xx replies are
not. The Message-ID carries the idempotency key. :func:`~.base.handover_point` is called between the
body and the final ``<CRLF>.<CRLF>``, and inside a :func:`~.base.connection_batch` one connection serves
the whole batch; why both are safe is told in docs/mail.md and docs/exactly-once.md.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from typing import Literal

from breachops.clock import Clock, SystemClock
from breachops.notifications.channels.base import (
    Delivery,
    DeliveryError,
    current_batch,
    handover_point,
)
from breachops.notifications.mime import mime_bytes
from breachops.notifications.models import OutgoingMessage
from breachops.notifications.secret import Secret, reveal, scrub

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
        # id of each open connection batch → the connection kept for it (None: none open right now)
        self._kept: dict[int, _Connection | None] = {}

    def __repr__(self) -> str:
        return (
            f"SmtpChannel(host={self.host!r}, port={self.port}, tls={self.tls!r}, username={self.username!r})"
        )

    def send(self, message: OutgoingMessage) -> Delivery:
        try:
            return self._send(message)
        except DeliveryError as exc:
            # A server's reply may echo what it was sent (AUTH PLAIN is the password in base64).
            exc.reason = scrub(exc.reason, self._password)
            exc.args = (exc.reason,)
            raise

    def _send(self, message: OutgoingMessage) -> Delivery:
        now = self._clock.now()
        data = mime_bytes(message, now=now)
        try:
            refused = self._transmit(data, message)
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

    def _transmit(self, data: bytes, message: OutgoingMessage) -> dict[str, tuple[int, bytes]]:
        """Send on a connection of its own, or on the batch's kept one (docs/mail.md, "Kept connections")."""
        batch = current_batch()
        if batch is None:
            connection = self._connect()
            try:
                return connection.send(data, message)
            finally:
                _quit(connection.smtp)  # once DATA is accepted, a failing QUIT must not make a retry
        if id(batch) not in self._kept:
            self._kept[id(batch)] = None
            batch.callback(self._release, id(batch))
        kept = self._kept[id(batch)]
        if kept is not None:
            try:
                return kept.send(data, message)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self._drop(id(batch))
                if kept.handed_over:
                    raise  # the server may have it: the dispatcher decides (in doubt), never a resend
            except BaseException:
                self._drop(id(batch))
                raise
        connection = self._connect()
        try:
            refused = connection.send(data, message)
        except BaseException:
            _quit(connection.smtp)
            raise
        self._kept[id(batch)] = connection
        return refused

    def _drop(self, batch_id: int) -> None:
        connection = self._kept.get(batch_id)
        self._kept[batch_id] = None
        if connection is not None:
            _quit(connection.smtp)

    def _release(self, batch_id: int) -> None:
        self._drop(batch_id)
        del self._kept[batch_id]

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _connect(self) -> _Connection:
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
        return _Connection(smtp)


class _Connection:
    """An open SMTP connection whose ``data`` calls :func:`handover_point` between the body and the
    terminating dot; ``handed_over`` says whether the last message sent on it got that far."""

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        self.handed_over = False
        smtp.data = self._data  # type: ignore[method-assign,assignment]
        smtp.mail = self._mail  # type: ignore[method-assign]
        smtp.rcpt = self._rcpt  # type: ignore[method-assign]

    def send(self, data: bytes, message: OutgoingMessage) -> dict[str, tuple[int, bytes]]:
        self.handed_over = False
        return self.smtp.sendmail(message.sender[1], list(message.addresses), data)

    # Envelope addresses were checked as plain ASCII dot-atoms when the message was built
    # (headers.check_address), so <address> is what smtplib's quoteaddr would make of them, without
    # the full address parser it runs on each, which cost a tenth of a message's sending time.
    def _mail(self, sender: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        extra = " " + " ".join(options) if options and self.smtp.does_esmtp else ""
        self.smtp.putcmd("mail", f"from:<{sender}>{extra}")
        return self.smtp.getreply()

    def _rcpt(self, recip: str, options: Sequence[str] = ()) -> tuple[int, bytes]:
        extra = " " + " ".join(options) if options and self.smtp.does_esmtp else ""
        self.smtp.putcmd("rcpt", f"to:<{recip}>{extra}")
        return self.smtp.getreply()

    def _data(self, msg: bytes | str) -> tuple[int, bytes]:
        smtp = self.smtp
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
        self.handed_over = True
        handover_point()  # the server has everything but the terminator: a resend is still safe
        smtp.send(b".\r\n")
        return smtp.getreply()


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()

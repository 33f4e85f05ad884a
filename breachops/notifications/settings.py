"""Mail settings from the environment, and ``build_channel``: the one place that wires a channel.

The variables (``BREACHOPS_MAIL_CHANNEL``, ``BREACHOPS_MAIL_FROM``, ``BREACHOPS_SMTP_*``,
``SENDGRID_API_KEY``, ...) are listed in docs/mail.md. Keys are only ever held in a :class:`Secret`;
this package does not know Prefect, so the composition root (``App.mail_settings``) passes
``secret_block``, a function that reads a Secret block by name.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from typing import Literal, cast
from urllib.parse import urlsplit

from breachops.clock import Clock, SystemClock
from breachops.errors import InputError
from breachops.notifications.channels.base import Channel
from breachops.notifications.channels.guard import DrillGuard, FallbackChannel, ParticipantLookup
from breachops.notifications.channels.outbox import OutboxChannel
from breachops.notifications.headers import check_address, check_display_name
from breachops.notifications.models import Mailbox
from breachops.notifications.secret import Secret
from breachops.notifications.senders import DEFAULT_SENDERS

__all__ = ["CHANNELS", "ChannelName", "MailSettings", "build_channel", "load_mail_settings"]

ChannelName = Literal["outbox", "smtp", "sendgrid"]
CHANNELS: tuple[str, ...] = ("outbox", "smtp", "sendgrid")
_TLS = ("starttls", "tls", "none")
_DEFAULT_PORT = {"starttls": 587, "tls": 465, "none": 25}
_DEFAULT_FROM: Mailbox = ("breachops", "breachops@outbox.invalid")
_SOURCE = "environment"
MAX_SENDERS = 32


@dataclass(frozen=True)
class MailSettings:
    channel: ChannelName = "outbox"
    fallback: ChannelName | None = None
    mail_from: Mailbox = _DEFAULT_FROM
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: Secret | None = field(default=None, repr=False)
    sendgrid_host: str = "https://api.sendgrid.com"
    sendgrid_api_key: Secret | None = field(default=None, repr=False)
    timeout: float = 30.0
    senders: int = DEFAULT_SENDERS

    @property
    def channels(self) -> tuple[str, ...]:
        return (self.channel,) if self.fallback is None else (self.channel, self.fallback)


def load_mail_settings(
    environ: Mapping[str, str] | None = None, *, secret_block: Callable[[str], str | None] | None = None
) -> MailSettings:
    """Read and check the variables (docs/mail.md); a bad value raises InputError naming it and its value."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value is not None and value.strip() else None

    channel = _choice("BREACHOPS_MAIL_CHANNEL", get("BREACHOPS_MAIL_CHANNEL") or "outbox", CHANNELS)
    fallback_raw = get("BREACHOPS_MAIL_FALLBACK")
    fallback = None
    if fallback_raw is not None and fallback_raw.lower() != "none":
        fallback = _choice("BREACHOPS_MAIL_FALLBACK", fallback_raw, CHANNELS)
    if fallback == channel:
        raise InputError(
            _SOURCE, "BREACHOPS_MAIL_FALLBACK", fallback, "must differ from BREACHOPS_MAIL_CHANNEL"
        )
    used = {channel, fallback}

    raw_from = get("BREACHOPS_MAIL_FROM")
    if raw_from is None:
        if used & {"smtp", "sendgrid"}:
            raise InputError(
                _SOURCE, "BREACHOPS_MAIL_FROM", None, "is required to send through smtp or sendgrid",
                "Set it to 'Name <address@your-domain>'.",
            )  # fmt: skip
        mail_from = _DEFAULT_FROM
    else:
        mail_from = _mailbox(raw_from)

    tls = _choice("BREACHOPS_SMTP_TLS", get("BREACHOPS_SMTP_TLS") or "starttls", _TLS)
    host = get("BREACHOPS_SMTP_HOST")
    port_raw = get("BREACHOPS_SMTP_PORT")
    port = _DEFAULT_PORT[tls] if port_raw is None else _port(port_raw)
    user, password = get("BREACHOPS_SMTP_USER"), env.get("BREACHOPS_SMTP_PASSWORD") or None
    if "smtp" in used:
        if host is None:
            raise InputError(_SOURCE, "BREACHOPS_SMTP_HOST", None, "is required when mail goes through smtp")
        if tls == "none" and not _loopback(host):
            raise InputError(
                _SOURCE, "BREACHOPS_SMTP_TLS", "none",
                f"is only allowed for a relay on this machine, and BREACHOPS_SMTP_HOST is {host!r}",
                "Use starttls or tls.",
            )  # fmt: skip
    if (user is None) != (password is None):
        missing = "BREACHOPS_SMTP_PASSWORD" if password is None else "BREACHOPS_SMTP_USER"
        raise InputError(_SOURCE, missing, None, "is missing; SMTP user and password go together")

    sg_host = (get("BREACHOPS_SENDGRID_HOST") or "https://api.sendgrid.com").rstrip("/")
    _check_url(sg_host)
    key = env.get("SENDGRID_API_KEY") or None
    block = get("BREACHOPS_SENDGRID_SECRET_BLOCK")
    if "sendgrid" in used and key is None and block is not None:
        key = _from_block(block, secret_block)
    if "sendgrid" in used and key is None:
        raise InputError(
            _SOURCE, "SENDGRID_API_KEY", None, "is required when mail goes through sendgrid",
            "Set it, or name a Prefect Secret block holding it in BREACHOPS_SENDGRID_SECRET_BLOCK.",
        )  # fmt: skip
    senders_raw = get("BREACHOPS_MAIL_SENDERS")
    return MailSettings(
        senders=DEFAULT_SENDERS if senders_raw is None else _senders(senders_raw),
        channel=cast(ChannelName, channel),
        fallback=cast(ChannelName | None, fallback),
        mail_from=mail_from,
        smtp_host=host,
        smtp_port=port,
        smtp_tls=cast(Literal["starttls", "tls", "none"], tls),
        smtp_user=user,
        smtp_password=Secret(password) if password else None,
        sendgrid_host=sg_host,
        sendgrid_api_key=Secret(key) if key else None,
    )


def build_channel(
    settings: MailSettings,
    workspace: Path,
    *,
    clock: Clock | None = None,
    drill_participants: Collection[str] | ParticipantLookup | None = None,
) -> Channel:
    """The configured channel (with its fallback), always behind a DrillGuard.

    Without ``drill_participants`` every drill message is refused; pass the drill's participant lookup.
    """
    clock = clock or SystemClock()
    primary = _one(settings.channel, settings, workspace, clock)
    channel: Channel = primary
    if settings.fallback is not None:
        channel = FallbackChannel(primary, _one(settings.fallback, settings, workspace, clock))
    return DrillGuard(channel, drill_participants)


def _one(name: str, settings: MailSettings, workspace: Path, clock: Clock) -> Channel:
    if name == "outbox":
        return OutboxChannel(workspace, clock=clock)
    if name == "smtp":
        from breachops.notifications.channels.smtp import SmtpChannel

        if settings.smtp_host is None:
            raise InputError(_SOURCE, "BREACHOPS_SMTP_HOST", None, "is required when mail goes through smtp")
        return SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_user,
            password=settings.smtp_password,
            timeout=settings.timeout,
            clock=clock,
        )
    if name == "sendgrid":
        from breachops.notifications.channels.sendgrid import SendGridChannel

        if settings.sendgrid_api_key is None:
            raise InputError(_SOURCE, "SENDGRID_API_KEY", None, "is required when mail goes through sendgrid")
        return SendGridChannel(
            settings.sendgrid_api_key, host=settings.sendgrid_host, timeout=settings.timeout, clock=clock
        )
    raise InputError(_SOURCE, "BREACHOPS_MAIL_CHANNEL", name, f"must be one of {', '.join(CHANNELS)}")


def _from_block(name: str, read: Callable[[str], str | None] | None) -> str:
    if read is None:
        raise InputError(
            _SOURCE, "BREACHOPS_SENDGRID_SECRET_BLOCK", name,
            "names a Prefect Secret block, but this command does not read Prefect blocks",
            "Set SENDGRID_API_KEY for it, or let `breachops serve` send the mail.",
        )  # fmt: skip
    try:
        value = read(name)
    except Exception as exc:  # the block store's own error; its text never holds the value
        raise InputError(
            _SOURCE, "BREACHOPS_SENDGRID_SECRET_BLOCK", name,
            f"the Prefect Secret block could not be read ({type(exc).__name__})",
            "Create it with `prefect block create secret` or check its name.",
        ) from None  # fmt: skip
    if not value:
        raise InputError(
            _SOURCE, "BREACHOPS_SENDGRID_SECRET_BLOCK", name, "names a Secret block that is empty"
        )
    return value


def _choice(variable: str, value: str, allowed: tuple[str, ...]) -> str:
    if value.lower() not in allowed:
        raise InputError(_SOURCE, variable, value, f"must be one of {', '.join(allowed)}")
    return value.lower()


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise InputError(_SOURCE, "BREACHOPS_SMTP_PORT", value, "must be a port number from 1 to 65535")
    return port


def _senders(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_SENDERS:
        raise InputError(
            _SOURCE, "BREACHOPS_MAIL_SENDERS", value, f"must be a whole number from 1 to {MAX_SENDERS}",
            "Ask your mail provider how many connections it accepts from one client; 4 suits most.",
        )  # fmt: skip
    return count


def _mailbox(value: str) -> Mailbox:
    try:
        check_display_name("BREACHOPS_MAIL_FROM", value)
        found = getaddresses([value])
        if len(found) != 1 or not found[0][1]:
            raise InputError(_SOURCE, "BREACHOPS_MAIL_FROM", value, "must name exactly one address")
        name, address = found[0]
        check_address("BREACHOPS_MAIL_FROM", address, recipient=False)
    except InputError as exc:
        raise InputError(
            _SOURCE, "BREACHOPS_MAIL_FROM", value, exc.problem,
            "Write 'Name <address@domain>' or 'address@domain'.",
        ) from None  # fmt: skip
    return (name, address)


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InputError(
            _SOURCE, "BREACHOPS_SENDGRID_HOST", url, "must be an http(s) URL such as https://api.sendgrid.com"
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise InputError(
            _SOURCE, "BREACHOPS_SENDGRID_HOST", url,
            "may use plain http only for a server on this machine; the API key would travel unencrypted",
        )  # fmt: skip
    if parts.path not in ("", "/") or parts.query:
        raise InputError(_SOURCE, "BREACHOPS_SENDGRID_HOST", url, "must be a base URL without a path")

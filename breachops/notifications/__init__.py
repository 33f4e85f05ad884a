"""Email notifications: render a kind of message, build an OutgoingMessage, send it through a channel.

    rendered = render("reminder", context, drill=False, template_dir=app.template_dir)
    message = OutgoingMessage(idempotency_key=..., subject=rendered.subject, text=rendered.text, ...)
    delivery = app.channel().send(message)  # or DeliveryError / DrillIsolationError

This package never imports ``flows``; retries are the caller's (``retry.next_delay``). docs/mail.md.
"""

from breachops.notifications.channels import (
    Channel,
    Delivery,
    DeliveryError,
    DrillGuard,
    DrillIsolationError,
    FallbackChannel,
    MemoryChannel,
    OutboxChannel,
)
from breachops.notifications.headers import HeaderError
from breachops.notifications.models import IcsAttachment, OutgoingMessage, key_from_message_id, message_id
from breachops.notifications.render import KINDS, Rendered, RenderError, render
from breachops.notifications.retry import next_delay
from breachops.notifications.secret import Secret
from breachops.notifications.settings import MailSettings, build_channel, load_mail_settings

__all__ = [
    "KINDS",
    "Channel",
    "Delivery",
    "DeliveryError",
    "DrillGuard",
    "DrillIsolationError",
    "FallbackChannel",
    "HeaderError",
    "IcsAttachment",
    "MailSettings",
    "MemoryChannel",
    "OutboxChannel",
    "OutgoingMessage",
    "RenderError",
    "Rendered",
    "Secret",
    "build_channel",
    "key_from_message_id",
    "load_mail_settings",
    "message_id",
    "next_delay",
    "render",
]

"""Email notifications: render a kind of message, build an OutgoingMessage, send it through a channel.

    rendered = render("reminder", context, drill=False, template_dir=workspace / "templates")
    message = OutgoingMessage(idempotency_key=..., sender=..., recipients=[...], subject=rendered.subject,
                              text=rendered.text, html=rendered.html, incident_id=..., kind="reminder")
    channel = build_channel(load_mail_settings(), workspace, clock=clock, drill_participants=lookup)
    delivery = channel.send(message)        # or DeliveryError / DrillIsolationError

This package never imports ``flows``; retries are the caller's (see ``retry.next_delay``).
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

"""Mail channels: the ``Channel`` port and its adapters (outbox, SMTP, SendGrid, memory), plus the
drill guard and a fallback wrapper. ``settings.build_channel`` is the one place that picks and wires them.

The SMTP and SendGrid modules import their libraries; import them from their own modules.
"""

from breachops.notifications.channels.base import Channel, Delivery, DeliveryError, DrillIsolationError
from breachops.notifications.channels.guard import DrillGuard, FallbackChannel, ParticipantLookup
from breachops.notifications.channels.memory import MemoryChannel
from breachops.notifications.channels.outbox import OutboxChannel

__all__ = [
    "Channel",
    "Delivery",
    "DeliveryError",
    "DrillGuard",
    "DrillIsolationError",
    "FallbackChannel",
    "MemoryChannel",
    "OutboxChannel",
    "ParticipantLookup",
]

"""The embedded default: each message becomes ``<workspace>/outbox/<key-derived-name>.eml``.

The file is written under a temporary name and then linked into place, which fails if the final name
already exists: a message is never half-written, and two writers of the same key leave one file.
"""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from breachops.clock import Clock, SystemClock
from breachops.files import private_dir, private_file
from breachops.notifications.channels.base import Delivery, DeliveryError
from breachops.notifications.mime import mime_bytes
from breachops.notifications.models import OutgoingMessage, key_to_name

__all__ = ["OutboxChannel"]


class OutboxChannel:
    """Writes RFC 5322 files (CRLF line ends), one per idempotency key."""

    name = "outbox"

    def __init__(self, workspace: Path, *, clock: Clock | None = None) -> None:
        self.folder = Path(workspace) / "outbox"
        self._clock = clock or SystemClock()

    def path_for(self, key: str) -> Path:
        return self.folder / f"{key_to_name(key)}.eml"

    def send(self, message: OutgoingMessage) -> Delivery:
        target = self.path_for(message.idempotency_key)
        if target.exists():
            return self._delivered(target)
        now = self._clock.now()
        data = mime_bytes(message, now=now)
        try:
            if not self.folder.is_dir():
                private_dir(self.folder)
            try:
                # A new 0600 file linked into place: refuses to replace an existing file (or link).
                with private_file(target, replace=False) as handle:
                    handle.write(data)
            except FileExistsError:
                return self._delivered(target)
            except PermissionError:  # a file system without hard links: rename (last writer wins)
                with private_file(target) as handle:
                    handle.write(data)
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to the outbox {self.folder}: {exc.strerror or exc}", retryable=True
            ) from exc
        return Delivery(channel=self.name, provider_id=target.name, accepted_at=now, repeat_safe=True)

    def _delivered(self, target: Path) -> Delivery:
        """The Delivery of a message written earlier: its Date header is when it was accepted."""
        with target.open("rb") as handle:
            headers = BytesHeaderParser(policy=email.policy.default).parse(handle)
        try:
            accepted = parsedate_to_datetime(str(headers["Date"])).astimezone(UTC)
        except (TypeError, ValueError):
            accepted = datetime.fromtimestamp(target.stat().st_mtime, UTC)
        return Delivery(channel=self.name, provider_id=target.name, accepted_at=accepted, repeat_safe=True)

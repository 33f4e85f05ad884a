"""Drill tests share the reminders' real SMTP server (aiosmtpd on loopback, every message kept)."""

from tests.reminders.conftest import smtp  # noqa: F401 - a fixture, registered for this folder

from __future__ import annotations

from pathlib import Path

import pytest

from breachops.clock import ManualClock
from breachops.errors import InputError
from breachops.notifications.channels import (
    DeliveryError,
    DrillGuard,
    DrillIsolationError,
    FallbackChannel,
    MemoryChannel,
    OutboxChannel,
)
from breachops.notifications.channels.sendgrid import SendGridChannel
from breachops.notifications.channels.smtp import SmtpChannel
from breachops.notifications.retry import next_delay
from breachops.notifications.settings import build_channel, load_mail_settings

from .conftest import make_message

# ---- settings -----------------------------------------------------------------------------------


def test_default_is_the_outbox_behind_a_drill_guard(tmp_path: Path, clock: ManualClock) -> None:
    settings = load_mail_settings({})
    channel = build_channel(settings, tmp_path, clock=clock)
    assert isinstance(channel, DrillGuard) and isinstance(channel.inner, OutboxChannel)
    channel.send(make_message())
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_sendgrid_with_smtp_fallback_is_wired_and_secrets_stay_hidden(tmp_path: Path) -> None:
    env = {
        "BREACHOPS_MAIL_CHANNEL": "sendgrid",
        "BREACHOPS_MAIL_FALLBACK": "smtp",
        "BREACHOPS_MAIL_FROM": "Breachops <breachops@discloser.example>",
        "BREACHOPS_SMTP_HOST": "127.0.0.1",
        "BREACHOPS_SMTP_TLS": "none",
        "BREACHOPS_SMTP_USER": "relay",
        "BREACHOPS_SMTP_PASSWORD": "pw-never-shown",
        "BREACHOPS_SENDGRID_HOST": "http://127.0.0.1:9",
        "SENDGRID_API_KEY": "SG.key-never-shown.x",
    }
    settings = load_mail_settings(env)
    assert settings.smtp_port == 25
    assert settings.senders == 4  # the default
    assert load_mail_settings({**env, "BREACHOPS_MAIL_SENDERS": "8"}).senders == 8
    assert settings.mail_from == ("Breachops", "breachops@discloser.example")
    channel = build_channel(settings, tmp_path)
    assert isinstance(channel, DrillGuard) and isinstance(channel.inner, FallbackChannel)
    assert isinstance(channel.inner.primary, SendGridChannel)
    assert isinstance(channel.inner.fallback, SmtpChannel)
    shown = repr(settings) + str(settings) + repr(channel)
    assert "never-shown" not in shown


@pytest.mark.parametrize(
    ("env", "variable", "value"),
    [
        ({"BREACHOPS_MAIL_CHANNEL": "pigeon"}, "BREACHOPS_MAIL_CHANNEL", "pigeon"),
        ({"BREACHOPS_MAIL_FALLBACK": "outbox"}, "BREACHOPS_MAIL_FALLBACK", "outbox"),
        ({"BREACHOPS_SMTP_TLS": "ssl3"}, "BREACHOPS_SMTP_TLS", "ssl3"),
        ({"BREACHOPS_SMTP_PORT": "smtp"}, "BREACHOPS_SMTP_PORT", "smtp"),
        ({"BREACHOPS_SMTP_PORT": "70000"}, "BREACHOPS_SMTP_PORT", "70000"),
        ({"BREACHOPS_MAIL_SENDERS": "0"}, "BREACHOPS_MAIL_SENDERS", "0"),
        ({"BREACHOPS_MAIL_SENDERS": "many"}, "BREACHOPS_MAIL_SENDERS", "many"),
        ({"BREACHOPS_MAIL_FROM": "Ops <ops@x.example>\r\nBcc: y@z.example"}, "BREACHOPS_MAIL_FROM", None),
        ({"BREACHOPS_SENDGRID_HOST": "http://api.example.org"}, "BREACHOPS_SENDGRID_HOST", None),
        ({"BREACHOPS_SENDGRID_HOST": "ftp://127.0.0.1"}, "BREACHOPS_SENDGRID_HOST", None),
        ({"BREACHOPS_SMTP_USER": "relay"}, "BREACHOPS_SMTP_PASSWORD", None),
        (
            {"BREACHOPS_MAIL_CHANNEL": "smtp", "BREACHOPS_MAIL_FROM": "a@x.example",
             "BREACHOPS_SMTP_HOST": "mail.x.example", "BREACHOPS_SMTP_TLS": "none"},
            "BREACHOPS_SMTP_TLS", "none",
        ),
        ({"BREACHOPS_MAIL_CHANNEL": "smtp", "BREACHOPS_MAIL_FROM": "a@x.eu"}, "BREACHOPS_SMTP_HOST", None),
        ({"BREACHOPS_MAIL_CHANNEL": "sendgrid", "BREACHOPS_MAIL_FROM": "a@x.eu"}, "SENDGRID_API_KEY", None),
        ({"BREACHOPS_MAIL_CHANNEL": "sendgrid", "SENDGRID_API_KEY": "k"}, "BREACHOPS_MAIL_FROM", None),
    ],
)  # fmt: skip
def test_bad_environment_names_variable_and_value(
    env: dict[str, str], variable: str, value: str | None
) -> None:
    with pytest.raises(InputError) as caught:
        load_mail_settings(env)
    assert caught.value.field == variable
    assert variable in str(caught.value)
    if value is not None:
        assert repr(value) in str(caught.value)


# ---- retry --------------------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    low, high = (lambda: 0.0), (lambda: 1.0)
    assert [next_delay(n, rng=high) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert [next_delay(n, rng=low) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert next_delay(20, rng=high) == 300.0
    assert next_delay(1000, rng=high) == 300.0


def test_retry_after_is_a_floor_even_above_the_cap() -> None:
    error = DeliveryError("429", retryable=True, retry_after=30.0)
    assert next_delay(1, error, rng=lambda: 0.5) == 30.0
    assert next_delay(8, error, rng=lambda: 1.0) == 256.0
    assert next_delay(2, DeliveryError("429", retryable=True, retry_after=900.0), rng=lambda: 0.0) == 900.0


def test_no_retry_for_permanent_errors_or_after_max_attempts() -> None:
    assert next_delay(1, DeliveryError("550", retryable=False)) is None
    assert next_delay(5, DeliveryError("451", retryable=True), max_attempts=5, rng=lambda: 0.0) is None
    with pytest.raises(ValueError):
        next_delay(0)


# ---- drill guard and fallback -------------------------------------------------------------------

PARTICIPANTS = {"aiko.tanaka@receiver.example", "marta.silva@discloser.example"}


def test_drill_message_to_participants_goes_through(clock: ManualClock) -> None:
    inner = MemoryChannel(clock=clock)
    DrillGuard(inner, PARTICIPANTS).send(
        make_message(drill=True, recipients=[("A", "Aiko.Tanaka@receiver.example")])
    )
    assert len(inner.sent) == 1


def test_drill_message_to_an_outsider_is_refused(clock: ManualClock) -> None:
    inner = MemoryChannel(clock=clock)
    message = make_message(
        drill=True, recipients=[("A", "aiko.tanaka@receiver.example"), ("Press", "news@paper.example")]
    )
    with pytest.raises(DrillIsolationError) as caught:
        DrillGuard(inner, lambda incident: PARTICIPANTS).send(message)
    assert caught.value.outsiders == ("news@paper.example",)
    assert caught.value.retryable is False
    assert "news@paper.example" in str(caught.value) and "not a participant" in str(caught.value)
    assert inner.attempts == 0


def test_drill_message_without_prefix_is_refused(clock: ManualClock) -> None:
    inner = MemoryChannel(clock=clock)
    message = make_message(drill=True, subject="Inject 2: a journalist calls")
    with pytest.raises(DrillIsolationError, match=r"\[DRILL\]"):
        DrillGuard(inner, PARTICIPANTS).send(message)
    assert inner.attempts == 0


def test_guard_fails_closed_without_participants_and_lets_real_incidents_pass(clock: ManualClock) -> None:
    inner = MemoryChannel(clock=clock)
    guard = DrillGuard(inner)
    with pytest.raises(DrillIsolationError):
        guard.send(make_message(drill=True))
    guard.send(make_message(recipients=[("Press", "news@paper.example")]))
    assert inner.attempts == 1


def test_fallback_only_on_retryable_failures(clock: ManualClock) -> None:
    backup = MemoryChannel(clock=clock)
    down = MemoryChannel(fail_with=DeliveryError("timed out", retryable=True))
    assert FallbackChannel(down, backup).send(make_message()).channel == "memory"
    assert len(backup.sent) == 1

    refused = MemoryChannel(fail_with=DeliveryError("550 no", retryable=False))
    with pytest.raises(DeliveryError, match="550"):
        FallbackChannel(refused, backup).send(make_message(idempotency_key="other"))
    assert len(backup.sent) == 1

"""The SendGrid key from a Prefect Secret block (read through the function serve passes in)."""

from __future__ import annotations

import pytest

from breachops.errors import InputError
from breachops.notifications.settings import load_mail_settings

KEY = "SG.from-a-block.0123456789abcdefghijklmnopqrstuvwxyz"
BASE = {"BREACHOPS_MAIL_CHANNEL": "sendgrid", "BREACHOPS_MAIL_FROM": "Breachops <ops@discloser.example>"}


def test_the_key_comes_from_the_named_secret_block_when_the_variable_is_unset():
    asked: list[str] = []

    def block(name: str) -> str:
        asked.append(name)
        return KEY

    settings = load_mail_settings(
        {**BASE, "BREACHOPS_SENDGRID_SECRET_BLOCK": "sendgrid-key"}, secret_block=block
    )
    assert asked == ["sendgrid-key"]
    assert settings.sendgrid_api_key is not None and settings.sendgrid_api_key.reveal() == KEY
    assert KEY not in repr(settings) and KEY not in str(settings.sendgrid_api_key)


def test_the_variable_wins_over_the_block():
    def block(name: str) -> str:
        raise AssertionError("the block is not read when SENDGRID_API_KEY is set")

    env = {**BASE, "SENDGRID_API_KEY": KEY, "BREACHOPS_SENDGRID_SECRET_BLOCK": "sendgrid-key"}
    assert load_mail_settings(env, secret_block=block).sendgrid_api_key is not None


def test_a_block_that_cannot_be_read_is_a_clear_error_without_the_value():
    def block(name: str) -> str:
        raise ValueError(f"Unable to find block document named {name}")

    with pytest.raises(InputError) as caught:
        load_mail_settings({**BASE, "BREACHOPS_SENDGRID_SECRET_BLOCK": "missing"}, secret_block=block)
    text = str(caught.value)
    assert "BREACHOPS_SENDGRID_SECRET_BLOCK" in text and "'missing'" in text and "could not be read" in text


def test_without_a_block_reader_the_error_says_what_to_set():
    with pytest.raises(InputError) as caught:
        load_mail_settings({**BASE, "BREACHOPS_SENDGRID_SECRET_BLOCK": "sendgrid-key"})
    assert "SENDGRID_API_KEY" in str(caught.value)
    with pytest.raises(InputError) as caught:
        load_mail_settings(BASE)
    assert "SENDGRID_API_KEY" in str(caught.value) and "BREACHOPS_SENDGRID_SECRET_BLOCK" in str(caught.value)

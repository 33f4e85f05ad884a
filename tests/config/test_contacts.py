"""One definition of a valid contact: the agreement loader accepts exactly what the mail builder sends."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from breachops.config.agreements import parse_agreement
from breachops.config.yaml import read_yaml
from breachops.errors import InputError
from breachops.notifications.headers import HeaderError, check_address, check_display_name

AGREEMENT = read_yaml(Path(__file__).resolve().parents[2] / "examples" / "agreement.yaml")

ADDRESSES = [
    ("rafael.costa@horizonte.example", True),
    ("first.last+incident@sub.horizonte.example", True),
    ("o'brien@x.example", True),
    ("dpo@xn--bcher-kva.example", True),
    ("x,evil@example.com", False),  # a header would read two addresses
    ('"quoted"@example.com', False),
    ('"a b"@example.com', False),
    ("a\x00b@example.com", False),
    ("a\x1b[31m@example.com", False),
    ("a@example.com\r\nBcc: outsider@evil.example", False),
    ("Rafael <rafael@horizonte.example>", False),
    ("rafael@bücher.example", False),  # the builder writes ASCII headers and does not speak SMTPUTF8
    ("rafaél@horizonte.example", False),
    ("rafael@localhost", False),
    ("rafael@horizonte..example", False),
    ("rafael@[192.0.2.1]", False),
    ("rafael@horizonte.invalid", False),  # special-use: mail cannot reach a person there
    ("rafael@host.local", False),
    (".rafael@horizonte.example", False),
    ("rafael@horizonte.example ", False),
    ("", False),
    ("a" * 65 + "@x.example", False),
]


def with_contact(email: Any = "rafael.costa@horizonte.example", name: Any = "Rafael Costa") -> dict[str, Any]:
    data = copy.deepcopy(AGREEMENT)
    data["parties"]["receiving"]["contacts"]["legal"] = {
        "name": name,
        "email": email,
        "timezone": "America/Sao_Paulo",
    }
    return data


def agreement_accepts(email: str) -> bool:
    try:
        parse_agreement(with_contact(email), "agreement.yaml")
    except InputError:
        return False
    return True


def builder_accepts(email: str) -> bool:
    try:
        check_address("recipients[0].email", email)
    except HeaderError:
        return False
    return True


@pytest.mark.parametrize(("email", "valid"), ADDRESSES)
def test_agreement_and_mail_builder_agree_on_every_address(email: str, valid: bool) -> None:
    assert agreement_accepts(email) is valid
    assert builder_accepts(email) is valid


def test_a_refused_address_names_file_field_path_and_value() -> None:
    with pytest.raises(InputError) as caught:
        parse_agreement(with_contact("x,evil@example.com"), "agreement.yaml")
    error = caught.value
    assert error.source == "agreement.yaml"
    assert error.field == "parties.receiving.contacts.legal.email"
    assert error.value == "x,evil@example.com"
    assert "dot-atom" in error.problem
    assert "\n" not in str(error)


def test_an_internationalised_domain_is_refused_with_its_ascii_spelling() -> None:
    with pytest.raises(InputError) as caught:
        parse_agreement(with_contact("dpo@bücher.example"), "agreement.yaml")
    assert "dpo@xn--bcher-kva.example" in str(caught.value)


@pytest.mark.parametrize("name", ["Rafael\nCosta", "Rafael\x00", "Rafael\x1b[2J", "Rafael\u0085"])
def test_control_characters_in_a_name_are_refused_by_both(name: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_agreement(with_contact(name=name), "agreement.yaml")
    assert caught.value.field == "parties.receiving.contacts.legal.name"
    with pytest.raises(HeaderError):
        check_display_name("recipients[0].name", name)


@pytest.mark.parametrize(
    "name", ["Costa, Rafael", 'Rafael "Rafa" Costa', "Beatriz Lima\tDPO", "Aylin Yılmaz"]
)
def test_names_with_commas_quotes_tabs_or_accents_are_accepted_by_both(name: str) -> None:
    parse_agreement(with_contact(name=name), "agreement.yaml")
    assert check_display_name("recipients[0].name", name) == name


def test_a_party_name_with_a_line_break_is_refused() -> None:
    data = copy.deepcopy(AGREEMENT)
    data["parties"]["disclosing"]["name"] = "Nordlicht\nBcc: x@evil.example"
    with pytest.raises(InputError) as caught:
        parse_agreement(data, "agreement.yaml")
    assert caught.value.field == "parties.disclosing.name"


def test_the_outbox_default_sender_at_a_special_use_domain_is_still_a_valid_sender() -> None:
    assert check_address("sender.email", "breachops@outbox.invalid", recipient=False)
    with pytest.raises(HeaderError):
        check_address("sender.email", "x,evil@outbox.invalid", recipient=False)
    with pytest.raises(HeaderError):
        check_address("recipients[0].email", "breachops@outbox.invalid")

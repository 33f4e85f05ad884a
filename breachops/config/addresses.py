"""What a valid contact is: one definition for the agreement loader and the mail builder.

An address is a plain ASCII ``local@host.example`` (a dot-atom local part, no display name) at a domain
mail can reach; a sender may use a special-use domain such as ``outbox.invalid``. A display name holds
no line break or control character. Why each rule: docs/input-safety.md.
"""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

__all__ = ["MAX_ADDRESS", "AddressProblem", "address_problem", "name_problem"]

MAX_ADDRESS = 254  # RFC 5321 §4.5.3.1.3 (a path of 256 octets, less the angle brackets)

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")  # dot-atom
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # every C0/C1 control except TAB, and DEL


class AddressProblem(ValueError):
    """Why a value is not a usable address or name, and what to write instead."""

    def __init__(self, problem: str, hint: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint


def name_problem(value: object) -> AddressProblem | None:
    """None if ``value`` can be a display name; else what is wrong with it."""
    if not isinstance(value, str):
        return AddressProblem(f"must be text, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        return AddressProblem(
            "contains a line break (CR or LF), which could inject mail headers; refused",
            "Remove the line break from the value.",
        )
    if _CONTROL.search(value):
        return AddressProblem("contains a control character; refused")
    return None


def address_problem(value: object, *, recipient: bool = True) -> AddressProblem | None:
    """None if ``value`` is an address the mail builder writes and sends; else what is wrong with it.

    ``recipient``: the address receives mail, so its domain must be one mail can reach.
    """
    problem = name_problem(value)
    if problem is not None:
        return problem
    assert isinstance(value, str)
    if len(value) > MAX_ADDRESS:  # before the cache, which keeps what it is given
        return AddressProblem(f"is longer than {MAX_ADDRESS} characters, the limit for an email address")
    found = _address_problem(value, recipient)
    return None if found is None else AddressProblem(*found)


@lru_cache(maxsize=4096)  # a reminder burst checks the same few addresses thousands of times
def _address_problem(value: str, recipient: bool) -> tuple[str, str | None] | None:
    if value != value.strip() or not value:
        return _problem("is not an email address (empty, or spaces around it)")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return _problem("is not an email address (expected local-part@domain)")
    if "<" in value or ">" in value or any(c.isspace() for c in value):
        return _problem(
            "is not a bare email address (it holds a display name, angle brackets or spaces)",
            "Give the name and the address separately.",
        )
    if len(local) > 64 or not _LOCAL.match(local):
        return _problem(
            "has a local part (before @) that is not a plain RFC 5322 dot-atom",
            "Use letters, digits and . _ + - only; quoted local parts are not accepted.",
        )
    try:
        checked = validate_email(
            value,
            allow_smtputf8=False,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
            check_deliverability=False,
            globally_deliverable=True,
        )
    except EmailNotValidError as exc:
        if recipient or "special-use or reserved" not in str(exc):
            return _explain(str(exc), domain)
        # A sender at a special-use domain: check the rest of the syntax under a public suffix.
        return _address_problem(f"{value}.example", True)
    if not domain.isascii():
        return _problem(
            "has an internationalised domain, which mail headers cannot carry as written",
            f"Write the domain in its ASCII form: {local}@{checked.ascii_domain}.",
        )
    return None


def _problem(problem: str, hint: str | None = None) -> tuple[str, str | None]:
    return (problem, hint)


def _explain(message: str, domain: str) -> tuple[str, str | None]:
    if "special-use or reserved" in message:
        return _problem(
            f"has a domain ({domain}) reserved for special use, which mail cannot reach; refused",
            "Give an address at a public domain.",
        )
    return _problem(
        f"has a domain that is not a fully qualified ASCII host name ({message.rstrip('.')})",
        "Write the part after @ as a host name such as example.org (an international one in xn-- form).",
    )

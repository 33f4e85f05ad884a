"""What every definition model shares: strict parsing (no unknown field, nothing mutable after
loading) and the shapes of the names playbooks and scenarios give things (slugs, keys, parties)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

__all__ = ["KEY", "SLUG", "Strict", "check_party_key", "check_slug"]

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
"""Ids and names: ``freeze-access``, ``confidential-information-leak``."""
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
"""Keys: ``subcontractor``, a gate's field ``notice_lawful``, a playbook's kind."""


class Strict(BaseModel):
    """A definition read from YAML: an unknown field is a typo, refused; a loaded one never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_slug(value: str, what: str) -> str:
    if not SLUG.match(value):
        raise ValueError(f"{value!r} is not a {what}: lower-case letters, digits and dashes")
    return value


def check_party_key(value: str) -> str:
    """A party as playbooks and scenarios name it: ``disclosing``, ``receiving``, ``both``, or another
    key of the agreement's parties (e.g. ``subcontractor``)."""
    if not KEY.match(value):
        raise ValueError(
            f"{value!r} is not a party key: disclosing, receiving, both, or another lower_snake key "
            "of the agreement (e.g. subcontractor)"
        )
    return value

"""The engine's fast ways of building an Obligation and an Assessment give the same, frozen objects as
the constructors."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from breachops.deadlines.models import Assessment, Obligation, assessment, obligation

DUE = datetime(2026, 3, 30, 9, tzinfo=UTC)
VALUES = (
    "eu-gdpr-art33", "notification", "EU", "regulator", "the authority", "GDPR Art. 33", "Notify",
    "GDPR Art. 33: 72 h from aware", "aware", DUE, DUE, "deadline", "72 h", None, ("Europe/Berlin",),
    "https://eur-lex.europa.eu/eli/reg/2016/679/oj", "eu.yaml", True, "law", "pending",
)  # fmt: skip


def test_obligation_builder_equals_the_constructor_field_by_field():
    built = obligation(*VALUES)
    assert built == Obligation(*VALUES)
    assert hash(built) == hash(Obligation(*VALUES))
    assert [getattr(built, f.name) for f in dataclasses.fields(Obligation)] == list(VALUES)


def test_obligation_builder_keeps_the_obligation_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        obligation(*VALUES).due = None  # type: ignore[misc]


def test_obligation_builder_refuses_a_missing_field():
    with pytest.raises(TypeError, match="20 fields, not 19"):
        obligation(*VALUES[:-1])


def test_assessment_builder_equals_the_constructor_and_stays_frozen():
    values = ((obligation(*VALUES),), (), DUE, ("BR",), ("a warning",))
    built = assessment(*values)
    assert built == Assessment(*values)
    assert [getattr(built, f.name) for f in dataclasses.fields(Assessment)] == list(values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.gaps = ()  # type: ignore[misc]

"""Small builders for engine tests: a rule from keyword arguments, facts from a dict, and finders for
what an assessment says of one rule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from breachops.config.rule_models import Rule
from breachops.deadlines.models import Assessment, Facts, Obligation, parse_facts

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def rule(id: str = "xx-test-rule", jurisdiction: str = "DE", **kw: Any) -> Rule:
    data: dict[str, Any] = {
        "id": id,
        "jurisdiction": jurisdiction,
        "instrument": "Test Act",
        "article": "s 1",
        "title": "Notify the test authority",
        "audience": "regulator",
        "recipient": "test authority",
        "clock": "aware",
        "window": {"hours": 72},
        "source": "https://example.org/test-act",
        "reviewed": "2026-11-25",
    }
    if "stages" in kw:
        del data["clock"], data["window"]
    data.update(kw)
    return Rule.model_validate(data)


def facts(**kw: Any) -> Facts:
    data: dict[str, Any] = {
        "aware_at": "2026-03-27T10:00:00+01:00",
        "jurisdictions": [{"code": "DE", "affected": 10}],
    }
    data.update(kw)
    return parse_facts(data)


def obligation_of(assessment: Assessment, rule_id: str, stage: str | None = None) -> Obligation:
    """The obligation a rule gave rise to (its first stage unless named); fails saying why it did not apply."""
    found = [o for o in assessment.obligations if o.rule_id == rule_id and stage in (None, o.stage)]
    assert found, f"{rule_id} did not apply: {refusal_of(assessment, rule_id)}"
    return found[0]


def refusal_of(assessment: Assessment, rule_id: str) -> str | None:
    """Why a rule did not apply, or None if it was not refused."""
    return next((n.reason for n in assessment.not_applicable if n.rule_id == rule_id), None)

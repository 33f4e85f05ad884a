"""Which rules need a person's attention: reviews that are due, readings not confirmed, and amendments
announced (a version that ends, or one that starts, after today).

Law changes; a catalogue is only as good as its last review. ``breachops rules review`` lists these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from breachops.config.catalogue import Catalogue
from breachops.config.rule_models import Rule
from breachops.errors import InputError

__all__ = ["DEFAULT_SPAN", "Finding", "parse_span", "review"]

DEFAULT_SPAN = timedelta(days=180)
FindingKind = Literal["review_due", "unconfirmed", "amendment"]
_UNCONFIRMED = re.compile(r"\bunconfirmed\b\W*(.*)", re.IGNORECASE)
_SPAN = re.compile(r"^(\d{1,5})([dw]?)$")


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    jurisdiction: str
    kind: FindingKind
    reviewed: date
    detail: str

    def to_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "jurisdiction": self.jurisdiction,
            "kind": self.kind,
            "reviewed": self.reviewed.isoformat(),
            "detail": self.detail,
        }


def parse_span(value: str, option: str = "--older-than") -> timedelta:
    """``180d``, ``26w`` or ``180`` (days)."""
    found = _SPAN.match(value.strip().lower())
    if found is None:
        raise InputError(option, None, value, "is not a span of days or weeks", "Examples: 180d, 26w.")
    count = int(found.group(1))
    return timedelta(weeks=count) if found.group(2) == "w" else timedelta(days=count)


def review(catalogue: Catalogue, today: date, older_than: timedelta = DEFAULT_SPAN) -> list[Finding]:
    """Every finding, by jurisdiction and rule id, review first, then unconfirmed, then amendment."""
    successor = {r.replaces: r for r in catalogue.rules if r.replaces}
    found: list[Finding] = []
    for rule in catalogue.rules:
        age = (today - rule.reviewed).days
        if age > older_than.days:
            found.append(
                _finding(rule, "review_due", f"last reviewed {age} days ago (more than {older_than.days})")
            )
        if not rule.confirmed:
            reason = _why_unconfirmed(rule.notes)
            found.append(_finding(rule, "unconfirmed", reason))
        if rule.in_force_until is not None and rule.in_force_until >= today:
            newer = successor.get(rule.id)
            follows = (
                f"; replaced by {newer.id} from {newer.in_force_from}"
                if newer
                else "; no later version in the catalogue"
            )
            found.append(_finding(rule, "amendment", f"in force until {rule.in_force_until}{follows}"))
        if rule.in_force_from is not None and rule.in_force_from > today:
            earlier = f"; replaces {rule.replaces}" if rule.replaces else ""
            found.append(_finding(rule, "amendment", f"in force from {rule.in_force_from}{earlier}"))
    order = {"review_due": 0, "unconfirmed": 1, "amendment": 2}
    return sorted(found, key=lambda f: (order[f.kind], f.jurisdiction, f.rule))


def _why_unconfirmed(notes: str) -> str:
    """The part of the note that says why (notes mark it ``Unconfirmed: ...``), else the whole note."""
    text = " ".join(notes.split())
    marked = _UNCONFIRMED.search(text)
    return (marked.group(1) if marked and marked.group(1) else text) or "no note says why"


def _finding(rule: Rule, kind: FindingKind, detail: str) -> Finding:
    return Finding(rule.id, rule.jurisdiction, kind, rule.reviewed, detail)

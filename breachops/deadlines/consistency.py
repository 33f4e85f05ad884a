"""Facts that contradict one another are accepted (a team records what it learns, in the order it
learns it), with a warning saying which clock each rule then runs from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from breachops.deadlines.models import Facts, Obligation

__all__ = ["clock_warnings"]


def _stamp(t: datetime) -> str:
    # As strftime("%Y-%m-%d %H:%M UTC") for the years an instant may have, in a third of the time.
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d} UTC"


def _users(obligations: Sequence[Obligation], event: str) -> str:
    keys = sorted({o.rule_id for o in obligations if o.clock_event == event})
    return ", ".join(keys) if keys else "none of the obligations found"


def clock_warnings(facts: Facts, obligations: Sequence[Obligation]) -> tuple[str, ...]:
    out = []
    if facts.discovered_at is not None and facts.discovered_at > facts.aware_at:
        out.append(
            f"discovered_at ({_stamp(facts.discovered_at)}) is after aware_at ({_stamp(facts.aware_at)}): "
            "an organisation cannot be aware of a breach before it is discovered; check both. Rules "
            f"counting from discovery use discovered_at: {_users(obligations, 'discovered')}. Rules "
            f"counting from awareness use aware_at: {_users(obligations, 'aware')}."
        )
    if facts.assessed_at is not None and facts.assessed_at < facts.aware_at:
        out.append(
            f"assessed_at ({_stamp(facts.assessed_at)}) is before aware_at ({_stamp(facts.aware_at)}): "
            "a breach is assessed after the organisation becomes aware of it; check both. Rules "
            f"counting from the assessment use assessed_at: {_users(obligations, 'assessed')}. Rules "
            f"counting from awareness use aware_at: {_users(obligations, 'aware')}."
        )
    return tuple(out)

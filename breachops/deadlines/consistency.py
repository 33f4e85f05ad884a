"""Facts that contradict one another are accepted (a team records what it learns, in the order it
learns it), with a warning saying which clock each rule then runs from."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from breachops.deadlines.models import Facts, Obligation
from breachops.timefmt import utc_minute

__all__ = ["clock_warnings"]


def _by_event(obligations: Sequence[Obligation]) -> dict[str, set[str]]:
    # The rules whose obligations count from each clock, in one pass (a warning names two clocks').
    found: dict[str, set[str]] = {}
    for o in obligations:
        rules = found.get(o.clock_event)
        if rules is None:
            found[o.clock_event] = {o.rule_id}
        else:
            rules.add(o.rule_id)
    return found


def _users(by_event: dict[str, set[str]], event: str) -> str:
    keys = by_event.get(event)
    return ", ".join(sorted(keys)) if keys else "none of the obligations found"


def clock_warnings(
    facts: Facts, obligations: Sequence[Obligation], stamp: Callable[[datetime], str] = utc_minute
) -> tuple[str, ...]:
    """Where the facts contradict one another, and which clock each rule then runs from. ``stamp``
    writes an instant (the engine's keeps those its obligations wrote)."""
    aware, discovered, assessed = facts.aware_at, facts.discovered_at, facts.assessed_at
    late = discovered is not None and discovered > aware
    early = assessed is not None and assessed < aware
    if not (late or early):
        return ()
    by_event = _by_event(obligations)
    out = []
    if late:
        out.append(
            f"discovered_at ({stamp(discovered)}) is after "  # type: ignore[arg-type]
            f"aware_at ({stamp(aware)}): "
            "an organisation cannot be aware of a breach before it is discovered; check both. Rules "
            f"counting from discovery use discovered_at: {_users(by_event, 'discovered')}. Rules "
            f"counting from awareness use aware_at: {_users(by_event, 'aware')}."
        )
    if early:
        out.append(
            f"assessed_at ({stamp(assessed)}) is before "  # type: ignore[arg-type]
            f"aware_at ({stamp(aware)}): "
            "a breach is assessed after the organisation becomes aware of it; check both. Rules "
            f"counting from the assessment use assessed_at: {_users(by_event, 'assessed')}. Rules "
            f"counting from awareness use aware_at: {_users(by_event, 'aware')}."
        )
    return tuple(out)

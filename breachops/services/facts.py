"""An incident's facts change: command-line text coerced to facts, checked, recorded, and the
obligations and step due times recomputed, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from breachops.bootstrap import App
from breachops.deadlines.engine import coverage_gaps
from breachops.deadlines.models import parse_facts
from breachops.errors import InputError
from breachops.services.checks import check_fact_instants, check_text
from breachops.services.incidents import recompute, require_open
from breachops.store import Repository
from breachops.store.models import Incident
from breachops.store.obligations import ObligationDiff

__all__ = ["FactsResult", "apply_fact_changes", "change_facts", "parse_assignments"]


@dataclass(frozen=True)
class FactsResult:
    changed: dict[str, Any]
    obligations: ObligationDiff = field(default_factory=ObligationDiff)
    gaps: tuple[str, ...] = ()  # jurisdictions of the facts whose obligations are unknown


def parse_assignments(pairs: list[str], source: str = "--set") -> dict[str, Any]:
    """``field=value`` pairs from the command line. Lists are written ``a,b``; jurisdictions ``DE=120,BR``."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(source, None, pair, "expected field=value", "Example: --set risk=high")
        out[name] = value.strip()
    return out


def _coerce_fact(name: str, value: Any) -> Any:
    """Command-line text into the shape a fact takes; the Facts model does the checking. Counts per
    jurisdiction are ``CODE=COUNT`` (or a code alone, count unknown), nothing looser."""
    if not isinstance(value, str):
        return value
    if value in ("", "null", "none", "-"):
        return None
    if name in ("data_categories", "sectors"):
        return [v.strip() for v in value.split(",") if v.strip()]
    if name == "jurisdictions":
        from breachops.playbooks import parse_jurisdiction_counts

        return parse_jurisdiction_counts(value, strict=True)
    return value


def _merge_jurisdictions(current: Any, given: Any) -> Any:
    """The recorded counts with the given ones put in by code: ``DE=12`` changes Germany's count
    and leaves every other jurisdiction as it was (a count is never dropped by naming another)."""
    if not isinstance(current, list) or not isinstance(given, list):
        return given
    merged = {entry.get("code"): entry for entry in current if isinstance(entry, dict)}
    merged.update({entry["code"]: entry for entry in given})
    return list(merged.values())


def change_facts(
    app: App,
    incident_id: str,
    changes: Mapping[str, Any],
    *,
    source: str,
    actor: str,
    label: str = "--set",
    merge_jurisdictions: bool = False,
) -> FactsResult:
    """Change facts, recompute obligations and step due times, and record every change.

    ``merge_jurisdictions``: given counts update the recorded list by code (``incident facts
    --set``); otherwise the given list replaces it (``--replace``, gate answers, drill injects)."""
    check_text("--by", actor, max_length=254)
    with app.transaction() as session:
        repo = Repository(session)
        incident = repo.get_incident(incident_id)
        require_open(incident)
        return apply_fact_changes(
            app, repo, incident, changes, source=source, actor=actor, label=label, merge=merge_jurisdictions
        )


def apply_fact_changes(
    app: App,
    repo: Repository,
    incident: Incident,
    changes: Mapping[str, Any],
    *,
    source: str,
    actor: str,
    label: str,
    merge: bool = False,
) -> FactsResult:
    coerced = {}
    for name, value in changes.items():
        try:
            coerced[name] = _coerce_fact(name, value)
        except ValueError as exc:
            raise InputError(label, name, value, str(exc)) from None
    if merge and coerced.get("jurisdictions") is not None:
        coerced["jurisdictions"] = _merge_jurisdictions(
            incident.facts.get("jurisdictions"), coerced["jurisdictions"]
        )
    merged = {k: v for k, v in {**incident.facts, **coerced}.items() if v is not None}
    facts = check_fact_instants(parse_facts(merged, label), label)  # refused before anything is written
    canonical = facts.model_dump(mode="json", exclude_none=True)
    normalised = {name: canonical.get(name) for name in coerced}
    changed = repo.record_fact_changes(incident, normalised, source, actor, app.clock.now())
    if not changed:
        return FactsResult(changed={})
    diff = recompute(app, repo, incident, facts, actor)
    return FactsResult(
        changed={k: v.new for k, v in changed.items()},
        obligations=diff,
        gaps=coverage_gaps(facts, app.catalogue),
    )

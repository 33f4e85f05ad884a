"""What a viewer of another party sees of what a party keeps internal: "withheld", in facts, gate
answers and the audit entries that carry them.

Obligations stay shared: they are both parties' duties, so their reasons (which may name counts) are
shown to everyone. A fact kept internal is withheld as a fact, in its history, in the answers that set
it and in the audit trail; a step kept internal has its answer (with its note) withheld.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from breachops.playbooks.models import Playbook
from breachops.store.disclosures import Withheld

__all__ = ["WITHHELD", "answer_for", "event_for", "fact_text"]

WITHHELD = "withheld"


def _label(party: str, names: Mapping[str, str]) -> str:
    return f"{WITHHELD} (internal to {names.get(party, party)})"


def fact_text(name: str, text: str, hidden: Withheld, names: Mapping[str, str]) -> str:
    party = hidden.facts.get(name)
    return text if party is None else _label(party, names)


def _fields_setting_hidden_facts(playbook: Playbook, step_id: str, hidden: Withheld) -> dict[str, str]:
    """The answer fields of a step that set or stamp a fact kept internal, with its party."""
    try:
        gate = playbook.step(step_id).gate
    except KeyError:
        return {}
    found: dict[str, str] = {}
    for field, spec in (getattr(gate, "fields", None) or {}).items():
        for fact in (spec.sets, spec.stamps):
            if fact is not None and fact in hidden.facts:
                found[field] = hidden.facts[fact]
    return found


def answer_for(
    playbook: Playbook,
    step_id: str,
    answer: Mapping[str, Any] | None,
    hidden: Withheld,
    names: Mapping[str, str],
) -> dict[str, Any] | None:
    """A step's answer as this viewer may see it."""
    if answer is None:
        return None
    if step_id in hidden.steps:
        return {WITHHELD: _label(hidden.steps[step_id], names)}
    fields = _fields_setting_hidden_facts(playbook, step_id, hidden)
    return {k: (_label(fields[k], names) if k in fields else v) for k, v in answer.items()}


def event_for(kind: str, payload: Any, playbook: Playbook, hidden: Withheld, names: Mapping[str, str]) -> Any:
    """An audit event's payload as this viewer may see it (the chain's own record is untouched)."""
    if not hidden or not isinstance(payload, dict):
        return payload
    if kind == "fact.changed" and isinstance(payload.get("changes"), dict):
        changes = {
            name: (_label(hidden.facts[name], names) if name in hidden.facts else change)
            for name, change in payload["changes"].items()
        }
        return {**payload, "changes": changes}
    step_id = payload.get("step_id")
    if kind.startswith("step.") and isinstance(step_id, str) and isinstance(payload.get("answer"), dict):
        return {**payload, "answer": answer_for(playbook, step_id, payload["answer"], hidden, names)}
    return payload

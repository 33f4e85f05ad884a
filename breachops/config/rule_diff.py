"""What changed between two sets of rule files: rules added, removed, and changed field by field, and
no-duty records added, removed or changed. ``breachops rules diff OLD NEW`` prints it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from breachops.config.rule_files import load_rule_document
from breachops.config.rule_models import NoDuty, Rule
from breachops.errors import InputError

__all__ = ["FieldChange", "RuleSet", "RulesDiff", "diff_rules", "load_rule_set"]

_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class RuleSet:
    rules: dict[str, Rule]
    no_duty: dict[str, NoDuty]


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str  # a dotted path: window.hours, stages.initial.window.hours, applies_when.affected_at_least
    old: Any
    new: Any


@dataclass(frozen=True)
class RulesDiff:
    added: list[Rule] = field(default_factory=list)
    removed: list[Rule] = field(default_factory=list)
    changed: dict[str, list[FieldChange]] = field(default_factory=dict)
    no_duty_added: list[NoDuty] = field(default_factory=list)
    no_duty_removed: list[NoDuty] = field(default_factory=list)
    no_duty_changed: dict[str, list[FieldChange]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(
            (self.added, self.removed, self.changed, self.no_duty_added, self.no_duty_removed,
             self.no_duty_changed)
        )  # fmt: skip

    def to_json(self, new: RuleSet, old: RuleSet) -> dict[str, Any]:
        def rule(r: Rule) -> dict[str, Any]:
            return {"rule": r.id, "jurisdiction": r.jurisdiction, "title": r.title, "source": r.source}

        def record(n: NoDuty) -> dict[str, Any]:
            return {"jurisdiction": n.jurisdiction, "source": n.source, "reviewed": n.reviewed.isoformat()}

        def changes(items: list[FieldChange]) -> list[dict[str, Any]]:
            return [{"field": c.field, "old": c.old, "new": c.new} for c in items]

        return {
            "added": [rule(r) for r in self.added],
            "removed": [rule(r) for r in self.removed],
            "changed": [
                {"rule": rid, "jurisdiction": new.rules[rid].jurisdiction, "fields": changes(items)}
                for rid, items in self.changed.items()
            ],
            "no_duty_added": [record(n) for n in self.no_duty_added],
            "no_duty_removed": [record(n) for n in self.no_duty_removed],
            "no_duty_changed": [
                {"jurisdiction": code, "fields": changes(items)}
                for code, items in self.no_duty_changed.items()
            ],
        }


def load_rule_set(path: Path, label: str) -> RuleSet:
    """The rules and no-duty records of a rule file, or of every rule file in a folder (in name order;
    a later file's rule with the same id wins, as in the catalogue)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(_SUFFIXES))
        if not files:
            raise InputError(path, None, None, f"{label} folder holds no rule files (*.yaml, *.yml)")
    elif path.is_file():
        files = [path]
    else:
        # The path is part of the problem, so that it is shown whole (a value is cut at 80 characters).
        shown = repr(str(path))
        raise InputError(label, None, str(path), f"{shown} is neither a rule file nor a folder of rule files")
    rules: dict[str, Rule] = {}
    no_duty: dict[str, NoDuty] = {}
    for file in files:
        document = load_rule_document(file)
        rules.update({r.id: r for r in document.rules})
        no_duty.update({n.jurisdiction: n for n in document.no_duty})
    return RuleSet(rules, no_duty)


def diff_rules(old: RuleSet, new: RuleSet) -> RulesDiff:
    changed = {
        rid: found
        for rid in sorted(old.rules.keys() & new.rules.keys())
        if (found := _field_changes(_rule_fields(old.rules[rid]), _rule_fields(new.rules[rid])))
    }
    no_duty_changed = {
        code: found
        for code in sorted(old.no_duty.keys() & new.no_duty.keys())
        if (found := _field_changes(_fields(old.no_duty[code]), _fields(new.no_duty[code])))
    }
    return RulesDiff(
        added=[new.rules[r] for r in sorted(new.rules.keys() - old.rules.keys())],
        removed=[old.rules[r] for r in sorted(old.rules.keys() - new.rules.keys())],
        changed=changed,
        no_duty_added=[new.no_duty[c] for c in sorted(new.no_duty.keys() - old.no_duty.keys())],
        no_duty_removed=[old.no_duty[c] for c in sorted(old.no_duty.keys() - new.no_duty.keys())],
        no_duty_changed=no_duty_changed,
    )


def _fields(entry: Rule | NoDuty) -> dict[str, Any]:
    return _flatten(entry.model_dump(mode="json"))


def _rule_fields(rule: Rule) -> dict[str, Any]:
    """A rule's fields as dotted paths. A one-stage rule reads as it is written (clock, window.hours);
    stages of a staged rule are named (stages.initial.window.hours), so a reordering is no change."""
    data = rule.model_dump(mode="json")
    stages = data.pop("stages")
    flat = _flatten(data)
    if len(stages) == 1 and stages[0]["name"] == "notification":
        flat.update(_flatten({k: v for k, v in stages[0].items() if k != "name"}))
    else:
        flat.update(_flatten({"stages": {s["name"]: s for s in stages}}))
    return flat


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, f"{path}."))
        else:
            out[path] = value
    return out


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    return [
        FieldChange(name, old.get(name), new.get(name))
        for name in sorted({*old, *new})
        if old.get(name) != new.get(name)
    ]

"""Reading the catalogue: the shipped rule files in ``breachops/config/rules/*.yaml``, then a user's own
files (listed in the settings), where a rule of theirs with a shipped rule's id replaces it. Every rule
remembers the file it came from; an error names the file, the rule and the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from breachops.config.catalogue import Catalogue, RuleFile, check_versions
from breachops.config.rule_models import NoDuty, Rule
from breachops.config.yaml import read_yaml
from breachops.errors import InputError, from_validation_error

__all__ = ["load_catalogue", "load_rule_document", "load_rule_file", "shipped_rule_files"]


def shipped_rule_files() -> list[Path]:
    folder = resources.files("breachops.config") / "rules"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def load_rule_file(path: Path, target_hours: Mapping[str, int] | None = None) -> list[Rule]:
    """The rules of one YAML file; errors name the file and field."""
    return load_rule_document(path, target_hours).rules


def load_rule_document(path: Path, target_hours: Mapping[str, int] | None = None) -> RuleFile:
    """Read one rule file: a list of rules, or ``{rules: [...], no_duty: [...]}``."""
    data = read_yaml(path)
    no_duty_data: Any = []
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"rules", "no_duty"})
        if unknown:
            raise InputError(path, unknown[0], None, "unknown key: a rule file holds rules and no_duty")
        no_duty_data = data.get("no_duty") or []
        data = data.get("rules") or []
    if not isinstance(data, list):
        raise InputError(path, None, None, "expected a list of rules (or a mapping with a `rules` list)")
    if not isinstance(no_duty_data, list):
        raise InputError(path, "no_duty", None, "expected a list of {jurisdiction, source, reviewed, notes}")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        if isinstance(item, Mapping) and item.get("id") in (target_hours or {}):
            item = _with_target(item, target_hours[item["id"]])  # type: ignore[index]
        try:
            rule = Rule.model_validate({**item, "origin": str(path)} if isinstance(item, Mapping) else item)
        except ValidationError as exc:
            rule_id = item.get("id") if isinstance(item, Mapping) else None
            prefix: list[int | str] = [f"rules[{index}]" + (f" ({rule_id})" if rule_id else "")]
            raise from_validation_error(exc, path, prefix) from None
        if rule.id in seen:
            raise InputError(path, f"rules[{index}].id", rule.id, "duplicate rule id in this file")
        seen.add(rule.id)
        rules.append(rule)
    return RuleFile(rules, _no_duty(path, no_duty_data))


def _no_duty(path: Path, data: list[Any]) -> list[NoDuty]:
    out: list[NoDuty] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        try:
            entry = NoDuty.model_validate(
                {**item, "origin": str(path)} if isinstance(item, Mapping) else item
            )
        except ValidationError as exc:
            code = item.get("jurisdiction") if isinstance(item, Mapping) else None
            raise from_validation_error(
                exc, path, [f"no_duty[{index}]" + (f" ({code})" if code else "")]
            ) from None
        if entry.jurisdiction in seen:
            raise InputError(
                path, f"no_duty[{index}].jurisdiction", entry.jurisdiction, "recorded twice in this file"
            )
        seen.add(entry.jurisdiction)
        out.append(entry)
    return out


def _with_target(item: Mapping[str, Any], hours: int) -> dict[str, Any]:
    """Apply a workspace's practical target to every open-term window of a rule."""

    def patch(window: Any) -> Any:
        if isinstance(window, Mapping) and window.get("term"):
            return {**window, "target_hours": hours}
        return window

    out = dict(item)
    if "window" in out:
        out["window"] = patch(out["window"])
    if isinstance(out.get("stages"), list):
        out["stages"] = [
            {**s, "window": patch(s.get("window"))} if isinstance(s, Mapping) else s for s in out["stages"]
        ]
    return out


def load_catalogue(
    user_files: Sequence[Path] = (), target_hours: Mapping[str, int] | None = None, shipped: bool = True
) -> Catalogue:
    """The shipped rules, then each user file in order; a later rule with the same id replaces the
    earlier, and a later no-duty record of the same jurisdiction likewise."""
    files: Iterable[Path] = [*(shipped_rule_files() if shipped else []), *user_files]
    by_id: dict[str, Rule] = {}
    no_duty: dict[str, NoDuty] = {}
    for path in files:
        document = load_rule_document(Path(path), target_hours)
        for rule in document.rules:
            by_id[rule.id] = rule
        for entry in document.no_duty:
            no_duty[entry.jurisdiction] = entry
    rules = tuple(sorted(by_id.values(), key=lambda r: (r.jurisdiction, r.id)))
    check_versions(rules)
    # The directory's module reads rule files' YAML through this one: imported here, not above.
    from breachops.config.authorities import shipped_directory

    return Catalogue(
        rules, tuple(sorted(no_duty.values(), key=lambda n: n.jurisdiction)), shipped_directory()
    )

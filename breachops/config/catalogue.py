"""The catalogue: the rules in force for a workspace, by id, with the jurisdictions recorded as having no
general duty, and the check that a rule's versions follow one another without overlap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from breachops.config.jurisdictions import normalise_code
from breachops.config.rule_models import NoDuty, Rule
from breachops.errors import InputError

if TYPE_CHECKING:
    from breachops.config.authorities import Directory

__all__ = ["Catalogue", "RuleFile", "check_versions"]


@dataclass(frozen=True)
class RuleFile:
    """What one rule file holds: rules, and jurisdictions recorded as having no general duty."""

    rules: list[Rule]
    no_duty: list[NoDuty]


@dataclass(frozen=True)
class Catalogue:
    """The rules in force for this workspace, by id, in a stable order, and the no-duty records.
    ``directory``: the national authorities its bloc rules are sent to (read with the catalogue, so
    that the engine, which does no I/O, is handed it)."""

    rules: tuple[Rule, ...]
    no_duty: tuple[NoDuty, ...] = ()
    directory: Directory | None = field(default=None, repr=False, compare=False)
    _by_id: dict[str, Rule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id: r for r in self.rules})

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return self._by_id.get(rule_id)

    def for_jurisdiction(self, code: str) -> list[Rule]:
        """Rules reaching ``code``: a country's rules reach its subdivisions, blocs their members."""
        code = normalise_code(code)
        return [r for r in self.rules if r.reaches(code)]

    @property
    def jurisdictions(self) -> set[str]:
        return {r.jurisdiction for r in self.rules}

    def versions(self, rule: Rule) -> list[Rule]:
        """The chain of versions ``rule`` belongs to, earliest first (``replaces`` links them)."""
        chain = [rule]
        while chain[0].replaces and (earlier := self.get(chain[0].replaces)) and earlier not in chain:
            chain.insert(0, earlier)
        later = {r.replaces: r for r in self.rules if r.replaces}
        while (newer := later.get(chain[-1].id)) is not None and newer not in chain:
            chain.append(newer)
        return chain


def check_versions(rules: Sequence[Rule]) -> None:
    """A newer version names an earlier rule that ends before it begins, so exactly one is in force on
    any day. Errors name the newer rule's file, its ``replaces`` and the value."""
    by_id = {r.id: r for r in rules}
    replaced: dict[str, str] = {}
    for rule in rules:
        if rule.replaces is None:
            continue
        where = (rule.origin or "rules", f"{rule.id}.replaces", rule.replaces)
        earlier = by_id.get(rule.replaces)
        if earlier is None:
            raise InputError(*where, "names no rule of the catalogue")
        if rule.replaces in replaced:
            raise InputError(*where, f"is already replaced by {replaced[rule.replaces]}")
        replaced[rule.replaces] = rule.id
        if rule.in_force_from is None:
            raise InputError(*where, "a newer version needs in_force_from: the day it took effect")
        if earlier.in_force_until is None:
            raise InputError(*where, f"{earlier.id} needs in_force_until: its last day in force")
        if earlier.in_force_until >= rule.in_force_from:
            raise InputError(
                *where,
                f"{earlier.id} is in force until {earlier.in_force_until}, not before "
                f"{rule.id}'s in_force_from {rule.in_force_from}",
            )

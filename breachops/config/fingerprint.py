"""A catalogue's fingerprint: one digest per rule and per no-duty record, and a digest of them all.

Two catalogues with the same fingerprint derive the same obligations from the same facts, so a changed
fingerprint is the signal to re-assess open incidents. The digests say which rules changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from breachops.config.catalogue import Catalogue
from breachops.config.rule_models import NoDuty, Rule

__all__ = ["Fingerprint", "canonical", "fingerprint"]


def canonical(entry: Rule | NoDuty) -> str:
    """The entry's canonical JSON: every field (the file it came from excluded), keys sorted."""
    data: Any = entry.model_dump(mode="json")
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    value: str  # sha256 hex of every digest below
    digests: dict[str, str]  # "rule:<id>" or "no_duty:<code>" -> sha256 hex of its canonical JSON

    def changed_since(self, earlier: dict[str, str]) -> dict[str, str]:
        """What changed from ``earlier`` digests: key -> ``added``, ``removed`` or ``changed``."""
        out: dict[str, str] = {}
        for key in sorted({*earlier, *self.digests}):
            if key not in earlier:
                out[key] = "added"
            elif key not in self.digests:
                out[key] = "removed"
            elif earlier[key] != self.digests[key]:
                out[key] = "changed"
        return out


def fingerprint(catalogue: Catalogue) -> Fingerprint:
    digests = {f"rule:{r.id}": _sha(canonical(r)) for r in catalogue.rules}
    digests.update({f"no_duty:{n.jurisdiction}": _sha(canonical(n)) for n in catalogue.no_duty})
    ordered = dict(sorted(digests.items()))
    return Fingerprint(_sha(json.dumps(ordered, separators=(",", ":"))), ordered)

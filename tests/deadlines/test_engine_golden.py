"""The engine's output for a few thousand seeded random incidents, pinned by digest.

Every field of every obligation and every not-applicable entry is hashed into one digest per rule, and
the gaps and warnings into one digest over all cases. A rule is checked while its own definition (and,
for a rule routed to national authorities, the authority directory) is unchanged; the gaps and warnings
while the whole catalogue is. A change that makes the engine faster must leave every digest as it was.
After a deliberate change of the engine's output, regenerate the expectations with

    PYTHONPATH=. python tests/deadlines/test_engine_golden.py
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from breachops.config.agreements import Agreement, load_agreement
from breachops.config.authorities import regime_of, shipped_directory
from breachops.config.catalogue import Catalogue
from breachops.config.rule_files import load_catalogue
from breachops.config.rule_models import CLOCK_EVENTS, DATA_CATEGORIES, RISK_LEVELS, SECTORS, Rule
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = Path(__file__).with_name("engine_golden.json")
CASES = 4000
# Countries, subdivisions and blocs with and without rules, GB across its EU exit, a few gaps.
_CODES = (
    "EU EEA AE AR AT AU AU-NSW BD BE BR CA CA-AB CA-ON CA-QC CH CL CN CO CZ DE EG ES FR GB HK ID IE IL "
    "IN IS IT JP KE KR KZ LI LT MX MY NG NL NO NZ PE PH PL PT RU SA SE SG TH TR TW UA US US-AK US-AL "
    "US-AR US-AS US-AZ US-CA US-CO US-CT US-DC US-DE US-FL US-GA US-GU US-HI US-IA US-ID US-IL US-IN "
    "US-KS US-KY US-LA US-MA US-MD US-ME US-MI US-MN US-MO US-MS US-MT US-NC US-ND US-NE US-NH US-NJ "
    "US-NM US-NV US-NY US-OH US-OK US-OR US-PA US-PR US-RI US-SC US-SD US-TN US-TX US-UT US-VA US-VI "
    "US-VT US-WA US-WI US-WV US-WY VN ZA"
)
CODES = _CODES.split()


def _facts(rng: random.Random) -> Facts:
    # Awareness from 2018 to 2027: spans GB's exit, the NIS2 transpositions and rule versions.
    aware = datetime(2018, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 10 * 365 * 24 * 60))
    later = {
        f"{event}_at": aware + timedelta(hours=rng.randrange(-48, 24 * 30))
        for event in CLOCK_EVENTS
        if event != "aware" and rng.random() < 0.5
    }
    return Facts.model_validate(
        {
            "aware_at": aware,
            **later,
            "jurisdictions": [
                {
                    "code": code,
                    "affected": rng.choice([None, rng.randrange(0, 1_000), rng.randrange(0, 100_000)]),
                }
                for code in rng.sample(CODES, rng.randint(1, 4))
            ],
            "data_categories": rng.sample(DATA_CATEGORIES, rng.randint(0, 4)),
            "sectors": rng.sample(SECTORS, rng.randint(0, 2)),
            "risk": rng.choice([None, *RISK_LEVELS]),
            "acting_as": rng.choice(["controller", "controller", "processor"]),
        }
    )


def _cases(agreement: Agreement) -> Iterator[tuple[Facts, datetime, Agreement | None, tuple[str, ...]]]:
    rng = random.Random(20261201)
    for _ in range(CASES):
        facts = _facts(rng)
        now = facts.aware_at + timedelta(hours=rng.randrange(0, 24 * 60))
        zones = tuple(
            rng.sample(["Europe/Berlin", "Asia/Tokyo", "America/Chicago", "UTC"], rng.randint(0, 2))
        )
        yield facts, now, (agreement if rng.random() < 0.5 else None), zones


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


def _fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _rule_fingerprint(rule: Rule, directory: str) -> str:
    # The file a rule came from is named by its file name: the checkout's path must not matter.
    return _fingerprint(
        [rule.model_dump(mode="json"), Path(rule.origin).name, directory if regime_of(rule) else ""]
    )


def digests(catalogue: Catalogue, agreement: Agreement) -> dict[str, Any]:
    """Per rule: the fingerprint of its definition and a digest of everything the engine said of it;
    the gaps and warnings of every case in one digest."""
    directory = _fingerprint([a.model_dump(mode="json") for a in shipped_directory().entries])
    per_rule: dict[str, Any] = {}
    overall = hashlib.sha256()
    for facts, now, with_agreement, zones in _cases(agreement):
        result = assess(facts, catalogue, now=now, agreement=with_agreement, zones=zones)
        for o in result.obligations:
            fields = [_text(getattr(o, name)) for name in o.__slots__ if name != "origin"]
            line = "O|" + "|".join([*fields, Path(o.origin).name]) + "\n"
            # An agreement's clauses cite the file it was read from: the checkout's path must not matter.
            per_rule.setdefault(o.rule_id, hashlib.sha256()).update(line.replace(str(ROOT), "").encode())
        for n in result.not_applicable:
            per_rule.setdefault(n.rule_id, hashlib.sha256()).update(
                f"N|{n.rule_id}|{n.jurisdiction}|{n.citation}|{n.reason}\n".encode()
            )
        order = (
            "|".join(o.key for o in result.obligations)
            + "#"
            + "|".join(n.rule_id for n in result.not_applicable)
        )
        overall.update(
            f"{order}\n{result.gaps!r}\n{result.warnings!r}\n{result.computed_at.isoformat()}\n".encode()
        )
    fingerprints = {r.id: _rule_fingerprint(r, directory) for r in catalogue}
    contract = _fingerprint(agreement.model_dump(mode="json"))
    return {
        "catalogue": _fingerprint(sorted(fingerprints.items())),
        "overall": overall.hexdigest()[:32],
        "rules": {
            rule_id: f"{fingerprints.get(rule_id, contract)} {digest.hexdigest()[:16]}"
            for rule_id, digest in sorted(per_rule.items())
        },
    }


def _current() -> dict[str, Any]:
    return digests(load_catalogue(), load_agreement(ROOT / "examples" / "agreement.yaml"))


def test_engine_output_is_unchanged_for_seeded_random_incidents():
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    current = _current()
    checked = [
        rule_id
        for rule_id, pinned in expected["rules"].items()
        if current["rules"].get(rule_id, "").split()[:1] == pinned.split()[:1]
    ]
    # Rules edited since the expectations were written are not compared; most must still be.
    assert len(checked) >= 0.8 * len(expected["rules"]), "the catalogue changed much: regenerate"
    changed = [r for r in checked if current["rules"][r] != expected["rules"][r]]
    assert changed == []
    if current["catalogue"] == expected["catalogue"]:
        assert current["overall"] == expected["overall"]


if __name__ == "__main__":
    EXPECTED.write_text(json.dumps(_current(), indent=0, sort_keys=True) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {EXPECTED}\n")

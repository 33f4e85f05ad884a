"""How fast the deadline engine computes obligations for random incidents.

    .venv/bin/python benchmarks/deadlines.py [--incidents 5000] [--runs 5] [--seed 7]

Runs two catalogues: the whole shipped catalogue, and a synthetic one of 300 rules (the shipped rules
plus copies of them placed in other countries and US states, so that an incident meets as many
candidate rules as a grown catalogue would give it). For each it prints the incidents per second, the
median of several runs, measured in CPU time of this process (one core: the figure does not drop
because another process shares the machine) and in wall time. Facts are built and validated before
the clock starts, the index and coverage are built by a first pass: the figure is the engine's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from breachops.config.agreements import load_agreement
from breachops.config.catalogue import Catalogue
from breachops.config.jurisdictions import all_jurisdictions
from breachops.config.rule_files import load_catalogue
from breachops.config.rule_models import CLOCK_EVENTS, DATA_CATEGORIES, RISK_LEVELS, SECTORS, Rule
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts

TARGET_PER_SECOND = 20_000
SYNTHETIC_RULES = 300


def random_facts(rng: random.Random, codes: list[str]) -> Facts:
    aware = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 4 * 365 * 24 * 60))
    later = {
        f"{event}_at": aware + timedelta(hours=rng.randrange(0, 24 * 30))
        for event in CLOCK_EVENTS
        if event != "aware" and rng.random() < 0.5
    }
    return Facts.model_validate(
        {
            "aware_at": aware,
            **later,
            "jurisdictions": [
                {"code": code, "affected": rng.choice([None, rng.randrange(0, 100_000)])}
                for code in rng.sample(codes, rng.randint(1, 4))
            ],
            "data_categories": rng.sample(DATA_CATEGORIES, rng.randint(0, 4)),
            "sectors": rng.sample(SECTORS, rng.randint(0, 2)),
            "risk": rng.choice([None, *RISK_LEVELS]),
        }
    )


def synthetic_catalogue(shipped: Catalogue, size: int, rng: random.Random) -> Catalogue:
    """The shipped rules plus copies of them in other places, up to ``size`` rules."""
    places = [c for c in all_jurisdictions() if c not in shipped.jurisdictions and c not in ("EU", "EEA")]
    rules: list[Rule] = [r for r in shipped if not r.replaces and r.in_force_until is None]
    originals = [r for r in rules if "-" not in r.jurisdiction and r.jurisdiction not in ("EU", "EEA")]
    index = 0
    while len(rules) < size:
        base = rng.choice(originals)
        rules.append(
            base.model_copy(update={"id": f"synthetic-{index}-{base.id}", "jurisdiction": rng.choice(places)})
        )
        index += 1
    return Catalogue(tuple(rules), shipped.no_duty)


def measure(catalogue: Catalogue, incidents: list[Facts], runs: int) -> dict[str, float]:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    agreement = load_agreement(Path(__file__).resolve().parents[1] / "examples" / "agreement.yaml")
    for facts in incidents:  # builds the index, the coverage and the calendars' caches
        assess(facts, catalogue, now=now, agreement=agreement)
    cpu, wall = [], []
    obligations = 0
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        obligations = sum(
            len(assess(facts, catalogue, now=now, agreement=agreement).obligations) for facts in incidents
        )
        cpu.append(len(incidents) / (time.process_time() - c0))
        wall.append(len(incidents) / (time.perf_counter() - w0))
    return {"cpu": statistics.median(cpu), "wall": statistics.median(wall), "obligations": obligations}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    shipped = load_catalogue()
    for name, catalogue in (
        ("shipped catalogue", shipped),
        ("synthetic catalogue", synthetic_catalogue(shipped, SYNTHETIC_RULES, rng)),
    ):
        codes = sorted(catalogue.jurisdictions | {"DE", "FR", "IT", "ES", "NL", "NO", "US-IL", "US-TX"})
        incidents = [random_facts(rng, codes) for _ in range(args.incidents)]
        result = measure(catalogue, incidents, args.runs)
        print(
            f"{name}: {len(catalogue)} rules over {len(catalogue.jurisdictions)} jurisdictions; "
            f"{args.incidents:,} incidents, {result['obligations'] / args.incidents:.1f} obligations each"
        )
        print(
            f"  {result['cpu']:,.0f} incidents/s of CPU time on one core "
            f"({result['wall']:,.0f}/s wall), median of {args.runs} runs; target >= {TARGET_PER_SECOND:,}: "
            f"{'met' if result['cpu'] >= TARGET_PER_SECOND else 'NOT met'}"
        )


if __name__ == "__main__":
    main()

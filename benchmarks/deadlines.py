"""How fast the deadline engine computes obligations for random incidents against the whole catalogue.

    .venv/bin/python benchmarks/deadlines.py [--incidents 10000] [--seed 7]

Prints the incidents per second (target: at least 5,000 on one core) and the median and p99 time
per incident. Facts are built and validated before the clock starts: the figure is the engine's.
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
from breachops.config.rules import CLOCK_EVENTS, DATA_CATEGORIES, RISK_LEVELS, SECTORS, load_catalogue
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts

TARGET_PER_SECOND = 5_000


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    catalogue = load_catalogue()
    codes = sorted(catalogue.jurisdictions | {"DE", "FR", "IT", "ES", "NL", "US-CA", "US-TX", "US-NY"})
    rng = random.Random(args.seed)
    incidents = [random_facts(rng, codes) for _ in range(args.incidents)]
    now = datetime(2026, 6, 1, tzinfo=UTC)
    agreement = load_agreement(Path(__file__).resolve().parents[1] / "examples" / "agreement.yaml")

    assess(
        incidents[0], catalogue, now=now, agreement=agreement
    )  # build the index and warm the calendars once
    per_incident: list[float] = []
    obligations = 0
    started = time.perf_counter()
    for facts in incidents:
        t0 = time.perf_counter()
        result = assess(facts, catalogue, now=now, agreement=agreement)
        per_incident.append(time.perf_counter() - t0)
        obligations += len(result.obligations)
    elapsed = time.perf_counter() - started

    rate = len(incidents) / elapsed
    per_incident.sort()
    p99 = per_incident[int(len(per_incident) * 0.99) - 1]
    print(f"catalogue: {len(catalogue)} rules over {len(catalogue.jurisdictions)} jurisdictions, plus the")
    print(f"example agreement's {len(agreement.notice_windows)} contractual notice windows")
    print(
        f"incidents: {len(incidents):,} "
        f"({obligations:,} obligations, {obligations / len(incidents):.1f} each)"
    )
    print(f"rate: {rate:,.0f} incidents/s on one core (target >= {TARGET_PER_SECOND:,})")
    print(f"per incident: median {statistics.median(per_incident) * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us")
    print(f"target met: {'yes' if rate >= TARGET_PER_SECOND else 'NO'}")


if __name__ == "__main__":
    main()

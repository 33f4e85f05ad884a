"""The conditions of a rule, asked on their own, give the reasons an obligation states or the reason
a rule does not apply, as the engine does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from breachops.config.jurisdictions import MEMBERSHIP
from breachops.config.rule_files import load_catalogue
from breachops.config.rule_models import DATA_CATEGORIES, RISK_LEVELS, SECTORS
from breachops.config.zones import zone_of
from breachops.deadlines.conditions import Place, conditions
from breachops.deadlines.engine import assess
from breachops.deadlines.models import Facts

CATALOGUE = load_catalogue()
NOW = datetime(2026, 6, 1, tzinfo=UTC)
CODES = sorted(c for c in CATALOGUE.jurisdictions if c not in MEMBERSHIP)


def _facts(rng: random.Random, code: str) -> Facts:
    return Facts.model_validate(
        {
            "aware_at": datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 24 * 300)),
            "jurisdictions": [{"code": code, "affected": rng.choice([None, 0, 40, 600, 90_000])}],
            "data_categories": rng.sample(DATA_CATEGORIES, rng.randint(0, 3)),
            "sectors": rng.sample(SECTORS, rng.randint(0, 2)),
            "risk": rng.choice([None, *RISK_LEVELS]),
            "acting_as": rng.choice(["controller", "processor"]),
        }
    )


def test_a_rules_conditions_give_the_reasons_and_refusals_the_engine_states():
    rng = random.Random(11)
    compared = 0
    for _ in range(300):
        code = rng.choice(CODES)
        facts = _facts(rng, code)
        result = assess(facts, CATALOGUE, now=NOW)
        where = [Place(code, facts.jurisdictions[0].affected, zone_of(code))]
        refusals = {n.rule_id: n.reason for n in result.not_applicable}
        stated = {o.rule_id: o.reason for o in result.obligations}
        for rule in CATALOGUE:
            if rule.jurisdiction != code or rule.id not in refusals.keys() | stated.keys():
                continue
            verdict = conditions(rule, facts, where)
            if isinstance(verdict, str):
                assert refusals.get(rule.id) == verdict, (rule.id, verdict)
            elif rule.id in stated:
                head = f"{rule.citation}: " + "".join(reason + "; " for reason in verdict)
                assert stated[rule.id].startswith(head), (rule.id, verdict, stated[rule.id])
            else:  # met, but not in force on the clock's day
                assert refusals[rule.id].startswith("not in force on "), (rule.id, refusals[rule.id])
            compared += 1
    assert compared > 300

"""What was (or is to be) shared with which authority: told to the counterparty in its notice.

The counterparty owns the confidential information; the agreement lets it protect its rights only if
it knows what left the receiving party's hands. So its notice lists each notice owed to an authority
or to the people affected (sent, with when; or still due) and what such a notice carries (personal data,
never the counterparty's trade secrets or code), and each compelled disclosure recorded in a
``record-disclosure`` step (the compelled-disclosure playbook).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from breachops.config.rule_models import PERSONAL_CATEGORIES
from breachops.store.models import ObligationRow, StepRow
from breachops.timefmt import stored_instant

__all__ = ["AUTHORITY_AUDIENCES", "shared_with_authorities"]

AUTHORITY_AUDIENCES = ("regulator", "securities_regulator", "csirt", "individuals")
_RECORD_STEP = "record-disclosure"


def shared_with_authorities(
    obligations: Iterable[ObligationRow], steps: Iterable[StepRow], facts: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One line per notice to an authority or the people affected, and per compelled disclosure."""
    personal = [c for c in facts.get("data_categories", []) if c in PERSONAL_CATEGORIES]
    counts = [j.get("affected") for j in facts.get("jurisdictions", []) if isinstance(j, Mapping)]
    total = sum(c for c in counts if isinstance(c, int))
    carries = (
        f"personal data ({', '.join(personal)})" + (f" of about {total:,} people" if total else "")
        if personal
        else "no personal data known yet"
    ) + "; no Confidential Information beyond what the law requires"
    lines: list[dict[str, Any]] = []
    for row in obligations:
        if row.audience not in AUTHORITY_AUDIENCES or row.status in ("withdrawn", "waived"):
            continue
        lines.append(
            {
                "recipient": row.recipient,
                "citation": row.citation,
                "sent": row.status == "met",
                "at": row.met_at if row.status == "met" else row.due,
                "shared": carries,
            }
        )
    for step in steps:
        if step.step_id == _RECORD_STEP and step.status == "done" and step.answer:
            answer = step.answer
            lines.append(
                {
                    "recipient": str(answer.get("recipient") or "an authority (recipient not recorded)"),
                    "citation": "compelled disclosure",
                    "sent": True,
                    "at": stored_instant(answer.get("disclosed_at")) or step.completed_at,
                    "shared": "what the production log lists"
                    + (f": {answer['production_log']}" if answer.get("production_log") else ""),
                }
            )
    return lines

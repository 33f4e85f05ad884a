"""`obligation met|waive`: a duty the playbook does not close itself (a staged report's later stage,
a notice sent outside the playbook) is closed by a person; a waiver keeps its reason; only the
agreement's contacts may record either, and a refusal changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import test_hostile_input as hostile
from tests.cli.test_hostile_input import FACTS, assert_refused, open_incident, run_cli

workspace = hostile.sqlite_workspace  # a fresh workspace made by `breachops init`


def _obligations(incident: str) -> dict[str, str]:
    code, out, err = run_cli("incident", "show", incident, "--format", "json")
    assert code == 0, err
    return {o["key"]: o["status"] for o in json.loads(out)["obligations"]}


def test_a_contact_marks_one_obligation_met_and_waives_another_with_its_reason(workspace: Path) -> None:
    assert Path(FACTS).exists()
    incident = open_incident()
    keys = [k for k, status in _obligations(incident).items() if status in ("pending", "overdue", "awaiting")]
    first, second = keys[0], keys[1]
    lead = "rafael.costa@horizonte.example"
    code, out, err = run_cli("obligation", "met", incident.lower(), first, "--by", lead, "--format", "json")
    assert code == 0, err
    assert json.loads(out) == {"incident": incident, "obligation": first, "status": "met", "by": lead}
    assert_refused(run_cli("obligation", "waive", incident, second, "--by", lead), "needs a reason")
    code, _, err = run_cli(
        "obligation", "waive", incident, second, "--by", lead, "--reason", "counsel: no risk"
    )
    assert code == 0, err
    statuses = _obligations(incident)
    assert statuses[first] == "met" and statuses[second] == "waived"
    code, out, _ = run_cli("audit", "verify", incident, "--format", "json")
    assert code == 0


def test_someone_outside_the_agreement_or_an_unknown_obligation_is_refused(workspace: Path) -> None:
    incident = open_incident()
    key = next(iter(_obligations(incident)))
    before = _obligations(incident)
    assert_refused(
        run_cli("obligation", "met", incident, key, "--by", "mallory@elsewhere.example"), "not a contact"
    )
    assert_refused(
        run_cli(
            "obligation",
            "met",
            incident,
            "no-such-rule/notification",
            "--by",
            "rafael.costa@horizonte.example",
        ),
        "has no obligation",
    )
    assert _obligations(incident) == before

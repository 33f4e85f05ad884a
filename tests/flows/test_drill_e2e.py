"""Drills end to end: `breachops drill run` starts a real Prefect flow run served by `breachops serve`,
the injects land in the outbox as [DRILL] mail to participants only, and the report is written."""

from __future__ import annotations

import email
import email.policy
import email.utils
import time
from pathlib import Path

import pytest

from breachops.config.agreements import load_agreement
from breachops.playbooks.loader import load_scenario

from .conftest import EXAMPLES

pytestmark = pytest.mark.prefect


def drill_mail(served, drill_id: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((served.path / "outbox").rglob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if str(message["X-Breachops-Incident"]) == drill_id:
            found.append(message)  # type: ignore[arg-type]
    return found


def test_a_compressed_simulated_drill_runs_to_its_report_on_the_served_flow(served):
    result = served.json(
        "drill", "run", "subcontractor-source-leak", "--compress", "20s", "--simulate",
        "--agreement", str(EXAMPLES / "agreement.yaml"),
    )  # fmt: skip
    drill_id = result["drill"]
    assert result["status"] == "completed"
    assert result["flow_run_id"]
    # Each inject went out within seconds of its time (the flow run's start-up is the usual delay), but
    # the contingency inject: the simulated participants froze access before its time.
    skipped = {i["inject"]: i["skipped"] for i in result["injects"] if i["skipped"]}
    assert skipped == {"repo-still-growing": "freeze-access was done at the inject's time"}
    delivered = [i for i in result["injects"] if not i["skipped"]]
    assert all(i["delivered"] and 0 <= i["late_seconds"] < 10 for i in delivered), result["injects"]
    assert Path(result["report_html"]).is_file() and Path(result["report_md"]).is_file()
    summary = result["score"]["summary"]
    assert summary["steps_on_time"] + summary["steps_late"] + summary["steps_skipped"] > 0

    scenario = load_scenario("subcontractor-source-leak")
    agreement = load_agreement(EXAMPLES / "agreement.yaml")
    participants = {
        agreement.parties[p.party].contacts[p.role].email.lower()
        for p in scenario.participants
        if p.role in agreement.parties[p.party].contacts
    }
    mail = drill_mail(served, drill_id)
    assert {str(m["X-Breachops-Kind"]) for m in mail} >= {"drill_inject"}
    assert all(str(m["Subject"]).startswith("[DRILL]") for m in mail)
    to = {email.utils.parseaddr(str(m["To"]))[1].lower() for m in mail}
    assert to <= participants

    # The drill is kept apart from real incidents, and listed with its report.
    incidents = served.json("incident", "list")
    assert drill_id not in {i["id"] for i in incidents}
    listed = served.json("drill", "list")
    assert any(d["drill"] == drill_id and d["report_html"] for d in listed["drills"])
    assert {s["id"] for s in listed["scenarios"]} >= {"subcontractor-source-leak", "authority-access-demand"}


def test_a_facilitated_drill_waits_for_the_facilitator(served):
    started = served.json(
        "drill", "run", "insider-roadmap-exfiltration", "--facilitated", "--detach",
        "--agreement", str(EXAMPLES / "agreement.yaml"),
    )  # fmt: skip
    drill_id = started["drill"]
    assert started["status"] == "running"
    shown = served.json("drill", "show", drill_id)
    assert shown["scenario_time"] == "T+00:00"
    served.cli("drill", "advance", drill_id, "--for", "3h")
    shown = served.json("drill", "show", drill_id)
    assert shown["scenario_time"] == "T+03:00"
    report = served.json("drill", "report", drill_id)
    assert Path(report["report_html"]).is_file()
    bad = served.cli("drill", "advance", drill_id, "--for", "soon", check=False)
    assert bad.returncode == 2 and "--for" in bad.stderr
    # Advanced past its end, the drill finishes on its own: scored, reported, its record closed.
    served.cli("drill", "advance", drill_id, "--for", "3d")
    deadline = time.monotonic() + 60
    while served.json("drill", "show", drill_id)["status"] == "running":
        assert time.monotonic() < deadline, "the drill did not finish after being advanced past its end"
        time.sleep(0.5)
    shown = served.json("drill", "show", drill_id)
    assert shown["status"] == "completed" and Path(shown["report_md"]).is_file()
    assert all(i["delivered"] for i in shown["injects"])

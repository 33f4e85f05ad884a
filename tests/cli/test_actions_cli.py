"""`breachops actions`: the register from a user's point of view, its output and exit statuses."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli import test_hostile_input as hostile
from tests.cli.test_hostile_input import assert_refused, run_cli

workspace = hostile.sqlite_workspace


def _finished_drill(path: Path) -> str:
    from breachops.bootstrap import bootstrap
    from breachops.services.drill_reports import build_report
    from breachops.services.drills import close_drill

    drill_id = hostile.start_drill(path)
    app = bootstrap()
    close_drill(app, drill_id, build_report(app, drill_id))
    return drill_id


def test_list_update_close_and_export_the_register(workspace: Path) -> None:
    drill_id = _finished_drill(workspace)
    code, out, err = run_cli("actions", "list", "--format", "json")
    assert code == 0, err
    actions = json.loads(out)
    assert actions and {a["raised_in"] for a in actions} == {drill_id}
    first = actions[0]["id"]

    code, out, err = run_cli("actions", "list")
    assert code == 0 and f"{len(actions)} corrective action(s)" in out

    assert_refused(run_cli("actions", "close", str(first), "--by", "jana.weber@nordlicht.example",
                           "--evidence", ""), "--evidence")  # fmt: skip
    assert_refused(run_cli("actions", "update", "9999", "--by", "x@example.org", "--status", "done"), "9999")
    assert_refused(run_cli("actions", "update", str(first), "--by", "jana.weber@nordlicht.example",
                           "--due", "next friday"), "--due")  # fmt: skip

    code, out, err = run_cli(
        "actions", "close", str(first), "--by", "jana.weber@nordlicht.example",
        "--evidence", "https://wiki.example/runbook", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["status"] == "done"

    code, out, err = run_cli("actions", "export")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(actions)
    closed = next(r for r in rows if r["Status"] == "done")
    assert closed["Evidence"] == "https://wiki.example/runbook" and closed["Completion Date"]

    target = workspace / "plan.md"
    code, out, err = run_cli("actions", "export", "--format", "markdown", "--output", str(target))
    assert code == 0 and "wrote" in out
    assert target.read_text().startswith("| Capability | Issue/Area for Improvement |")

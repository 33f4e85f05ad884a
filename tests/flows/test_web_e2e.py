"""The console inside `breachops serve`: the link in a step_assigned message opens the step's page, and
the answer given there is `step done`: the flow takes it and goes on."""

from __future__ import annotations

import json
import re
import sqlite3
import time

import httpx
import pytest

from .conftest import suspended_with_waiting, waiting
from .test_incident_e2e import open_incident

pytestmark = pytest.mark.prefect

SECURITY_BR = "tiago.rocha@horizonte.example"


def test_a_step_answered_on_the_console_from_its_mail_wakes_the_flow(served):
    incident = open_incident(served, "Answered on the console")
    served.wait_for(incident, suspended_with_waiting, what="the first gate")
    console = json.loads((served.path / "web.json").read_text())["url"]
    with sqlite3.connect(served.path / "breachops.db") as db:
        body = db.execute(
            "SELECT body_text FROM messages WHERE incident_id = ? AND kind = 'step_assigned' "
            "AND subject LIKE '%Freeze%' AND recipients LIKE ?",
            (incident, f"%{SECURITY_BR}%"),
        ).fetchone()[0]
    link = re.search(rf"{re.escape(console)}/act/\S+", body)
    assert link, body

    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        page = browser.get(link.group())
        assert page.url.path == f"/incidents/{incident}/steps/freeze-access"
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        done = browser.post(
            str(page.url), data={"csrf": csrf, "f_confirmed": "yes", "f_note": "made private"}
        )
        assert done.status_code == 200 and f"Done by {SECURITY_BR}" in done.text

    shown = served.wait_for(
        incident,
        lambda s: suspended_with_waiting(s) and all(w["step"] != "freeze-access" for w in waiting(s)),
        what="the flow to take the console's answer",
    )
    freeze = next(s for s in shown["steps"] if s["step"] == "freeze-access")
    assert freeze["status"] == "done"
    # The console woke the suspended run itself, as `step done` does (else serve's nudge would have).
    log = served.path / "serve-test.log"
    woke = (f"flow run {shown['flow_run_id']}: the playbook goes on", f"waking {incident}")
    deadline = time.monotonic() + 30
    while not any(line in log.read_text() for line in woke):
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.3)
    assert served.cli("audit", "verify", incident).returncode == 0

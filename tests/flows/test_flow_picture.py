"""What the Prefect artifacts of an incident say, built from the store without Prefect."""

from __future__ import annotations

import re
from datetime import timedelta

from breachops.reports.flow_picture import artifact_key, obligations_markdown, steps_table
from breachops.services.incidents import agreement_of
from breachops.store import Repository
from tests.web.conftest import app, open_example  # noqa: F401 - the fixture, for this module


def test_the_steps_table_names_owners_status_and_due_times_in_utc_and_each_owners_zone(app):  # noqa: F811
    incident = open_example(app)
    with app.transaction() as session:
        repo = Repository(session)
        row = repo.get_incident(incident)
        table = steps_table(repo.steps(incident), agreement_of(app, row))
    freeze = next(r for r in table if r["step"] == "freeze-access")
    # The playbook: freeze-access is due 2 h after opening (opened 2026-11-24 20:00 UTC, so 22:00 UTC,
    # 19:00 in São Paulo) and is the licensee's security role, Tiago Rocha.
    assert freeze["status"] == "pending" and freeze["phase"] == "containment"
    assert "Tiago Rocha <tiago.rocha@horizonte.example>" in freeze["owner"]
    assert freeze["due (UTC)"].startswith("2026-11-24T22:00")
    assert freeze["due (local)"] == "Tue 24 Nov 19:00 -03 Sao Paulo"
    assert artifact_key(incident, "steps") == f"{incident.lower()}-steps"


def test_the_obligations_summary_counts_down_and_keeps_a_title_inert(app):  # noqa: F811
    incident = open_example(app, title="Leak <script>alert(1)</script> [click](http://evil.example)")
    with app.transaction() as session:
        repo = Repository(session)
        row = repo.get_incident(incident)
        text = obligations_markdown(
            row,
            repo.obligations(incident),
            agreement_of(app, row),
            app.clock.now() + timedelta(hours=1),
            "http://console.example/incidents/" + incident,
        )
    assert text.count("\n| ") >= 5 and "Console: http://console.example/incidents/" in text
    # No HTML or link a title could smuggle in: their brackets are escaped, so Markdown shows them as text.
    assert "<script>" not in text and "\\<script\\>" in text and "\\[click\\](http" in text
    assert "Licensee notifies the licensor of a suspected leak" in text
    # Due 2026-11-25 03:40 UTC (the subcontractor's 24 h from discovery); now 21:00 UTC: 6 h 40 min left.
    assert re.search(r"\| Subcontractor notifies the licensee \|.*\| in 6h ?40m", text), text

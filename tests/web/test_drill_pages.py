"""The console's drill pages and the coverage page: what a contact of a drill's agreement sees, and
that nobody else sees it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from breachops.config.agreements import load_agreement, parse_agreement
from breachops.config.coverage import Coverage
from breachops.playbooks.loader import load_scenario
from breachops.services.drill_reports import build_report
from breachops.services.drills import close_drill, start_drill
from tests.web.conftest import DPO_DE, ROOT, sign_in


def _start(app, agreement) -> str:
    return start_drill(
        app, load_scenario("subcontractor-source-leak"), agreement, speed=1.0, mode="real", simulate=False,
        actor="jana.weber@nordlicht.example",
    )  # fmt: skip


def _other_parties_agreement():
    """The example agreement between two other companies: none of its people are the example's."""
    data = load_agreement(ROOT / "examples" / "agreement.yaml").model_dump(mode="json", by_alias=True)
    text = (
        json.dumps(data)
        .replace("nordlicht.example", "elsewhere.example")
        .replace("horizonte.example", "faraway.example")
    )
    return parse_agreement(json.loads(text.replace("ganga", "remote")), "other")


def test_a_contact_sees_the_drills_of_their_agreements_with_the_scenario_clock_and_report(app, client):
    ours = _start(app, load_agreement(ROOT / "examples" / "agreement.yaml"))
    theirs = _start(app, _other_parties_agreement())
    app.clock.advance(timedelta(hours=1, minutes=30))
    sign_in(client, app, DPO_DE)

    listing = client.get("/drills").text
    assert ours in listing and theirs not in listing
    assert "T+01:30" in listing and "running" in listing
    page = client.get(f"/drills/{ours}")
    assert page.status_code == 200 and "DRILL" in page.text and "Injects" in page.text
    assert "subcontractor-source-leak" in page.text
    assert client.get(f"/drills/{theirs}").status_code == 404  # the same answer as for no such drill
    assert client.get(f"/drills/{theirs}/report").status_code == 404
    assert client.get("/drills/DRL-2099-0001").status_code == 404

    assert client.get(f"/drills/{ours}/report").status_code == 404  # no report before the drill ends
    outcome = build_report(app, ours)
    close_drill(app, ours, outcome)
    report = client.get(f"/drills/{ours}/report")
    assert report.status_code == 200
    assert report.text == Path(outcome.html_path).read_text(encoding="utf-8")
    assert f'href="/drills/{ours}/report"' in client.get("/drills").text


def test_the_coverage_page_names_every_gap_and_needs_a_sign_in(app, client):
    assert client.get("/coverage", follow_redirects=False).status_code == 303
    _start(app, load_agreement(ROOT / "examples" / "agreement.yaml"))  # makes DPO_DE a known person
    sign_in(client, app, DPO_DE)
    page = client.get("/coverage").text
    assert "Rules coverage" in page and "US-CA" in page and "covered" in page
    rows = Coverage(app.catalogue).table(app.clock.now().date())
    gaps = [r.jurisdiction for r in rows if r.status == "gap"]
    assert f"<strong>{len(gaps)} gaps</strong>" in page
    assert all(f'<tr class="overdue"><th scope="row">{code}</th>' in page for code in gaps)

"""The after-action report: every section present with times in UTC and the participants' zones, text
from scenarios and answers escaped in HTML, SVG and Markdown, and a chart that is well-formed SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from breachops.deadlines.drill_record import AnswerRecord
from breachops.deadlines.improvement_plan import CorrectiveAction
from breachops.deadlines.scoring import score_drill
from breachops.playbooks.loader import load_scenario
from breachops.reports.after_action import AfterActionReport, render_html, render_markdown, write_report
from breachops.reports.obligation_chart import obligation_chart_svg, obligation_chart_text
from tests.drills.samples import ANSWERS, END, OBLIGATIONS, T0, at, record, sample_report

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script>"


def report(**changes: object) -> AfterActionReport:
    made = sample_report(**changes)
    assert isinstance(made, AfterActionReport)
    return made


def svg_of(page: str) -> ET.Element:
    found = re.search(r"<svg\b.*?</svg>", page, re.S)
    assert found, "no inline SVG in the page"
    return ET.fromstring(found.group(0))


def hostile_report() -> AfterActionReport:
    answers = (
        *ANSWERS,
        AnswerRecord(
            at(6), "scope-disclosure", "receiving", "security", "Tiago Rocha", {"recipients": HOSTILE}
        ),
    )
    obligations = (replace(OBLIGATIONS[0], title=f"Notify {HOSTILE} & co"), *OBLIGATIONS[1:])
    return report(
        narrative=f"The leak {HOSTILE} spread.",
        scenario_title="Leak <b>bold</b> | pipe",
        record=record(answers=answers, obligations=obligations),
    )


# ---- escaping ------------------------------------------------------------------------------------


def test_html_escapes_scenario_and_answer_text() -> None:
    page = render_html(hostile_report())
    assert "<script" not in page
    assert (
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
        or "&lt;script&gt;alert(&#x27;x&#x27;)" in page
    )
    assert "<b>bold</b>" not in page
    assert "Leak &lt;b&gt;bold&lt;/b&gt; | pipe" in page


def test_svg_escapes_obligation_titles_and_stays_well_formed() -> None:
    svg = obligation_chart_svg(hostile_report())
    assert "<script" not in svg
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert any(t and f"Notify {HOSTILE} & co" in t for t in titles)


def test_markdown_escapes_html_and_table_pipes() -> None:
    text = render_markdown(hostile_report())
    assert "<script" not in text
    assert "&lt;script&gt;" in text
    assert "| Scenario | Leak &lt;b&gt;bold&lt;/b&gt; \\| pipe (subcontractor-source-leak@1) |" in text


def test_a_backtick_cannot_close_the_chart_block() -> None:
    obligations = (replace(OBLIGATIONS[0], key="odd```key"), *OBLIGATIONS[1:])
    chart = obligation_chart_text(report(record=record(obligations=obligations)))
    assert "`" not in chart


# ---- contents ------------------------------------------------------------------------------------


def test_html_holds_every_section() -> None:
    page = render_html(report())
    for expected in (
        "After-action report: Licensed source code leaked by a subcontractor",
        "DRILL-2026-0003",
        "subcontractor-source-leak@1",
        "confidential-information-leak",
        "live / 12× (1 h of scenario time in 5 min)",
        "Jana Weber",
        "rafael.costa@horizonte.example",
        "America/Sao_Paulo",
        "Licensed source code found in a public repository",
        "legal_hold: yes",
        "Tiago Rocha (security (receiving))",
        "Time to acknowledge",
        "Scores per party and role",
        "Notify the supervisory authority (DE, GDPR Art. 33(1)) would have been missed",
        "Improvement plan",
        "2026-04-04 09:00 UTC",
    ):
        assert expected in page, expected


def test_times_show_scenario_clock_utc_and_local_zones() -> None:
    page = render_html(report())
    assert "T+05:00" in page
    assert "2026-03-02 14:00 UTC" in page
    assert "2026-03-02 15:00 CET (Europe/Berlin)" in page
    assert "2026-03-02 11:00 -03 (America/Sao_Paulo)" in page
    # lessons-learned is due after the clocks change in Berlin
    assert "2026-04-01 11:00 CEST (Europe/Berlin)" in page


def test_timeline_is_in_time_order_with_injects_before_answers_at_the_same_instant() -> None:
    text = render_markdown(report())
    section = text.split("## Timeline of injects and answers")[1].split("## Obligations")[0]
    rows = [line for line in section.splitlines() if line.startswith("| T+")]
    assert [row.split(" · ")[0] for row in rows] == [
        "| T+00:00", "| T+01:00", "| T+02:00", "| T+03:00", "| T+05:00", "| T+20:00", "| T+20:00",
    ]  # fmt: skip
    assert "| inject |" in rows[5] and "| answer |" in rows[6]


def test_the_chart_has_one_bar_per_obligation_with_a_due_time() -> None:
    root = svg_of(render_html(report()))
    groups = [g for g in root.iter(f"{SVG}g") if "obligation" in (g.get("class") or "")]
    assert [g.get("data-key") for g in groups] == [
        "tta-receiving-to-disclosing/initial",
        "gdpr-art-33/initial",
        "lgpd-art-48/initial",
        "ccpa-1798-82/initial",
    ]
    assert [g.get("class") for g in groups] == [
        "obligation met",
        "obligation missed",
        "obligation open",
        "obligation waived",
    ]
    met = groups[0].find(f"{SVG}circle")
    assert met is not None  # only the met obligation has a dot
    assert all(g.find(f"{SVG}circle") is None for g in groups[1:])
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "drill ends T+72:00" in texts and "met +18 h" in texts


def test_markdown_has_the_text_chart_and_the_plan() -> None:
    text = render_markdown(report())
    assert "```text" in text
    chart = obligation_chart_text(report())
    assert chart in text
    lines = chart.splitlines()
    gdpr = next(line for line in lines if "gdpr-art-33/initial" in line)
    assert "due T+72:00, missed 0 min" in gdpr
    counterparty = next(line for line in lines if "tta-receiving-to-disclosing" in line)
    assert counterparty.index("●") < counterparty.index("|", counterparty.index("="))
    assert "| Action | Owner | Due | Status | Carried over |" in text
    assert "| dpo (both parties) | 2026-04-04 09:00 UTC | open | no |" in text


def test_carried_over_actions_are_marked_with_their_drill() -> None:
    previous = CorrectiveAction(
        "Fix freezing", "receiving", "security", T0 - timedelta(days=3), "late_step:step:freeze-access",
        "step:freeze-access", raised_in="DRILL-2026-0001",
    )  # fmt: skip
    made = report(score=score_drill(record(), [previous]))
    text = render_markdown(made)
    assert (
        "| Fix freezing | security (receiving) | 2026-02-27 09:00 UTC | closed | yes, from DRILL-2026-0001 |"
        in text
    )


def test_an_empty_drill_still_renders() -> None:
    empty = record(injects=(), steps=(), obligations=(), answers=())
    made = report(record=empty, score=score_drill(empty), participants=(), objectives=())
    page = render_html(made)
    root = svg_of(page)
    assert "No obligation had a due time." in " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "Nothing happened during the drill." in page
    assert "No participants recorded." in page
    text = render_markdown(made)
    assert "The drill's facts created no obligations." in text
    assert "nobody answered during the drill" in text


def test_interim_and_facilitated_drills_say_so() -> None:
    made = report(interim=True, speed=0.0)
    page = render_html(made)
    assert "Interim after-action report" in page
    assert "INTERIM" in page
    assert "facilitated" in render_markdown(made)


def test_the_page_is_self_contained() -> None:
    page = render_html(report())
    assert "<link" not in page and "src=" not in page and "@import" not in page and "url(" not in page
    assert "<style>" in page and "@media print" in page
    assert "default-src 'none'" in page


# ---- writing and building ------------------------------------------------------------------------


def test_write_report_writes_both_files_named_after_the_drill(tmp_path: Path) -> None:
    html_path, md_path = write_report(report(), tmp_path / "drills" / "DRILL-2026-0003")
    assert html_path.name == "DRILL-2026-0003-after-action.html"
    assert md_path.name == "DRILL-2026-0003-after-action.md"
    assert html_path.read_text(encoding="utf-8") == render_html(report())
    assert md_path.read_text(encoding="utf-8") == render_markdown(report())


def test_a_drill_id_cannot_escape_the_directory(tmp_path: Path) -> None:
    html_path, _ = write_report(report(record=record(drill_id="../../etc/x")), tmp_path)
    assert html_path.parent == tmp_path


def test_built_from_a_stored_drill() -> None:
    scenario = load_scenario("subcontractor-source-leak")
    drill = SimpleNamespace(
        mode="compressed",
        speed=60.0,
        simulate=True,
        participants=[
            {"party": "receiving", "role": "incident_lead", "name": "Rafael Costa", "email": "r@h.example",
             "timezone": "America/Sao_Paulo", "stands_in_for": "comms"},
        ],
    )  # fmt: skip
    made = AfterActionReport.for_drill(
        scenario=scenario, drill=drill, record=record(), score=score_drill(record()), generated_at=END
    )
    assert made.scenario_title == scenario.title
    assert (made.participants[0].role, made.participants[0].acting_role) == ("incident_lead", "comms")
    page = render_html(made)
    assert "comms (covered by the incident lead)" in page
    assert "compressed, simulated participants / 60×" in page
    assert "a public repository on a code-hosting site" in page


def test_the_report_names_the_jurisdictions_without_rules() -> None:
    """A drill whose facts reach a place the catalogue knows nothing of says so beside its obligations."""
    gap = "no rules known for US-IL: obligations there are unknown"
    assert gap in render_markdown(report(gaps=("US-IL",)))
    assert gap in render_html(report(gaps=("US-IL",)))
    assert "Jurisdictions without rules" not in render_markdown(report())

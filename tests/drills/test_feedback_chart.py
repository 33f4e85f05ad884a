"""The feedback trend in the after-action report: for each rating, one point per drill of the scenario in
order (earlier drills, then this one), placed by its value on the 1 to 5 scale, with a title, a
description and the table saying the same numbers; nothing drawn when nothing was rated; text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

from breachops.deadlines.discussion import FeedbackSummary
from breachops.reports.after_action import AfterActionReport, render_html, render_markdown
from breachops.reports.feedback_chart import RATINGS, feedback_chart_svg, feedback_trend, y_of
from breachops.services.drill_feedback import QUESTIONS, record_feedback
from breachops.services.drill_reports import build_report
from breachops.services.drills import stop_drill
from tests.drills.running import FACILITATOR, start
from tests.drills.samples import sample_report

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert('x')</script>"
TREND = (
    FeedbackSummary("DRL-2026-0001", 3, 11, {"useful": 3.5, "realistic": 5.0, "ready": 2.0}, ()),
    FeedbackSummary("DRL-2026-0004", 2, 11, {"useful": 4.0, "ready": 3.0}, ()),
    FeedbackSummary("DRL-2026-0009", 4, 11, {"useful": 4.25, "realistic": 1.0, "ready": 5.0}, ()),
)


def report(feedback: tuple[FeedbackSummary, ...], **changes: object) -> AfterActionReport:
    made = sample_report(feedback=feedback, **changes)
    assert isinstance(made, AfterActionReport)
    return made


def feedback_svg(page: str) -> ET.Element | None:
    found = re.search(r"<svg\b[^>]*feedback-chart.*?</svg>", page, re.S)
    return ET.fromstring(found.group(0)) if found else None


def points(svg: ET.Element) -> dict[str, list[tuple[str, float, float]]]:
    """Per rating, its points in document order: (drill, value, the point's y on the chart)."""
    out: dict[str, list[tuple[str, float, float]]] = {}
    for element in svg.iter():
        if element.get("class") != "point":
            continue
        if element.tag == f"{SVG}circle":
            y = float(element.get("cy", "nan"))
        elif element.tag == f"{SVG}rect":
            y = float(element.get("y", "nan")) + float(element.get("height", "nan")) / 2
        else:  # a triangle: its apex is 6 above the point, its base 4 below
            y = float(element.get("points", "").split()[0].split(",")[1]) + 6
        out.setdefault(element.get("data-rating", ""), []).append(
            (element.get("data-drill", ""), float(element.get("data-value", "nan")), y)
        )
    return out


def gridlines(svg: ET.Element) -> dict[str, float]:
    """The scale's labels (1 to 5) and the y of their lines."""
    labels = [t for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    return {str(t.text): float(t.get("y", "nan")) - 4 for t in labels}


def test_the_chart_has_one_point_per_drill_per_rating_in_order_placed_by_value():
    assert tuple(QUESTIONS) == RATINGS  # the survey's ratings, in its order
    trend = feedback_trend(TREND)
    assert trend is not None
    assert [line.rating for line in trend.lines] == ["useful", "realistic", "ready"]
    by_rating = {line.rating: [(p.drill_id, p.value) for p in line.points] for line in trend.lines}
    assert by_rating == {
        "useful": [("DRL-2026-0001", 3.5), ("DRL-2026-0004", 4.0), ("DRL-2026-0009", 4.25)],
        "realistic": [("DRL-2026-0001", 5.0), ("DRL-2026-0009", 1.0)],  # nobody rated it in 0004
        "ready": [("DRL-2026-0001", 2.0), ("DRL-2026-0004", 3.0), ("DRL-2026-0009", 5.0)],
    }
    assert list(trend.xs) == sorted(trend.xs) and len(set(trend.xs)) == 3  # earlier drills to the left
    for line in trend.lines:  # each point in its drill's column, at its value on the scale
        for p in line.points:
            assert p.x == trend.xs[[f.drill_id for f in TREND].index(p.drill_id)]
            assert p.y == y_of(p.value)
    top, bottom = y_of(5), y_of(1)
    assert top < bottom
    assert y_of(3) == (top + bottom) / 2
    assert abs(y_of(4.25) - (bottom - (bottom - top) * 3.25 / 4)) < 0.06  # to a tenth of a pixel

    svg = feedback_svg(render_html(report(TREND)))
    assert svg is not None
    drawn = points(svg)
    assert {k: [(d, v) for d, v, _ in found] for k, found in drawn.items()} == by_rating
    scale = gridlines(svg)
    assert list(scale) == ["1", "2", "3", "4", "5"] and scale["5"] < scale["1"]
    for found in drawn.values():  # on the chart's own scale: 4 on the line of 4, 3.5 halfway to 3
        for _, value, y in found:
            low, high = scale[str(int(value))], scale[str(min(int(value) + 1, 5))]
            assert abs(y - (low + (high - low) * (value - int(value)))) < 0.11


def test_the_chart_says_its_numbers_in_words_and_the_table_holds_them():
    page = render_html(report(TREND))
    svg = feedback_svg(page)
    assert svg is not None
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "feedback-chart-title feedback-chart-desc"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and "Participant feedback on Licensed source code leaked" in str(title.text)
    assert desc is not None
    assert "useful: DRL-2026-0001 3.5, DRL-2026-0004 4, DRL-2026-0009 4.25." in str(desc.text)
    assert "realistic: DRL-2026-0001 5, DRL-2026-0004 not rated, DRL-2026-0009 1." in str(desc.text)
    table = page.split('id="feedback"')[1].split("</table>")[0]
    assert "DRL-2026-0004" in table and "useful 4.0 · ready 3.0" in table
    markdown = render_markdown(report(TREND))
    assert "| DRL-2026-0009 (this drill) | 4 of 11 | useful 4.25 · realistic 1.0 · ready 5.0 |" in markdown
    assert "<svg" not in markdown


def test_nothing_is_drawn_when_only_this_drill_has_no_responses():
    alone = (FeedbackSummary("DRL-2026-0009", 0, 11, {}, ()),)
    assert feedback_trend(alone) is None and feedback_chart_svg(alone, "A scenario") == ""
    page = render_html(report(alone))
    assert "Participant feedback" in page and "0 of 11" in page  # the table still says so
    assert feedback_svg(page) is None and "feedback-chart" not in page
    one = (FeedbackSummary("DRL-2026-0009", 1, 11, {"ready": 4.0}, ()),)
    svg = feedback_svg(render_html(report(one)))
    assert svg is not None and points(svg) == {"ready": [("DRL-2026-0009", 4.0, y_of(4.0))]}


def test_drill_ids_and_scenario_titles_with_html_are_escaped():
    hostile = (
        FeedbackSummary(f"DRL-{HOSTILE}", 1, 2, {"useful": 2.0}, ()),
        FeedbackSummary('DRL-2026-0002"><img src=x onerror=alert(1)>', 1, 2, {"useful": 3.0}, ()),
    )
    title = "Leak <b>bold</b> & co"
    svg_text = feedback_chart_svg(hostile, title)
    assert "<script" not in svg_text and "<img" not in svg_text and "<b>" not in svg_text
    root = ET.fromstring(svg_text)  # still well-formed
    title_element = root.find(f"{SVG}title")
    assert (
        title_element is not None and title_element.text == f"Participant feedback on {title}, drill by drill"
    )
    assert [p.get("data-drill") for p in root.iter() if p.get("class") == "point"] == [
        h.drill_id for h in hostile
    ]
    page = render_html(report(hostile, scenario_title=title))
    assert "<script" not in page and "<img" not in page and "<b>bold" not in page
    markdown = render_markdown(report(hostile, scenario_title=title))
    assert "<script" not in markdown and "<img" not in markdown


def test_the_report_of_a_second_drill_charts_both_in_order(app, clock):
    first = start(app)
    stop_drill(app, first, reason="done", actor=FACILITATOR)
    record_feedback(app, first, "tiago.rocha@horizonte.example", {"useful": 2, "realistic": 3, "ready": 2})
    record_feedback(app, first, "dpo@nordlicht.example", {"useful": 3, "ready": 3})
    clock.advance(timedelta(days=90))
    second = start(app)
    stop_drill(app, second, reason="done", actor=FACILITATOR)
    record_feedback(app, second, "tiago.rocha@horizonte.example", {"useful": 5, "realistic": 4, "ready": 4})
    svg = feedback_svg(Path(build_report(app, second).html_path).read_text(encoding="utf-8"))
    assert svg is not None
    assert {k: [(d, v) for d, v, _ in found] for k, found in points(svg).items()} == {
        "useful": [(first, 2.5), (second, 5.0)],
        "realistic": [(first, 3.0), (second, 4.0)],
        "ready": [(first, 2.5), (second, 4.0)],
    }

"""The participants' feedback trend of an after-action report: for each rating of the survey, the average
of every drill of the scenario, earlier drills first and this one last, on the survey's 1 to 5 scale.

``feedback_trend`` places the points (the view model the drawing reads); ``feedback_chart_svg`` draws
them as standalone SVG for the HTML page, every text value escaped, with a title and a description
that say the numbers. The report's feedback table holds the same numbers, for Markdown too.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from breachops.deadlines.discussion import FeedbackSummary

__all__ = ["RATINGS", "FeedbackTrend", "TrendLine", "TrendPoint", "feedback_chart_svg", "feedback_trend"]

RATINGS: tuple[str, ...] = ("useful", "realistic", "ready")
"""The survey's ratings, in its order (``services.drill_feedback.QUESTIONS``)."""
LOWEST, HIGHEST = 1, 5

_COLOUR = {"useful": "#1565c0", "realistic": "#2e7d32", "ready": "#e65100"}
# Left margin (the scale), the room per drill, the plot's top and height, and the legend's width.
_LEFT, _SLOT, _TOP, _PLOT_H, _LEGEND_W = 56, 120, 36, 180, 130
_LABEL_MAX = 22


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One drill's average for one rating, where the chart draws it."""

    drill_id: str
    value: float
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class TrendLine:
    rating: str
    points: tuple[TrendPoint, ...]  # in the drills' order; a drill nobody rated on it has none


@dataclass(frozen=True, slots=True)
class FeedbackTrend:
    drills: tuple[FeedbackSummary, ...]  # earlier drills first, this one last
    xs: tuple[float, ...]  # each drill's column
    lines: tuple[TrendLine, ...]  # one per rating, in the survey's order
    width: int
    height: int


def y_of(value: float) -> float:
    """Where a rating sits: ``HIGHEST`` at the plot's top, ``LOWEST`` at its bottom."""
    return round(_TOP + _PLOT_H * (HIGHEST - value) / (HIGHEST - LOWEST), 1)


def feedback_trend(feedback: Sequence[FeedbackSummary]) -> FeedbackTrend | None:
    """The points of the chart, or None when no drill has a rating to draw."""
    if not any(f.averages.get(r) is not None for f in feedback for r in RATINGS):
        return None
    xs = tuple(round(_LEFT + _SLOT * (index + 0.5), 1) for index in range(len(feedback)))
    lines = tuple(
        TrendLine(
            rating,
            tuple(
                TrendPoint(f.drill_id, float(f.averages[rating]), x, y_of(f.averages[rating]))
                for f, x in zip(feedback, xs, strict=True)
                if f.averages.get(rating) is not None
            ),
        )
        for rating in RATINGS
    )
    width = _LEFT + _SLOT * len(feedback) + _LEGEND_W
    return FeedbackTrend(tuple(feedback), xs, lines, width, _TOP + _PLOT_H + 64)


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _short(text: str) -> str:
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1] + "…"


def _number(value: float) -> str:
    return f"{value:g}"


def _description(trend: FeedbackTrend) -> str:
    """The chart in words: each rating's average per drill, in the drills' order."""
    parts = []
    for line in trend.lines:
        given = {p.drill_id: _number(p.value) for p in line.points}
        values = ", ".join(f"{f.drill_id} {given.get(f.drill_id, 'not rated')}" for f in trend.drills)
        parts.append(f"{line.rating}: {values}.")
    return (
        "Average rating per drill, from 1 (not at all) to 5 (fully), earlier drills first and this "
        "drill last. " + " ".join(parts)
    )


def _shape(rating: str, x: float, y: float, attributes: str = "", inner: str = "") -> str:
    """A different shape per rating, so the lines can be told apart without their colours."""
    colour = _COLOUR[rating]
    if rating == "realistic":
        tag, where = "rect", f'x="{_at(x - 4.5)}" y="{_at(y - 4.5)}" width="9" height="9"'
    elif rating == "ready":
        tag, where = (
            "polygon",
            f'points="{_at(x)},{_at(y - 6)} {_at(x + 5.5)},{_at(y + 4)} {_at(x - 5.5)},{_at(y + 4)}"',
        )
    else:
        tag, where = "circle", f'cx="{_at(x)}" cy="{_at(y)}" r="5"'
    head = f'<{tag} {attributes}{where} fill="{colour}"'
    return f"{head}>{inner}</{tag}>" if inner else f"{head}/>"


def _marker(rating: str, point: TrendPoint) -> str:
    """One drill's average: its shape, the values a reader (or a test) can find, and a tooltip."""
    value = _number(point.value)
    drill = _esc(point.drill_id)
    attributes = f'class="point" data-rating="{_esc(rating)}" data-drill="{drill}" data-value="{value}" '
    tip = f"<title>{_esc(rating)}, {drill}: {value}</title>"
    return _shape(rating, point.x, point.y, attributes, tip)


def _at(coordinate: float) -> str:
    return str(round(coordinate, 1))


def _runs(line: TrendLine, xs: Sequence[float]) -> list[list[TrendPoint]]:
    """The points of a line in runs of neighbouring drills: a drill without the rating breaks it."""
    runs: list[list[TrendPoint]] = []
    previous = -2
    for point in line.points:
        column = xs.index(point.x)
        if column != previous + 1:
            runs.append([])
        runs[-1].append(point)
        previous = column
    return runs


def feedback_chart_svg(feedback: Sequence[FeedbackSummary], scenario_title: str) -> str:
    """An SVG line chart of the feedback trend; empty when there is nothing to draw."""
    trend = feedback_trend(feedback)
    if trend is None:
        return ""
    width, height, right = trend.width, trend.height, trend.width - _LEGEND_W
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart feedback-chart" role="img" '
        f'aria-labelledby="feedback-chart-title feedback-chart-desc" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<title id="feedback-chart-title">Participant feedback on {_esc(scenario_title)}, drill by drill'
        "</title>",
        f'<desc id="feedback-chart-desc">{_esc(_description(trend))}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{_LEFT}" y="{_TOP - 18}" fill="#555">Average rating: 1 not at all, 5 fully</text>',
    ]
    for value in range(LOWEST, HIGHEST + 1):
        y = y_of(value)
        parts.append(f'<line x1="{_LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{_LEFT - 10}" y="{y + 4}" text-anchor="end" fill="#555">{value}</text>')
    base = _TOP + _PLOT_H
    for index, (summary, x) in enumerate(zip(trend.drills, trend.xs, strict=True)):
        this = index == len(trend.drills) - 1
        weight = ' font-weight="bold"' if this else ""
        parts.append(
            f'<text x="{x}" y="{base + 20}" text-anchor="middle" fill="#222"{weight}>'
            f"{_esc(_short(summary.drill_id))}</text>"
        )
        note = f"{summary.responses} of {summary.invited} answered"
        parts.append(f'<text x="{x}" y="{base + 36}" text-anchor="middle" fill="#555">{_esc(note)}</text>')
        if this:
            parts.append(f'<text x="{x}" y="{base + 52}" text-anchor="middle" fill="#555">this drill</text>')
    for number, line in enumerate(trend.lines):
        colour = _COLOUR[line.rating]
        parts.append(f'<g class="rating" data-rating="{_esc(line.rating)}">')
        for run in _runs(line, trend.xs):
            if len(run) > 1:
                path = " ".join(f"{_at(p.x)},{_at(p.y)}" for p in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [_marker(line.rating, p) for p in line.points]
        legend_y = _TOP + 6 + 22 * number
        parts.append(_shape(line.rating, right + 24, legend_y))
        parts.append(f'<text x="{right + 36}" y="{legend_y + 4}" fill="#222">{_esc(line.rating)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)

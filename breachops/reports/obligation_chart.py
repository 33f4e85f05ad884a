"""The obligations chart of an after-action report: per duty, its window from T+0 to the due time, when
it was met, and the drill's end. As SVG for the HTML page (standalone, every text value escaped) and as
text for Markdown (in a fenced code block).
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from breachops.deadlines.scoring import ObligationOutcome
from breachops.playbooks.scenario_time import format_offset
from breachops.timefmt import format_margin

if TYPE_CHECKING:  # the report's view draws this chart
    from breachops.reports.after_action import AfterActionReport

__all__ = ["obligation_chart_svg", "obligation_chart_text"]

_STATUS_COLOUR = {"met": "#2e7d32", "missed": "#c62828", "open": "#6d6d6d", "waived": "#9e9e9e"}


def _chart_span(report: AfterActionReport) -> timedelta:
    """From T+0 to the latest of the drill's end, any due time and any completion, at least one hour."""
    record = report.record
    instants = [record.ended_at]
    instants += [o.due for o in report.score.obligations if o.due is not None]
    instants += [o.met_at for o in report.score.obligations if o.met_at is not None]
    return max(max(instants) - record.t0, timedelta(hours=1))


def obligation_chart_svg(report: AfterActionReport) -> str:
    """An SVG Gantt-like chart: per obligation, a bar from T+0 to its due time, a dot where it was met,
    and a line at the drill's end. Standalone, well-formed XML; every text value is escaped."""
    record = report.record
    rows = [o for o in report.score.obligations if o.due is not None]
    span = _chart_span(report).total_seconds()
    label_w, plot_w, row_h, top = 300, 560, 28, 34
    width = label_w + plot_w + 90
    height = top + max(len(rows), 1) * row_h + 30

    def x(at: datetime) -> float:
        return round(label_w + plot_w * (at - record.t0).total_seconds() / span, 1)

    def esc(value: object) -> str:
        return html.escape(str(value), quote=True)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<title>Obligations: due time against when each was met</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    # Axis ticks every sensible number of hours, labelled in scenario time.
    hours = span / 3600
    step = next(s for s in (1, 2, 4, 6, 12, 24, 48, 72, 168, 336, 720, 10**9) if hours / s <= 8)
    tick = 0
    while tick <= hours + 1e-9:
        tx = round(label_w + plot_w * tick * 3600 / span, 1)
        parts.append(f'<line x1="{tx}" y1="{top - 6}" x2="{tx}" y2="{height - 24}" stroke="#e0e0e0"/>')
        parts.append(f'<text x="{tx}" y="{top - 12}" text-anchor="middle" fill="#555">T+{tick}h</text>')
        tick += step
    end_x = x(record.ended_at)
    parts.append(
        f'<line x1="{end_x}" y1="{top - 6}" x2="{end_x}" y2="{height - 24}" stroke="#1565c0" '
        'stroke-dasharray="4 3"/>'
    )
    parts.append(
        f'<text x="{end_x}" y="{height - 10}" text-anchor="middle" fill="#1565c0">drill ends '
        f"{esc(format_offset(record.ended_at - record.t0))}</text>"
    )
    if not rows:
        parts.append(f'<text x="{label_w}" y="{top + 18}" fill="#555">No obligation had a due time.</text>')
    for index, o in enumerate(rows):
        assert o.due is not None
        y = top + index * row_h
        colour = _STATUS_COLOUR[o.status]
        label = f"{o.jurisdiction} {o.audience.replace('_', ' ')}: {o.title}"
        label = label if len(label) <= 46 else label[:45] + "…"
        parts.append(f'<g class="obligation {esc(o.status)}" data-key="{esc(o.key)}">')
        parts.append(f"<title>{esc(o.title)} ({esc(o.citation)}): {esc(o.status)}</title>")
        parts.append(f'<text x="6" y="{y + 17}" fill="#222">{esc(label)}</text>')
        due_x = x(o.due)
        parts.append(
            f'<rect x="{label_w}" y="{y + 6}" width="{max(due_x - label_w, 1)}" height="14" rx="2" '
            f'fill="{colour}" fill-opacity="0.25" stroke="{colour}"/>'
        )
        parts.append(
            f'<line x1="{due_x}" y1="{y + 3}" x2="{due_x}" y2="{y + 23}" stroke="{colour}" stroke-width="2"/>'
        )
        if o.met_at is not None:
            parts.append(f'<circle cx="{x(o.met_at)}" cy="{y + 13}" r="5" fill="{colour}"/>')
        note = f"{o.status} {format_margin(o.margin)}" if o.margin is not None else o.status
        parts.append(f'<text x="{label_w + plot_w + 8}" y="{y + 17}" fill="{colour}">{esc(note)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


def obligation_chart_text(report: AfterActionReport, width: int = 48) -> str:
    """The same chart in text: ``=`` is the window up to the due time ``|``, ``●`` when it was met,
    ``:`` the drill's end."""
    record = report.record
    span = _chart_span(report).total_seconds()

    def col(at: datetime) -> int:
        return min(width - 1, max(0, round((width - 1) * (at - record.t0).total_seconds() / span)))

    rows = [o for o in report.score.obligations if o.due is not None]
    name_w = max([len(_chart_label(o)) for o in rows] + [10])
    end_label = format_offset(timedelta(seconds=span))
    lines = [f"{'':{name_w}}  T+00:00{' ' * (width - 7 - len(end_label))}{end_label}"]
    end = col(record.ended_at)
    for o in rows:
        assert o.due is not None
        cells = [" "] * width
        for i in range(col(o.due)):
            cells[i] = "="
        cells[end] = ":"
        cells[col(o.due)] = "|"
        if o.met_at is not None:
            cells[col(o.met_at)] = "●"
        note = f"due {format_offset(o.due - record.t0)}, {o.status}"
        if o.margin is not None:
            note += f" {format_margin(o.margin)}"
        lines.append(f"{_chart_label(o):{name_w}}  {''.join(cells)}  {note}")
    if not rows:
        lines.append("No obligation had a due time.")
    lines.append(
        f"{'':{name_w}}  '=' window to the due time '|', '●' met, "
        f"':' drill ends {format_offset(record.ended_at - record.t0)}"
    )
    # The chart sits in a fenced code block; a backtick in a label must not close it.
    return "\n".join(lines).replace("`", "'")


def _chart_label(o: ObligationOutcome) -> str:
    label = f"{o.jurisdiction} {o.audience.replace('_', ' ')} ({o.key})"
    return label if len(label) <= 48 else label[:47] + "…"

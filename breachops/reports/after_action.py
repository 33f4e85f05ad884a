"""The after-action report of a drill: what happened when, which duties would have been met, how each
party and role did, what went wrong and who fixes it by when.

Two renderings of one :class:`AfterActionReport`: a self-contained HTML file (inline CSS, an inline SVG
chart, no external assets, readable on paper) to circulate to both parties, and Markdown (with a text
chart) for a repository or a ticket. Text from scenarios and answers is input, never markup: the HTML
template autoescapes, the SVG is built with escaped values, and Markdown escapes HTML and table pipes.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import PackageLoader, StrictUndefined
from markupsafe import Markup

from breachops.config.coverage import gap_message
from breachops.deadlines.capability import RATING_RULE, RATINGS, ObjectiveRating, Override, rate_objectives
from breachops.deadlines.discussion import DiscussionAnswer, HotwashEntry
from breachops.deadlines.scoring import DrillRecord, DrillScore, ObligationOutcome, format_span
from breachops.files import private_dir, write_private
from breachops.playbooks.participants import Participant, stored_participants
from breachops.playbooks.scenarios import Scenario, format_offset
from breachops.sandbox import BoundedEnvironment, render_bounded

__all__ = [
    "AfterActionReport",
    "DrillLike",
    "obligation_chart_svg",
    "obligation_chart_text",
    "render_html",
    "render_markdown",
    "report_environment",
    "write_report",
]


@dataclass(frozen=True, slots=True)
class AfterActionReport:
    """Everything a report shows. ``speed`` is scenario seconds per real second (1 = real time);
    ``mode`` is how the drill ran, e.g. ``live`` or ``simulated``."""

    scenario_id: str
    scenario_version: str
    scenario_title: str
    narrative: str
    playbook: str
    record: DrillRecord
    score: DrillScore
    participants: tuple[Participant, ...] = ()
    objectives: tuple[str, ...] = ()
    mode: str = "live"
    speed: float = 1.0
    generated_at: datetime | None = None
    interim: bool = False
    titles: dict[str, str] = field(default_factory=dict)
    """Step ids to titles, for answers to steps the record does not list."""
    gaps: tuple[str, ...] = ()
    """Jurisdictions of the drill's facts the rule catalogue knows nothing of."""
    capabilities: tuple[ObjectiveRating, ...] = ()
    """Each objective rated P/S/M/U from its measures, or by an evaluator."""
    discussion: tuple[DiscussionAnswer, ...] = ()
    """Answers to the injects' discussion questions, oldest first."""
    questions: dict[str, str] = field(default_factory=dict)
    """``<inject id>/<question id>`` to the question's text."""
    hotwash: tuple[HotwashEntry, ...] = ()
    """Each party's debrief after play, oldest first."""

    @classmethod
    def for_scenario(
        cls,
        scenario: Scenario,
        record: DrillRecord,
        score: DrillScore,
        participants: Sequence[Participant] = (),
        overrides: Mapping[str, Override] | None = None,
        discussion: Sequence[DiscussionAnswer] = (),
        **options: Any,
    ) -> AfterActionReport:
        answered = {a.key for a in discussion}
        return cls(
            scenario_id=scenario.id,
            scenario_version=scenario.version,
            scenario_title=scenario.title,
            narrative=scenario.narrative,
            objectives=tuple(o.text for o in scenario.objectives),
            capabilities=rate_objectives(scenario.objectives, score, overrides, answered),
            discussion=tuple(discussion),
            questions={f"{i.id}/{q.id}": q.text for i in scenario.injects for q in i.questions},
            playbook=scenario.playbook,
            record=record,
            score=score,
            participants=tuple(participants),
            **options,
        )

    @classmethod
    def for_drill(
        cls,
        *,
        scenario: Scenario,
        drill: DrillLike,
        record: DrillRecord,
        score: DrillScore,
        interim: bool = False,
        generated_at: datetime | None = None,
        gaps: Sequence[str] = (),
        overrides: Mapping[str, Override] | None = None,
        discussion: Sequence[DiscussionAnswer] = (),
        hotwash: Sequence[HotwashEntry] = (),
    ) -> AfterActionReport:
        """The report of a stored drill: its mode, speed and participants come from ``drill``."""
        mode = f"{drill.mode}, simulated participants" if drill.simulate else drill.mode
        return cls.for_scenario(
            scenario,
            record,
            score,
            stored_participants(drill.participants),
            mode=mode,
            speed=drill.speed,
            interim=interim,
            generated_at=generated_at,
            gaps=tuple(gaps),
            overrides=overrides,
            discussion=discussion,
            hotwash=tuple(hotwash),
        )

    @property
    def title(self) -> str:
        kind = "Interim after-action report" if self.interim else "After-action report"
        return f"{kind}: {self.scenario_title}"


class DrillLike(Protocol):
    """What :meth:`AfterActionReport.for_drill` reads of a stored drill (``store.models.Drill`` has it)."""

    mode: str
    speed: float
    simulate: bool
    participants: list[dict[str, Any]]


def _role_shown(person: Participant) -> str:
    """``dpo (covered by the incident lead)`` for a stand-in, else the role."""
    if person.stands_in_for:
        return f"{_role(person.stands_in_for)} (covered by the {_role(person.role)})"
    return _role(person.role)


# ---- rendering -----------------------------------------------------------------------------------


def render_html(report: AfterActionReport) -> str:
    """One self-contained HTML page."""
    return _render("after_action.html.j2", _context(report, html=True))


def render_markdown(report: AfterActionReport) -> str:
    return _render("after_action.md.j2", _context(report, html=False))


def _render(name: str, context: dict[str, Any]) -> str:
    # Shipped templates over a drill's records: bounded like every template, with room for long drills.
    return render_bounded(
        report_environment().get_template(name), context, budget=30.0, max_output=50_000_000
    )


def write_report(report: AfterActionReport, directory: Path) -> tuple[Path, Path]:
    """Write ``<drill id>-after-action.html`` and ``.md`` into ``directory`` (created if missing)."""
    private_dir(directory)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", report.record.drill_id).strip("-.") or "drill"
    html_path = directory / f"{stem}-after-action.html"
    md_path = directory / f"{stem}-after-action.md"
    write_private(html_path, render_html(report))
    write_private(md_path, render_markdown(report))
    return html_path, md_path


@functools.lru_cache(maxsize=1)
def report_environment() -> BoundedEnvironment:
    """The environment of the drill reports' templates (after-action report, exercise pack)."""
    env = BoundedEnvironment(
        loader=PackageLoader("breachops.reports", "templates"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_text, md_cell=md_cell)
    return env


def md_text(value: object) -> str:
    """Text safe in Markdown: HTML a renderer would pass through is escaped, lines are kept."""
    return html.escape(str(value), quote=False)


def md_cell(value: object) -> str:
    """Text safe in a Markdown table cell: one line, pipes escaped."""
    return md_text(" ".join(str(value).split())).replace("|", "\\|")


# ---- the view: rows of text the templates lay out ------------------------------------------------


def _context(report: AfterActionReport, *, html: bool) -> dict[str, Any]:
    record, score = report.record, report.score
    zones = _zones(report)
    moment = functools.partial(_moment, t0=record.t0, zones=zones)
    steps = {s.step_id: s for s in record.steps}
    titles = {**report.titles, **{s.step_id: s.title for s in record.steps}}
    overall = score.overall
    return {
        "title": report.title,
        "interim": report.interim,
        "drill_id": record.drill_id,
        "scenario": f"{report.scenario_title} ({report.scenario_id}@{report.scenario_version})",
        "playbook": report.playbook,
        "mode": report.mode,
        "speed": _speed(report.speed),
        "zones": zones,
        "start": moment(record.t0),
        "end": moment(record.ended_at),
        "duration": format_span(record.ended_at - record.t0),
        "generated": _utc(report.generated_at) if report.generated_at else None,
        "narrative": report.narrative,
        "objectives": report.objectives,
        "capabilities": capability_rows(report.capabilities),
        "discussion": [
            {
                "question": report.questions.get(a.key, a.key),
                "key": a.key,
                "text": a.text,
                "by": a.by,
                "at": _utc(a.at),
            }
            for a in report.discussion
        ],
        "hotwash": [
            {"party": h.party, "went_well": h.went_well, "improve": h.improve, "by": h.by, "at": _utc(h.at)}
            for h in report.hotwash
        ],
        "rating_rule": RATING_RULE,
        "participants": [
            {
                "name": p.name,
                "email": p.email,
                "party": p.party,
                "role": _role_shown(p),
                "tz": p.timezone or "—",
            }
            for p in report.participants
        ],
        "summary": [
            ("Time to acknowledge", _maybe_span(score.time_to_acknowledge, "no answer")),
            ("Time to contain", _maybe_span(score.time_to_contain, "not contained")),
            ("Steps on time", _share(overall.on_time, overall.scored)),
            (
                "Obligations",
                f"{score.obligation_count('met')} met, {score.obligation_count('missed')} missed, "
                f"{score.obligation_count('open')} open",
            ),
        ],
        "timeline": _timeline(report, moment, titles),
        "obligations": [_obligation_row(o, moment) for o in score.obligations],
        "coverage_gaps": [gap_message(code) for code in report.gaps],
        "chart_svg": Markup(obligation_chart_svg(report)) if html else "",
        "chart_text": "" if html else obligation_chart_text(report),
        "steps": [
            {
                "title": s.title,
                "id": s.step_id,
                "phase": s.phase,
                "owner": _owner(s.owner_party, s.owner_role),
                "due": moment(s.due),
                "done": moment(s.completed_at),
                "by": s.completed_by or "—",
                "result": s.result.replace("_", " "),
                "result_class": s.result,
                "margin": _margin(s.margin),
                "inject": s.expected_by_inject or "—",
                "after_inject": _maybe_span(s.after_inject, "—"),
                "ready": moment(steps[s.step_id].ready_at) if s.step_id in steps else moment(None),
            }
            for s in score.steps
        ],
        "groups": [
            {"kind": kind, "key": _role(g.key), **_group_row(g)}
            for kind, groups in (("Party", score.by_party), ("Role", score.by_role))
            for g in groups
        ],
        "gaps": [
            {
                "kind": g.kind.replace("_", " "),
                "summary": g.summary,
                "owner": _owner(g.owner_party, g.owner_role),
            }
            for g in score.gaps
        ],
        "plan": [
            {
                "action": a.action,
                "owner": _owner(a.owner_party, a.owner_role),
                "due": _utc(a.due),
                "status": a.status,
                "carried": f"yes, from {a.raised_in}" if a.carried_over and a.raised_in else "no",
                "gap": a.gap,
            }
            for a in score.plan
        ],
    }


def capability_rows(ratings: Sequence[ObjectiveRating]) -> list[dict[str, Any]]:
    """One row per objective: its rating in HSEEP's words, the measures behind it, any override."""
    rows = []
    for r in ratings:
        rating = r.rating
        override = r.override
        rows.append(
            {
                "objective": r.objective,
                "text": r.text,
                "capability": r.capability or "—",
                "target": r.target or "—",
                "rating": f"{rating} — {RATINGS[rating]}" if rating else "not rated (nothing observed)",
                "rating_class": f"rating-{rating or 'none'}",
                "measures": ", ".join(f"{m.measure} ({m.status.replace('_', ' ')})" for m in r.measures)
                or "—",
                "computed": r.computed or "—",
                "override": f"{override.rating} by {override.by}: {override.reason}" if override else "",
            }
        )
    return rows


def _zones(report: AfterActionReport) -> list[str]:
    """The participants' time zones, each once, in a stable order; unknown names are left out."""
    found: list[str] = []
    for p in report.participants:
        if p.timezone and p.timezone not in found and _zone(p.timezone) is not None:
            found.append(p.timezone)
    return found


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _utc(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _local(at: datetime, zone: str) -> str:
    info = _zone(zone)
    if info is None:
        return ""
    local = at.astimezone(info)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone})"


def _moment(at: datetime | None, *, t0: datetime, zones: Sequence[str]) -> dict[str, Any]:
    """One instant as every column shows it: scenario clock, UTC, and each participant zone."""
    if at is None:
        return {"t": "—", "utc": "—", "local": [], "known": False}
    return {
        "t": format_offset(at - t0),
        "utc": _utc(at),
        "local": [_local(at, zone) for zone in zones],
        "known": True,
    }


def _timeline(report: AfterActionReport, moment: Any, titles: dict[str, str]) -> list[dict[str, Any]]:
    record = report.record
    rows: list[tuple[datetime, int, dict[str, Any]]] = []
    for inject in record.injects:
        at = inject.delivered_at or inject.due_at
        note = "" if inject.delivered_at else " (not delivered)"
        rows.append(
            (at, 0, {"kind": "inject", "what": f"{inject.title}{note}", "who": inject.id, "details": []})
        )
    for answer in record.answers:
        details = [f"{k}: {_answer_value(v)}" for k, v in answer.answer.items() if v not in (None, "", [])]
        who = f"{answer.by} ({_owner(answer.party, answer.role)})" + (
            " [simulated]" if answer.simulated else ""
        )
        what = titles.get(answer.step_id, answer.step_id)
        rows.append((answer.at, 1, {"kind": "answer", "what": what, "who": who, "details": details}))
    rows.sort(key=lambda row: (row[0], row[1]))
    return [{**row, "when": moment(at)} for at, _, row in rows]


def _answer_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_answer_value(v) for v in value)
    if isinstance(value, datetime):
        return _utc(value)
    return str(value)


def _obligation_row(o: ObligationOutcome, moment: Any) -> dict[str, Any]:
    return {
        "title": o.title,
        "key": o.key,
        "audience": o.audience.replace("_", " "),
        "jurisdiction": o.jurisdiction,
        "citation": o.citation,
        "due": moment(o.due) if o.due else {**moment(None), "t": "no due time"},
        "met": moment(o.met_at),
        "status": o.status,
        "margin": _margin(o.margin),
    }


def _group_row(g: Any) -> dict[str, Any]:
    return {
        "on_time": g.on_time,
        "late": g.late,
        "skipped": g.skipped,
        "not_reached": g.not_reached,
        "share": _share(g.on_time, g.scored),
    }


def _owner(party: str, role: str) -> str:
    return f"{_role(role)} ({'both parties' if party == 'both' else party})"


def _role(role: str) -> str:
    return role.replace("_", " ")


def _share(part: int, whole: int) -> str:
    return "—" if whole == 0 else f"{part}/{whole} ({round(100 * part / whole)} %)"


def _maybe_span(value: timedelta | None, missing: str) -> str:
    return missing if value is None else format_span(value)


def _margin(value: timedelta | None) -> str:
    """``+18 h`` to spare or ``−3 h`` late: the sign is the news."""
    if value is None:
        return "—"
    if value == timedelta(0):
        return "0 min"
    return f"{'+' if value > timedelta(0) else '−'}{format_span(value)}"


def _speed(speed: float) -> str:
    if speed <= 0:
        return "facilitated (the clock moves when the facilitator advances it)"
    if speed == 1:
        return "1× (real time)"
    if speed >= 60:  # a minute of real time is the unit people can picture
        return f"{speed:g}× ({format_span(timedelta(minutes=1) * speed)} of scenario time in 1 min)"
    return f"{speed:g}× (1 h of scenario time in {format_span(timedelta(hours=1) / speed)})"


# ---- the obligations chart -----------------------------------------------------------------------

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
        note = f"{o.status} {_margin(o.margin)}" if o.margin is not None else o.status
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
            note += f" {_margin(o.margin)}"
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

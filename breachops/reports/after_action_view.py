"""The after-action report as rows of text the templates lay out: every instant in scenario time, UTC
and each participant's zone; every span in words; every owner as a role at a party.

Values stay text here; escaping is the templates' (HTML autoescapes, Markdown through its filters).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup

from breachops.config.coverage import gap_message
from breachops.deadlines.capability import RATING_RULE, RATINGS, ObjectiveRating
from breachops.deadlines.scoring import ObligationOutcome
from breachops.playbooks.scenario_time import format_offset
from breachops.reports.feedback_chart import feedback_chart_svg
from breachops.reports.obligation_chart import obligation_chart_svg, obligation_chart_text
from breachops.timefmt import format_margin, format_span

if TYPE_CHECKING:  # the report renders itself through this view
    from breachops.playbooks.participants import Participant
    from breachops.reports.after_action import AfterActionReport

__all__ = ["capability_rows", "report_context", "role_words"]


def report_context(report: AfterActionReport, *, html: bool) -> dict[str, Any]:
    record, score = report.record, report.score
    zones = _zones(report)
    moment = functools.partial(_moment, t0=record.t0, zones=zones)
    steps = {s.step_id: s for s in record.steps}
    titles = {**report.titles, **{s.step_id: s.title for s in record.steps}}
    overall = score.overall
    return {
        "title": report.title,
        "interim": report.interim,
        "draft": report.draft,
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
        "observations": [
            {
                "objective": o.objective,
                "note": o.note,
                "rating": o.rating or "",
                "offset": o.scenario_offset,
                "by": o.by,
                "at": _utc(o.at),
            }
            for o in report.observations
        ],
        "feedback": [
            {
                "drill": f.drill_id,
                "responses": f.responses,
                "invited": f.invited,
                "averages": list(f.averages.items()),
                "comments": list(f.comments),
                "this": f is report.feedback[-1],
            }
            for f in report.feedback
        ],
        "feedback_chart_svg": Markup(feedback_chart_svg(report.feedback, report.scenario_title))
        if html
        else "",
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
                "result": "not needed" if s.result == "moot" else s.result.replace("_", " "),
                "result_class": s.result,
                "margin": format_margin(s.margin),
                "inject": s.expected_by_inject or "—",
                "after_inject": _maybe_span(s.after_inject, "—"),
                "ready": moment(steps[s.step_id].ready_at) if s.step_id in steps else moment(None),
            }
            for s in score.steps
        ],
        "groups": [
            {"kind": kind, "key": role_words(g.key), **_group_row(g)}
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
        "margin": format_margin(o.margin),
    }


def _group_row(g: Any) -> dict[str, Any]:
    return {
        "on_time": g.on_time,
        "late": g.late,
        "skipped": g.skipped,
        "not_reached": g.not_reached,
        "moot": g.moot,
        "share": _share(g.on_time, g.scored),
    }


def _owner(party: str, role: str) -> str:
    return f"{role_words(role)} ({'both parties' if party == 'both' else party})"


def _role_shown(person: Participant) -> str:
    """``dpo (covered by the incident lead)`` for a stand-in, else the role."""
    if person.stands_in_for:
        return f"{role_words(person.stands_in_for)} (covered by the {role_words(person.role)})"
    return role_words(person.role)


def role_words(role: str) -> str:
    return role.replace("_", " ")


def _share(part: int, whole: int) -> str:
    return "—" if whole == 0 else f"{part}/{whole} ({round(100 * part / whole)} %)"


def _maybe_span(value: timedelta | None, missing: str) -> str:
    return missing if value is None else format_span(value)


def _speed(speed: float) -> str:
    if speed <= 0:
        return "facilitated (the clock moves when the facilitator advances it)"
    if speed == 1:
        return "1× (real time)"
    if speed >= 60:  # a minute of real time is the unit people can picture
        return f"{speed:g}× ({format_span(timedelta(minutes=1) * speed)} of scenario time in 1 min)"
    return f"{speed:g}× (1 h of scenario time in {format_span(timedelta(hours=1) / speed)})"

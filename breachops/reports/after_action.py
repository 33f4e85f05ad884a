"""The after-action report of a drill: what happened when, which duties would have been met, how each
party and role did, what went wrong and who fixes it by when.

Two renderings of one :class:`AfterActionReport`: a self-contained HTML file (inline CSS, inline SVG
charts, no external assets, readable on paper) to circulate to both parties, and Markdown (with a text
chart) for a repository or a ticket; ``after_action_view`` lays out their rows, ``obligation_chart`` and
``feedback_chart`` draw the charts. Text from scenarios and answers is input, never markup: the HTML
template autoescapes, SVG is built with escaped values, and Markdown escapes HTML and table pipes.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from jinja2 import PackageLoader, StrictUndefined

from breachops.deadlines.capability import ObjectiveRating, Override, rate_objectives
from breachops.deadlines.discussion import DiscussionAnswer, FeedbackSummary, HotwashEntry, Observation
from breachops.deadlines.drill_record import DrillRecord
from breachops.deadlines.scoring import DrillScore
from breachops.files import private_dir, write_private
from breachops.playbooks.participants import Participant, stored_participants
from breachops.playbooks.scenarios import Scenario
from breachops.reports.after_action_view import report_context
from breachops.sandbox import BoundedEnvironment, render_bounded

__all__ = [
    "AfterActionReport",
    "DrillLike",
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
    observations: tuple[Observation, ...] = ()
    """What evaluators and observers noted during play, oldest first."""
    feedback: tuple[FeedbackSummary, ...] = ()
    """Participants' feedback: this drill's last, earlier drills of the same scenario before it."""
    draft: bool = False
    """A finished drill's report until `drill report --finalize`: evaluators may still add to it."""

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
        observations: Sequence[Observation] = (),
        draft: bool = False,
        feedback: Sequence[FeedbackSummary] = (),
    ) -> AfterActionReport:
        """The report of a stored drill: its mode, speed and participants come from ``drill``."""
        mode = f"{drill.mode}, simulated participants" if drill.simulate else drill.mode
        made = cls.for_scenario(
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
        return dataclasses.replace(
            made, observations=tuple(observations), draft=draft and not interim, feedback=tuple(feedback)
        )

    @property
    def title(self) -> str:
        kind = "Interim after-action report" if self.interim else "After-action report"
        kind = f"{kind} (DRAFT)" if self.draft else kind
        return f"{kind}: {self.scenario_title}"


class DrillLike(Protocol):
    """What :meth:`AfterActionReport.for_drill` reads of a stored drill (``store.models.Drill`` has it)."""

    mode: str
    speed: float
    simulate: bool
    participants: list[dict[str, Any]]


# ---- rendering -----------------------------------------------------------------------------------


def render_html(report: AfterActionReport) -> str:
    """One self-contained HTML page."""
    return _render("after_action.html.j2", report_context(report, html=True))


def render_markdown(report: AfterActionReport) -> str:
    return _render("after_action.md.j2", report_context(report, html=False))


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

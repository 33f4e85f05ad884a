"""What a drill's people said: answers to the injects' discussion questions, and the hotwash (the
immediate debrief each party gives after play: what went well, what to improve). Pure records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["DiscussionAnswer", "FeedbackSummary", "HotwashEntry", "Observation"]


@dataclass(frozen=True, slots=True)
class DiscussionAnswer:
    inject: str
    question: str
    text: str
    by: str
    at: datetime

    @property
    def key(self) -> str:
        """``<inject id>/<question id>``, as an objective's ``question:`` measure names it."""
        return f"{self.inject}/{self.question}"


@dataclass(frozen=True, slots=True)
class HotwashEntry:
    party: str
    went_well: tuple[str, ...]
    improve: tuple[str, ...]
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Observation:
    """What an evaluator or observer saw of an objective during play, stamped with the scenario time."""

    objective: str
    note: str
    rating: str | None  # P, S, M or U, as seen at that moment (a `drill rate` decides the rating)
    scenario_offset: str  # T+hh:mm
    by: str
    at: datetime


@dataclass(frozen=True)
class FeedbackSummary:
    """Participants' feedback on one drill: how many answered of how many asked, the average rating per
    question, and the comments."""

    drill_id: str
    responses: int
    invited: int
    averages: dict[str, float]  # per question, over the responses that rated it
    comments: tuple[tuple[str, str], ...]  # (who, comment)

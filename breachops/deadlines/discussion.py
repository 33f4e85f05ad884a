"""What a drill's people said: answers to the injects' discussion questions, and the hotwash (the
immediate debrief each party gives after play: what went well, what to improve). Pure records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["DiscussionAnswer", "HotwashEntry"]


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

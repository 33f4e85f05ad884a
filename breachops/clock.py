"""The one source of time. Production code asks a Clock; tests hand in a ManualClock and travel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "DrillClock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware instant")
        self._now = instant.astimezone(UTC)


class DrillClock:
    """Scenario time of a drill: ``t0 + speed × (real − started_at − paused by then) + the advances
    made by then``.

    Speed 1 runs in real time, N compresses (a 72-hour scenario at 36 takes 2 hours), 0 stands still
    until a facilitator advances it. Everything a drill records is stored in real time and read in
    scenario time through this one formula, so advancing and replaying never disagree: an event keeps
    the scenario time it had, since only the advances made before it count.
    """

    def __init__(
        self,
        t0: datetime,
        started_at: datetime,
        speed: float,
        advances: Sequence[tuple[datetime, timedelta]] = (),
        pauses: Sequence[tuple[datetime, datetime | None]] = (),
    ):
        if t0.tzinfo is None or started_at.tzinfo is None:
            raise ValueError("DrillClock needs timezone-aware instants")
        if speed < 0:
            raise ValueError(f"a drill clock cannot run backwards (speed {speed})")
        self.t0, self.started_at, self.speed = t0, started_at, speed
        self.advances = tuple(sorted(advances))
        self.pauses = tuple(sorted(pauses, key=lambda p: p[0]))  # (from, until or None: still paused)

    def advanced_by(self, real: datetime) -> timedelta:
        return sum((delta for at, delta in self.advances if at <= real), timedelta(0))

    def paused_by(self, real: datetime) -> timedelta:
        """Real time spent paused between the start and ``real``."""
        total = timedelta(0)
        for begin, end in self.pauses:
            start, stop = max(begin, self.started_at), real if end is None else min(end, real)
            if stop > start:
                total += stop - start
        return total

    def paused_at(self, real: datetime) -> bool:
        return any(begin <= real and (end is None or real < end) for begin, end in self.pauses)

    def scenario_time(self, real: datetime) -> datetime:
        running = real - self.started_at - self.paused_by(real)
        return self.t0 + running * self.speed + self.advanced_by(real)

    def real_time(self, scenario: datetime, now: datetime) -> datetime | None:
        """When, in real time, the scenario reaches ``scenario`` if nobody advances the clock after
        ``now`` (None if it stands still)."""
        if self.speed == 0 or self.paused_at(now):
            return None
        return (
            self.started_at + self.paused_by(now) + (scenario - self.t0 - self.advanced_by(now)) / self.speed
        )

    def offset(self, scenario: datetime) -> timedelta:
        """``scenario`` as T+offset."""
        return scenario - self.t0

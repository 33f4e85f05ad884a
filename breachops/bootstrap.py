"""The composition root: settings → rule catalogue (→ store, channels, scheduler as they arrive).

Nothing deeper in the code reaches for a global; entry points call this and pass what it built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from breachops.clock import Clock, SystemClock
from breachops.config.rules import Catalogue, load_catalogue
from breachops.config.settings import Settings, load_settings

__all__ = ["App", "bootstrap"]


@dataclass
class App:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def catalogue(self) -> Catalogue:
        return load_catalogue(self.settings.rule_files, self.settings.target_hours)


def bootstrap(settings: Settings | None = None, clock: Clock | None = None) -> App:
    return App(settings=settings or load_settings(), clock=clock or SystemClock())

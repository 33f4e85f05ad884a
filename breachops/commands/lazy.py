"""A command group that imports a command's module only when that command is used.

Importing every command module up front costs a second (the store's SQLAlchemy models, the drills'
schedules, the reports' calendars) even for `breachops rules list`, which needs none of them. The
root group knows each command by name, where it lives (``"module:attribute"``) and the first
paragraph of its help, and imports the module when the command is resolved: to run it, to show its
own help, or to name it in an error. Listing the commands (``breachops --help``) imports nothing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

try:  # recent Typer vendors click under a private name; earlier versions use click itself
    from typer._click import Command, Context, HelpFormatter
except ImportError:  # pragma: no cover
    from click import Command, Context, HelpFormatter  # type: ignore[assignment]

__all__ = ["Lazy", "LazyGroup"]


@dataclass(frozen=True)
class Lazy:
    """A command not imported yet: ``target`` is ``"module:attribute"``, a ``typer.Typer`` (a group)
    or a function (one command); ``summary`` is the first paragraph of its help, which the group's
    listing shows without importing it (tests/cli/test_lazy_commands.py keeps the two equal)."""

    target: str
    summary: str


class LazyGroup(TyperGroup):
    """A Typer group whose commands are ``lazy``: set it in a subclass and pass that as
    ``typer.Typer(cls=...)``. The listing's order is the mapping's."""

    lazy: ClassVar[Mapping[str, Lazy]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(dict(self.commands), self.lazy, self._load)
        self._listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        commands = self.commands
        assert isinstance(commands, _Commands)
        if self._listing and cmd_name in self.lazy and not commands.loaded(cmd_name):
            return TyperCommand(cmd_name, help=self.lazy[cmd_name].summary)
        return commands.get(cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The group's help lists names and summaries only: no command's module is imported for it."""
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def _load(self, name: str) -> Command:
        """The command ``name`` as Typer makes it when the app is assembled eagerly, with this group's
        markup mode: the same help, options and errors."""
        module, _, attribute = self.lazy[name].target.partition(":")
        target = getattr(importlib.import_module(module), attribute)
        holder = typer.Typer(add_completion=False, rich_markup_mode=self.rich_markup_mode)
        holder.callback()(_no_options)  # a callback makes Typer build a group even for one command
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=name)
        else:
            holder.command(name)(target)
        return typer.main.get_group(holder).commands[name]


def _no_options() -> None:
    pass


class _Commands(MutableMapping[str, Command]):
    """The group's commands by name: those added as Click does it, then the lazy ones, each imported
    on first access. The names alone (for an unknown command's "did you mean") import nothing."""

    def __init__(self, added: dict[str, Command], lazy: Mapping[str, Lazy], load: Callable[[str], Command]):
        self._added = added
        self._lazy = lazy
        self._load = load

    def loaded(self, name: str) -> bool:
        return name in self._added

    def __getitem__(self, name: str) -> Command:
        if name not in self._added:
            if name not in self._lazy:
                raise KeyError(name)
            self._added[name] = self._load(name)
        return self._added[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._added[name] = command

    def __delitem__(self, name: str) -> None:
        raise TypeError("a lazy group's commands are fixed by its mapping")

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._lazy, *self._added]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self._lazy, *self._added]))

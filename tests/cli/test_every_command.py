"""Every command, walked from the Typer app: its help works, and where it prints a result it can print
it as JSON that parses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer

from breachops.cli import app
from tests.cli import test_hostile_input as hostile
from tests.cli.test_hostile_input import run_cli

workspace = hostile.sqlite_workspace  # a fresh workspace made by `breachops init`


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    """Walked as Click resolves them (``list_commands``, ``get_command``), so that the root group's
    commands, imported only when used, are each loaded and found."""
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(path: tuple[str, ...], command: Any, ctx: typer.Context) -> None:
        found.append((path, command))
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                walk((*path, name), sub, typer.Context(sub, info_name=name, parent=ctx))

    root = typer.main.get_command(app)
    walk((), root, typer.Context(root, info_name="breachops"))
    return found


COMMANDS = _commands()
LEAVES = [(path, c) for path, c in COMMANDS if path and not hasattr(c, "commands")]

# The commands that print a result: the test below fails when one of them loses --format.
PRINTS_A_RESULT = {
    ("deadlines",), ("rules", "list"), ("rules", "show"), ("incident", "open"), ("incident", "list"),
    ("incident", "show"), ("step", "done"), ("outbox", "list"), ("outbox", "show"), ("drill", "list"),
    ("drill", "report"), ("drill", "unschedule"), ("audit", "verify"), ("audit", "export"), ("notify", "test"), ("status",),
    ("incident", "internal"), ("incident", "share"),
    ("actions", "list"), ("actions", "update"), ("actions", "close"), ("actions", "export"),
}  # fmt: skip


def test_the_walk_finds_the_commands_people_use() -> None:
    names = {" ".join(path) for path, _ in LEAVES}
    assert {"incident open", "step done", "drill advance", "audit verify", "outbox show"} <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "breachops")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    code, out, err = run_cli(*path, "--help")
    assert code == 0, err
    assert "Usage:" in out
    assert "Traceback" not in out + err


@pytest.mark.parametrize("path", sorted(PRINTS_A_RESULT), ids=" ".join)
def test_every_command_that_prints_a_result_offers_json(path: tuple[str, ...]) -> None:
    command = dict(COMMANDS)[path]
    formats = [p for p in command.params if "--format" in getattr(p, "opts", [])]
    assert formats, f"`breachops {' '.join(path)}` has no --format"
    code, out, err = run_cli(*path, "--help")
    assert code == 0 and "json" in out, err


FACTS = hostile.FACTS
STEP_BY = ("freeze-access", "tiago.rocha@horizonte.example")


def test_json_of_each_command_parses(workspace: Path) -> None:
    incident = hostile.open_incident()
    runs: list[tuple[str, ...]] = [
        ("deadlines", FACTS),
        ("rules", "list"),
        ("incident", "list"),
        ("incident", "show", incident),
        ("step", "done", incident, STEP_BY[0], "--by", STEP_BY[1]),
        ("incident", "internal", incident, "--fact", "risk", "--by", STEP_BY[1]),
        ("incident", "share", incident, "--fact", "risk", "--by", STEP_BY[1]),
        ("actions", "list"),
        ("outbox", "list"),
        ("drill", "list"),
        ("audit", "export", incident, "--output", str(workspace / "export.jsonl")),
        ("notify", "test", "--to", "jana.weber@nordlicht.example"),
    ]
    for args in runs:
        code, out, err = run_cli(*args, "--format", "json")
        assert code == 0, (args, err)
        json.loads(out)  # the whole of standard output is one JSON document

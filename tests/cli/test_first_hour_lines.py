"""A newcomer's first hour, with output piped: `breachops … 2>&1 | tee log` shows every line whole and
in the order the command wrote it; a note on standard error never lands inside a line of the result."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from breachops.cli import main
from tests.cli import test_hostile_input as hostile
from tests.cli.test_hostile_input import FACTS, start_drill

workspace = hostile.sqlite_workspace  # a fresh workspace made by `breachops init`

LEAD = "rafael.costa@horizonte.example"


def run_piped(*args: str) -> tuple[int, str, str, str]:
    """``breachops ARGS`` with standard output and standard error in one pipe, as ``2>&1`` makes them:
    exit status, standard output, standard error, and the two as the reader receives them."""
    runner = CliRunner()
    with runner.isolation() as (stdout, stderr, both):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        return code, *(s.getvalue().decode("utf-8", "replace") for s in (stdout, stderr, both))  # type: ignore[return-value]


def _check(args: tuple[str, ...]) -> tuple[str, str, str]:
    code, out, err, both = run_piped(*args)
    assert code == 0, (args, err)
    assert both, args
    for name, text in (("stdout", out), ("stderr", err), ("both", both)):
        assert not text or text.endswith("\n"), (args, name, text[-80:])
    # Every line the reader gets is a whole line the command wrote to one stream or the other.
    assert Counter(both.splitlines()) == Counter(out.splitlines() + err.splitlines()), args
    return out, err, both


def test_the_walk_through_prints_whole_lines_in_order_when_piped(workspace: Path) -> None:
    out, _, _ = _check(("incident", "open", FACTS, "--no-flow", "--by", LEAD))
    incident = out.split()[0]
    assert incident.startswith("INC-")
    walk: list[tuple[str, ...]] = [
        ("deadlines", FACTS),
        ("deadlines", FACTS, "--format", "json"),
        ("incident", "open", FACTS, "--no-flow", "--format", "json"),  # not a contact: a note, then JSON
        ("incident", "list"),
        ("incident", "show", incident),
        ("incident", "show", incident, "--format", "json"),
        ("incident", "facts", incident, "--set", "risk=high", "--by", LEAD),
        ("step", "done", incident, "freeze-access", "--by", "tiago.rocha@horizonte.example"),
        ("outbox", "list"),
        ("audit", "verify", incident),
        ("rules", "list", "--jurisdiction", "DE"),
        ("drill", "list"),
        ("incident", "close", incident, "--reason", "contained", "--accept-pending", "--by", LEAD),
    ]
    for args in walk:
        _check(args)


def test_a_note_after_the_result_comes_after_it(workspace: Path) -> None:
    drill = start_drill(workspace)
    for fmt in ("table", "json"):
        out, err, both = _check(
            ("step", "done", drill, "freeze-access" if fmt == "table" else "preserve-evidence", "--by",
             "tiago.rocha@horizonte.example", "--set", "evidence_links=https://example.org/e",
             "--set", "legal_hold=yes", "--format", fmt)
        ) if fmt == "json" else _check(
            ("step", "done", drill, "freeze-access", "--by", "tiago.rocha@horizonte.example")
        )  # fmt: skip
        note = "answer recorded; the drill takes it on its next tick"
        assert note in err
        # The result was written first, so the reader gets it first.
        assert both.index(out.splitlines()[-1]) < both.index(note), both

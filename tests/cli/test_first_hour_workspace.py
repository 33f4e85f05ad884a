"""Workspace discovery, as git finds its repository: the nearest `.breachops/` in the current folder
or a parent, or BREACHOPS_WORKSPACE. Outside one, every command but `init`, `deadlines` and `rules`
refuses in one line (exit 2) and writes nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
REFUSAL = "not in a breachops workspace: run `breachops init` or set BREACHOPS_WORKSPACE"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"COLUMNS": "200", "PYTHONPATH": str(ROOT)})
    return env


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "breachops", *args],
        env=env or _env(), cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def tree(folder: Path) -> set[Path]:
    return {p.relative_to(folder) for p in folder.rglob("*")}


@pytest.mark.parametrize(
    "args",
    [
        ("incident", "list"),
        ("incident", "open", str(EXAMPLES / "facts.yaml"), "--no-flow"),
        ("incident", "show", "INC-2026-0001"),
        ("incident", "close", "INC-2026-0001", "--reason", "x"),
        ("step", "done", "INC-2026-0001", "contain", "--by", "a@example.com"),
        ("audit", "verify", "--all"),
        ("outbox", "list"),
        ("notify", "test", "--to", "a@example.com"),
        ("drill", "list"),
        ("drill", "show", "DRILL-2026-0001"),
        ("status",),
        ("stop",),
        ("serve",),
        ("web",),
    ],
    ids=lambda a: " ".join(a[:2]) if len(a) > 1 else a[0],
)
def test_outside_a_workspace_a_command_refuses_in_one_line_and_writes_nothing(tmp_path, args):
    before = tree(tmp_path)
    result = run(tmp_path, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == f"error: {REFUSAL}"
    assert result.stdout == ""
    assert tree(tmp_path) == before  # no .breachops/breachops.db made on the way


def test_deadlines_and_rules_work_anywhere_and_write_nothing(tmp_path):
    result = run(tmp_path, "deadlines", str(EXAMPLES / "facts.yaml"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "no agreement: contractual duties not included" in result.stderr
    assert run(tmp_path, "rules", "show", "eu-gdpr-art33-authority").returncode == 0
    assert tree(tmp_path) == set()


def test_a_workspace_is_found_from_a_subfolder_as_git_finds_its_repository(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    below = tmp_path / "notes" / "2026"
    below.mkdir(parents=True)
    opened = run(below, "incident", "open", str(EXAMPLES / "facts.yaml"), "--no-flow")
    assert opened.returncode == 0, opened.stderr
    listed = run(below, "incident", "list")
    assert listed.returncode == 0, listed.stderr
    assert "1 incident(s)" in listed.stdout
    assert not (below / ".breachops").exists()
    with sqlite3.connect(tmp_path / ".breachops" / "breachops.db") as db:
        assert db.execute("SELECT count(*) FROM incidents").fetchone()[0] == 1


def test_breachops_workspace_names_the_workspace_from_anywhere(tmp_path):
    workspace = tmp_path / "team" / ".breachops"
    env = {**_env(), "BREACHOPS_WORKSPACE": str(workspace)}
    assert run(tmp_path, "init", env=env).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert (
        run(elsewhere, "incident", "open", str(EXAMPLES / "facts.yaml"), "--no-flow", env=env).returncode == 0
    )
    assert "1 incident(s)" in run(elsewhere, "incident", "list", env=env).stdout
    assert tree(elsewhere) == set()


def test_init_makes_the_workspace_here_not_in_a_parent(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    child = tmp_path / "other-team"
    child.mkdir()
    result = run(child, "init")
    assert result.returncode == 0, result.stderr
    assert (child / ".breachops" / "agreement.yaml").is_file()

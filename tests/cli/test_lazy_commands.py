"""The root group imports a command's module only when that command is used (``commands/lazy.py``):
importing the CLI and listing its commands load none of the store, the flows or the web console, and
every name it lists is a real command whose help the listing shows."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from breachops.cli import COMMANDS, app
from tests.cli.test_hostile_input import FACTS, run_cli

ROOT = Path(__file__).resolve().parents[2]
# What only some commands need: the store's ORM, Prefect, the web console, templates, calendars.
HEAVY = {"prefect", "apscheduler", "sqlalchemy", "fastapi", "starlette", "jinja2", "icalendar", "holidays"}


def _loaded_after(code: str) -> dict[str, list[str]]:
    """Run ``code`` in a fresh interpreter; then the heavy packages and the command modules it loaded
    (printed at exit, so that a command's ``sys.exit`` still reports)."""
    script = (
        "import atexit, json, sys\n"
        "def report():\n"
        f"    heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(HEAVY)!r}))\n"
        "    commands = sorted(m for m in sys.modules if m.startswith('breachops.commands.'))\n"
        "    print(json.dumps({'heavy': heavy, 'commands': commands}), file=sys.__stderr__)\n"
        "atexit.register(report)\n" + code
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env["PYTHONPATH"] = str(ROOT)  # this checkout, wherever the command runs
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env
    )
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_prefect_orm_web_console_or_command_module():
    loaded = _loaded_after("import breachops.cli")
    assert loaded == {
        "heavy": [],
        "commands": ["breachops.commands.common", "breachops.commands.lazy"],
    }


def test_listing_the_commands_imports_none_of_them():
    loaded = _loaded_after("from breachops.cli import main\nmain(['--help'])")
    assert loaded["commands"] == ["breachops.commands.common", "breachops.commands.lazy"]
    assert loaded["heavy"] == []


@pytest.mark.parametrize(
    ("argv", "module", "allowed"),
    [
        (["rules", "list", "--format", "json"], "breachops.commands.rules", set()),
        (["rules", "coverage", "--format", "json"], "breachops.commands.rules", set()),
        # Brazil's window is business days: its holiday calendar is needed, and nothing else heavy.
        (["deadlines", FACTS, "--format", "json"], "breachops.commands.deadlines", {"holidays"}),
    ],
    ids=["rules list", "rules coverage", "deadlines"],
)
def test_a_command_that_reads_files_imports_its_module_and_no_store(
    argv: list[str], module: str, allowed: set[str], tmp_path: Path
):
    code = f"import os\nos.chdir({str(tmp_path)!r})\nfrom breachops.cli import main\nmain({argv!r})"
    loaded = _loaded_after(code)
    assert module in loaded["commands"]
    assert "breachops.commands.incidents" not in loaded["commands"]
    assert set(loaded["heavy"]) <= allowed


def _root() -> tuple[typer.core.TyperGroup, typer.Context]:
    root = typer.main.get_command(app)
    assert isinstance(root, typer.core.TyperGroup)
    return root, typer.Context(root, info_name="breachops")


def test_every_registered_name_resolves_to_a_real_command_with_the_summary_the_listing_shows():
    root, ctx = _root()
    assert root.list_commands(ctx) == list(COMMANDS)
    for name, lazy in COMMANDS.items():
        command = root.get_command(ctx, name)
        assert command is not None and command.name == name, name
        assert command.callback is not None or isinstance(command, typer.core.TyperGroup), name
        first_paragraph = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
        assert lazy.summary == first_paragraph, f"COMMANDS[{name!r}].summary differs from its help"


def test_the_listing_names_every_command_with_its_summary():
    code, out, err = run_cli("--help")
    assert code == 0, err
    for name in COMMANDS:
        assert f"│ {name} " in out, name
    assert "Open, follow and close incidents." in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rulez"], "breachops: No such command 'rulez'. Did you mean 'rules'? See `breachops --help`."),
        (["nothing-like-it"], "breachops: No such command 'nothing-like-it'. See `breachops --help`."),
        (["rules", "lst"], "breachops rules: No such command 'lst'. Did you mean 'list'?"),
    ],
    ids=" ".join,
)
def test_an_unknown_command_gets_clicks_error_in_one_line_and_status_2(argv: list[str], message: str):
    code, out, err = run_cli(*argv)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err

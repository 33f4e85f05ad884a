"""Only flows/ knows Prefect and APScheduler, and only store/ knows SQLAlchemy (DESIGN.md, "Layers"):
every other module leaves them to flows/, the composition root or the store, so the CLI and the console
start without paying for Prefect, and every statement the database sees is in one place."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "breachops"
RUNTIMES = ("prefect", "apscheduler")


def _outside_flows() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if "flows" not in path.relative_to(PACKAGE).parts[:1] and path.name != "bootstrap.py"
    ]


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_module_outside_flows_and_the_composition_root_imports_prefect_or_apscheduler():
    found = {
        str(path.relative_to(PACKAGE)): sorted(n for n in _imported(path) if n.split(".")[0] in RUNTIMES)
        for path in _outside_flows()
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_no_module_outside_the_store_imports_sqlalchemy():
    found = {
        str(path.relative_to(PACKAGE)): sorted(n for n in _imported(path) if n.split(".")[0] == "sqlalchemy")
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] != "store"
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_importing_the_cli_the_console_and_the_services_loads_no_prefect():
    modules = [
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in _outside_flows()
        if path.name != "__main__.py" and "migrations" not in path.parts  # alembic runs those itself
    ]
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'prefect'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        cwd=PACKAGE.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []

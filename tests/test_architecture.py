"""The package stays walkable (DESIGN.md, "Folder layout"): no module passes 450 lines, no run of six
lines is written twice (migrations, ``__all__`` lists and import lines aside), and no module docstring
passes eight lines: longer notes live in docs/, and every page the code or the docs name exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "breachops"
DOCS = ROOT / "docs"
MAX_LINES = 450
RUN = 6
MAX_DOCSTRING_LINES = 8
_DOCS_PAGE = re.compile(r"\bdocs/([\w.-]+\.md)\b")  # a page named from the code or the README
_PAGE_LINK = re.compile(r"\]\(([\w.-]+\.md)(?:#[\w-]*)?\)")  # a Markdown link from one page to another


def _modules() -> list[Path]:
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.relative_to(PACKAGE).parts]


def _counted_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, stripped text) of the lines that count as code: not blank, not a comment, not an
    import, not inside an ``__all__`` list."""
    text = path.read_text(encoding="utf-8")
    skipped: set[int] = set()
    for node in ast.walk(ast.parse(text, str(path))):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
        ) or isinstance(node, ast.Import | ast.ImportFrom):
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#") and number not in skipped
    ]


def repeated_runs(paths: list[Path], root: Path) -> list[list[str]]:
    """Each run of ``RUN`` counted lines that stands in two places or more, as ``file:first-last`` places.
    A run of mostly closing brackets and keywords is not a repetition worth naming."""
    places: dict[tuple[str, ...], list[str]] = {}
    for path in paths:
        lines = _counted_lines(path)
        for start in range(len(lines) - RUN + 1):
            run = lines[start : start + RUN]
            text = tuple(line for _, line in run)
            if sum(len(line) >= 12 for line in text) < 3:
                continue
            places.setdefault(text, []).append(f"{path.relative_to(root)}:{run[0][0]}-{run[-1][0]}")
    return [found for found in places.values() if len(found) > 1]


def test_no_module_passes_450_lines():
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}


def test_no_run_of_six_lines_is_written_twice():
    assert repeated_runs(_modules(), PACKAGE) == []


def test_the_repetition_check_finds_a_copied_block(tmp_path):
    block = "\n".join(f"    value_{i} = compute_something({i}, argument)" for i in range(RUN))
    (tmp_path / "a.py").write_text(f"def a(argument):\n{block}\n", encoding="utf-8")
    (tmp_path / "b.py").write_text(f"import os\n\n\ndef b(argument):\n{block}\n", encoding="utf-8")
    assert repeated_runs(sorted(tmp_path.glob("*.py")), tmp_path) == [["a.py:2-7", "b.py:5-10"]]


def long_docstrings(paths: list[Path], root: Path) -> dict[str, int]:
    """Modules whose docstring passes ``MAX_DOCSTRING_LINES``, with its length in lines."""
    found = {}
    for path in paths:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if doc is not None and len(doc.splitlines()) > MAX_DOCSTRING_LINES:
            found[str(path.relative_to(root))] = len(doc.splitlines())
    return found


def test_no_module_docstring_passes_eight_lines():
    assert long_docstrings(sorted(PACKAGE.rglob("*.py")), PACKAGE) == {}


def test_the_docstring_check_finds_a_long_one(tmp_path):
    (tmp_path / "short.py").write_text('"""One line.\n\nAnd a note."""\n', encoding="utf-8")
    (tmp_path / "long.py").write_text('"""' + "\n".join(["line"] * 9) + '"""\n', encoding="utf-8")
    assert long_docstrings(sorted(tmp_path.glob("*.py")), tmp_path) == {"long.py": 9}


def test_every_docs_page_the_package_or_the_readme_names_exists():
    sources = [*sorted(PACKAGE.rglob("*.py")), ROOT / "README.md"]
    named = {
        f"{path.relative_to(ROOT)}: docs/{page}"
        for path in sources
        for page in _DOCS_PAGE.findall(path.read_text(encoding="utf-8"))
    }
    assert named, "no docs page named anywhere: the pattern has gone stale"
    assert {entry for entry in named if not (DOCS / entry.rsplit("docs/", 1)[1]).is_file()} == set()


def test_every_link_between_docs_pages_leads_to_a_page():
    links = {
        f"{page.name} → {target}"
        for page in sorted(DOCS.glob("*.md"))
        for target in _PAGE_LINK.findall(page.read_text(encoding="utf-8"))
    }
    assert {link for link in links if not (DOCS / link.split(" → ")[1]).is_file()} == set()

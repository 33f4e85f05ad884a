"""Finding definition files (playbooks, scenarios): by path, or by name in the workspace's folders
and then in the shipped package folder, a workspace file shadowing a shipped one of the same name."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from breachops.errors import InputError

__all__ = ["YAML_SUFFIXES", "find_named", "looks_like_path", "shipped_files", "yaml_files_in"]

YAML_SUFFIXES = (".yaml", ".yml")


def shipped_files(subfolder: str) -> list[Path]:
    """The YAML files of a folder shipped inside ``breachops.playbooks``."""
    folder = resources.files("breachops.playbooks") / subfolder
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(YAML_SUFFIXES))


def yaml_files_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(YAML_SUFFIXES))


def looks_like_path(value: str | Path) -> bool:
    text = str(value)
    return isinstance(value, Path) or "/" in text or "\\" in text or text.endswith(YAML_SUFFIXES)


def find_named(
    name_or_path: str | Path,
    search: Sequence[str | Path],
    shipped: Sequence[Path],
    kind: str,
    shipped_as: str,
) -> Path:
    """The file a path or a name refers to: ``search`` folders in order, then ``shipped``.
    InputError naming the ``kind`` and listing the known names when there is none."""
    if looks_like_path(name_or_path):
        return Path(name_or_path)
    name = str(name_or_path)
    candidates = [*(p for folder in search for p in yaml_files_in(Path(folder))), *shipped]
    for candidate in candidates:
        if candidate.stem == name:
            return candidate
    known = sorted({p.stem for p in candidates})
    where = ", ".join(str(Path(s)) for s in search)
    raise InputError(
        None,
        kind,
        name,
        f"no {kind} named {name!r} in {where + ' or ' if where else ''}{shipped_as}",
        f"Known {kind}s: {', '.join(known)}." if known else None,
    )

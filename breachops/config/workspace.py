"""A workspace: the folder holding a team's settings, agreement, playbooks, database and outbox."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

__all__ = ["init_workspace"]


def init_workspace(workspace: Path, playbook_files: list[Path]) -> list[Path]:
    """Create the workspace with files to edit; existing files are left as they are.

    Returns the files written.
    """
    workspace.mkdir(parents=True, exist_ok=True)
    samples = resources.files("breachops.config") / "samples"
    written: list[Path] = []
    for name in ("settings.yaml", "agreement.yaml"):
        target = workspace / name
        if not target.exists():
            target.write_text((samples / name).read_text(encoding="utf-8"), encoding="utf-8")
            written.append(target)
    (workspace / "playbooks").mkdir(exist_ok=True)
    for source in playbook_files:
        target = workspace / "playbooks" / source.name
        if not target.exists():
            shutil.copyfile(source, target)
            written.append(target)
    (workspace / "rules").mkdir(exist_ok=True)
    return written

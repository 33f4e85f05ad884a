"""A workspace: the folder holding a team's settings, agreement, playbooks, database and outbox."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from breachops.config.audit_key import KEY_BLOCK_ENV, KEY_FILE, load_audit_key
from breachops.files import create_private, private_dir

__all__ = ["init_workspace"]


def init_workspace(workspace: Path, playbook_files: list[Path]) -> list[Path]:
    """Create the workspace (0700) with files to edit (0600) and the audit key, unless a Secret block
    holds it (``BREACHOPS_AUDIT_KEY_BLOCK``); existing files are left as they are.

    Returns the files written.
    """
    private_dir(workspace)
    samples = resources.files("breachops.config") / "samples"
    written: list[Path] = []
    for name in ("settings.yaml", "agreement.yaml"):
        target = workspace / name
        if create_private(target, (samples / name).read_text(encoding="utf-8")):
            written.append(target)
    private_dir(workspace / "playbooks")
    for source in playbook_files:
        target = workspace / "playbooks" / source.name
        if create_private(target, source.read_bytes()):
            written.append(target)
    private_dir(workspace / "rules")
    if not os.environ.get(KEY_BLOCK_ENV) and not (workspace / KEY_FILE).exists():
        load_audit_key(workspace, {}, create=True)
        written.append(workspace / KEY_FILE)
    return written

"""A workspace: the folder holding a team's settings, agreement, playbooks, database and outbox."""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from breachops.config.audit_key import KEY_BLOCK_ENV, KEY_FILE, load_audit_key
from breachops.errors import InputError
from breachops.files import create_private, private_dir

__all__ = ["WORKSPACE_DIR", "WORKSPACE_ENV", "NotInWorkspace", "find_workspace", "init_workspace"]

WORKSPACE_DIR = ".breachops"
WORKSPACE_ENV = "BREACHOPS_WORKSPACE"


class NotInWorkspace(InputError):
    """A command that keeps records ran where no workspace is: it refuses before writing anything,
    rather than creating a database in whatever folder it happened to run in."""

    def __init__(self) -> None:
        super().__init__(
            None, None, None, f"not in a breachops workspace: run `breachops init` or set {WORKSPACE_ENV}"
        )


def find_workspace(start: Path | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The workspace this process works in, found as git finds its repository: ``BREACHOPS_WORKSPACE``
    if set (it may not exist yet: naming it is the choice), else the nearest ``.breachops/`` folder
    in ``start`` (the current folder) or one of its parents; None when there is neither."""
    env = os.environ if environ is None else environ
    named = env.get(WORKSPACE_ENV)
    if named:
        return Path(named)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / WORKSPACE_DIR
        if candidate.is_dir():
            return candidate
    return None


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

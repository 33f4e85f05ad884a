"""Whether the workspace folder a background process was started for still exists.

A process keeps the folder open while it runs: once the folder is deleted its link count drops to
zero, and while it is held open its inode number cannot be reused by a new folder of the same name,
so a replaced workspace is told apart from the original too. Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["WorkspaceWatch"]


class WorkspaceWatch:
    def __init__(self, workspace: Path):
        self.path = workspace.resolve()
        try:
            self._fd: int | None = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            self._fd = None

    @property
    def gone(self) -> bool:
        """True once the folder this process started with is no longer at its path."""
        if self._fd is None:
            return True
        try:
            held = os.fstat(self._fd)
            there = os.stat(self.path)
        except OSError:
            return True
        return held.st_nlink == 0 or (there.st_dev, there.st_ino) != (held.st_dev, held.st_ino)

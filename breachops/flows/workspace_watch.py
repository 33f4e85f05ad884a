"""Whether the workspace folder a background process was started for still exists.

A process remembers the folder's inode when it starts; once the folder is deleted (or replaced by a
new one of the same name) the process has nothing left to serve and ends. Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["WorkspaceWatch"]


class WorkspaceWatch:
    def __init__(self, workspace: Path):
        self.path = workspace.resolve()
        self._identity = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    @property
    def gone(self) -> bool:
        """True once the folder this process started with is no longer at its path."""
        return self._identity is None or self._stat() != self._identity

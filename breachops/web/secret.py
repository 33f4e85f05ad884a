"""The workspace secret that signs step links and CSRF tokens: 32 random bytes in ``web.key``.

Made at ``breachops init`` or when first needed, private (0600) whatever the umask, written through a
new file and a rename so a crash never leaves half a key. It is never logged or shown.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["SECRET_FILE", "workspace_secret"]

SECRET_FILE = "web.key"
_SIZE = 32


def workspace_secret(workspace: Path) -> bytes:
    """The workspace's secret, created on first need."""
    path = workspace / SECRET_FILE
    try:
        value = path.read_bytes()
        if len(value) >= _SIZE:
            return value
    except FileNotFoundError:
        pass
    workspace.mkdir(parents=True, exist_ok=True)
    temporary = workspace / f".{SECRET_FILE}.{secrets.token_hex(6)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(_SIZE))
        os.fchmod(fd, 0o600)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)  # fails if another process made it meanwhile: theirs wins
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_bytes()

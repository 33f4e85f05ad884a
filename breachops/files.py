"""Private files: every file breachops writes is 0600 and every folder it makes 0700, whatever the umask.

A workspace holds the database, the audit key, the agreement and mail with incident details: nobody
else on the machine should read them. Writes go through a new temporary file in the target's folder,
opened with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (a file or symlink planted under that name makes the open
fail instead of being followed), and are then renamed into place; a rename replaces the directory entry
and never writes through a symlink standing at the target, so a reader sees the old file or the new one,
never half of one, and never a file outside the folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "create_private",
    "open_private_append",
    "private_dir",
    "private_file",
    "write_private",
]

FILE_MODE = 0o600
DIR_MODE = 0o700
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents 0700, and make ``path`` itself 0700. A parent that
    already exists keeps its mode: it may be the user's home or a shared project folder."""
    path = Path(path)
    missing = []
    here = path
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            folder.mkdir(mode=DIR_MODE)
            folder.chmod(DIR_MODE)  # mkdir's mode passes through the umask
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        path.chmod(DIR_MODE)
    return path


def _temp_fd(folder: Path, name: str) -> tuple[int, Path]:
    """A new, empty 0600 file next to the target, opened exclusively and without following links."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, flags, FILE_MODE)
        except FileExistsError:
            continue  # someone holds this name (or planted a link there): draw another
        os.fchmod(fd, FILE_MODE)  # the umask may have taken bits away; never adds any here
        return fd, tmp
    raise FileExistsError(f"could not create a temporary file in {folder}")


@contextlib.contextmanager
def private_file(path: Path, *, replace: bool = True) -> Iterator[IO[bytes]]:
    """Write ``path`` through a handle: a new temporary file, renamed into place when the block ends
    without an error (and removed if it raises). ``replace=False`` refuses to replace an existing
    file (``FileExistsError``), atomically: the file is linked into place, never renamed over one."""
    path = Path(path)
    folder = path.parent
    if not folder.exists():
        private_dir(folder)
    fd, tmp = _temp_fd(folder, path.name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails with FileExistsError when the name is taken, link or not
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_private(path: Path, data: bytes | str) -> Path:
    """Replace ``path`` with ``data`` (text as UTF-8), 0600, atomically."""
    with private_file(path) as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def create_private(path: Path, data: bytes | str) -> bool:
    """Create ``path`` holding ``data`` unless it exists; return whether this call created it. Two
    processes racing leave one whole file, never a mix."""
    try:
        with private_file(path, replace=False) as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
    except FileExistsError:
        return False
    return True


def open_private_append(path: Path) -> IO[bytes]:
    """A log file opened for appending, created 0600; a symlink at ``path`` is refused, not followed."""
    path = Path(path)
    if not path.parent.exists():
        private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "ab")

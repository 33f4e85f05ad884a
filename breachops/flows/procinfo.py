"""What /proc says about a background process: alive, since when, how much memory (Linux only).

Only the standard library: the watchdog imports this and must stay small.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessInfo", "alive", "process_info"]

_PROC = Path("/proc")


def alive(pid: int | None) -> bool:
    """Whether ``pid`` exists and is not a zombie waiting to be reaped."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = _stat(pid)
    return stat is None or stat[0] != "Z"


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    uptime_seconds: float | None
    rss_bytes: int | None  # the process and every process of its session (a server's children count)


def process_info(pid: int) -> ProcessInfo | None:
    if not alive(pid):
        return None
    stat = _stat(pid)
    uptime = None
    if stat is not None:
        ticks = os.sysconf("SC_CLK_TCK")
        try:
            boot_uptime = float((_PROC / "uptime").read_text().split()[0])
            uptime = max(0.0, boot_uptime - int(stat[19]) / ticks)
        except (OSError, ValueError, IndexError):
            uptime = None
    return ProcessInfo(pid=pid, uptime_seconds=uptime, rss_bytes=_session_rss(pid, stat))


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat from the state field on (the name in parentheses may hold spaces)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()


def _rss(pid: int) -> int | None:
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return 0


def _session_rss(pid: int, stat: list[str] | None) -> int | None:
    """The RSS of ``pid``, plus that of the other processes of its session when it leads one."""
    own = _rss(pid)
    if stat is None or int(stat[3]) != pid:  # stat[3]: the session id
        return own
    total = own or 0
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == pid:
            continue
        other = _stat(int(entry.name))
        if other is not None and int(other[3]) == pid:
            total += _rss(int(entry.name)) or 0
    return total

"""What a running `breachops serve` says about itself, in its workspace folder.

``serve.lock`` (one `serve` per folder, not per database), ``serve.json`` (pid, Prefect API, start time
and settings, never a secret) and ``serve.heartbeat`` (last tick and last contact with Prefect, so a
stalled `serve` shows as such while its process lives). docs/runtime.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Mapping
from email.utils import formataddr
from pathlib import Path
from typing import IO, Any

from breachops.errors import InputError
from breachops.files import write_private
from breachops.flows.procinfo import alive

__all__ = [
    "AlreadyServing",
    "Heartbeat",
    "acquire_serve_lock",
    "read_heartbeat",
    "read_serve_record",
    "remove_serve_record",
    "running_pid",
    "settings_differences",
    "shell_settings",
    "write_serve_record",
]

RECORD = "serve.json"
LOCK = "serve.lock"
HEARTBEAT = "serve.heartbeat"


class AlreadyServing(RuntimeError):
    def __init__(self, workspace: Path, pid: int | None):
        self.pid = pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"`breachops serve` already runs for {workspace} ({who}); `breachops stop` ends it")


def acquire_serve_lock(workspace: Path) -> IO[str]:
    """Take the workspace's serve lock for the life of this process (keep the returned handle open)."""
    path = workspace.resolve() / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        text = handle.read().strip()
        handle.close()
        raise AlreadyServing(workspace.resolve(), int(text) if text.isdigit() else None) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """A private file (0600), written whole: readers never see half of it."""
    write_private(path, json.dumps(data))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_serve_record(workspace: Path, api_url: str, mode: str, settings: Mapping[str, Any]) -> None:
    record = {
        "pid": os.getpid(),
        "api_url": api_url,
        "mode": mode,
        "started": time.time(),
        "settings": dict(settings),
        "wake_signal": "SIGUSR1",  # polls at once on this signal (see serve.py)
    }
    _write_json(workspace.resolve() / RECORD, record)


def read_serve_record(workspace: Path) -> dict[str, Any] | None:
    return _read_json(workspace.resolve() / RECORD)


def running_pid(workspace: Path) -> int | None:
    """The pid of this workspace's `serve`, if it is alive."""
    record = read_serve_record(workspace)
    try:
        pid = int((record or {})["pid"])
    except (KeyError, TypeError, ValueError):
        return None
    return pid if alive(pid) else None


def remove_serve_record(workspace: Path) -> None:
    with contextlib.suppress(OSError):
        if (read_serve_record(workspace) or {}).get("pid") == os.getpid():
            (workspace.resolve() / RECORD).unlink()


class Heartbeat:
    """The heartbeat file: written at most once a second, and at once when Prefect's reachability changes."""

    def __init__(self, workspace: Path):
        self.path = workspace.resolve() / HEARTBEAT
        self.prefect_ok_at: float | None = None
        self.prefect_error: str | None = None
        self.prefect_restarts = 0
        self._written = 0.0

    def prefect_ok(self) -> None:
        changed = self.prefect_error is not None
        self.prefect_ok_at, self.prefect_error = time.time(), None
        if changed:
            self.beat(force=True)

    def prefect_failed(self, error: str) -> None:
        changed = self.prefect_error is None
        self.prefect_error = error[:300]
        if changed:
            self.beat(force=True)

    def beat(self, *, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._written < 1.0:
            return
        self._written = now
        with contextlib.suppress(OSError):  # a workspace being deleted: the next check ends serve
            _write_json(
                self.path,
                {
                    "pid": os.getpid(),
                    "at": now,
                    "prefect_ok_at": self.prefect_ok_at,
                    "prefect_error": self.prefect_error,
                    "prefect_restarts": self.prefect_restarts,
                },
            )


def read_heartbeat(workspace: Path) -> dict[str, Any] | None:
    return _read_json(workspace.resolve() / HEARTBEAT)


def shell_settings(database_url: str, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings that decide what `serve` does, as this environment gives them (never a secret)."""
    from breachops.bootstrap import shown_mail_settings
    from breachops.store.database import redacted_url

    env = os.environ if environ is None else environ
    settings: dict[str, Any] = {"database_url": redacted_url(database_url)}
    try:
        mail = shown_mail_settings(env)
    except InputError as exc:
        settings["mail_error"] = str(exc)
        return settings
    settings.update(
        {
            "mail_channel": mail.channel,
            "mail_fallback": mail.fallback,
            "mail_from": formataddr(mail.mail_from),
            "smtp_host": f"{mail.smtp_host}:{mail.smtp_port}" if mail.smtp_host else None,
            "sendgrid_secret_block": env.get("BREACHOPS_SENDGRID_SECRET_BLOCK") or None,
        }
    )
    return settings


def settings_differences(running: Mapping[str, Any], shell: Mapping[str, Any]) -> list[str]:
    """``name: running → shell`` for each setting that differs."""
    return [
        f"{key} {running.get(key)!s} → {shell.get(key)!s}"
        for key in sorted(set(running) | set(shell))
        if running.get(key) != shell.get(key)
    ]

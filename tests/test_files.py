"""Private files: folders 0700, files 0600 whatever the umask, written whole, never through a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from breachops.files import create_private, open_private_append, write_private


def test_private_writes_make_missing_folders_0700_and_files_0600_under_umask_000(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        target = write_private(tmp_path / "a" / "b" / "out.json", "{}\n")
        write_private(target, "[]\n")  # replaced whole, still private
    finally:
        os.umask(old)
    assert [stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "a", tmp_path / "a" / "b", target)] == [
        0o700,
        0o700,
        0o600,
    ]
    assert target.read_text() == "[]\n" and [p.name for p in target.parent.iterdir()] == ["out.json"]


def test_create_private_refuses_to_replace_a_file_or_follow_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "key").symlink_to(victim)
    assert create_private(tmp_path / "key", "new") is False
    assert victim.read_text() == "keep"
    assert create_private(tmp_path / "fresh", "new") is True
    assert create_private(tmp_path / "fresh", "other") is False
    assert (tmp_path / "fresh").read_text() == "new"


def test_a_log_opened_for_appending_refuses_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "serve.log").symlink_to(victim)
    with pytest.raises(OSError):
        open_private_append(tmp_path / "serve.log")
    with open_private_append(tmp_path / "other.log") as log:
        log.write(b"line\n")
    assert stat.S_IMODE((tmp_path / "other.log").stat().st_mode) == 0o600

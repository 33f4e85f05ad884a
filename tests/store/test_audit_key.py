"""The workspace's audit key: where it comes from, that it is created private, and that it never shows."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import pytest

from breachops.bootstrap import App
from breachops.config.audit_key import KEY_BLOCK_ENV, AuditKey, load_audit_key
from breachops.config.settings import Settings
from breachops.errors import InputError

HEX = "5a" * 32


def test_the_key_file_is_created_0600_under_umask_000_only_when_asked(tmp_path: Path) -> None:
    assert load_audit_key(tmp_path, {}) is None and not (tmp_path / "audit.key").exists()
    old = os.umask(0)
    try:
        key = load_audit_key(tmp_path, {}, create=True)
    finally:
        os.umask(old)
    path = tmp_path / "audit.key"
    assert key is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text().strip()
    assert len(text) == 64 and key.seal("00" * 32) == AuditKey(bytes.fromhex(text)).seal("00" * 32)
    assert load_audit_key(tmp_path, {}, create=True).seal("ab") == key.seal("ab")  # read, not remade


def test_a_secret_block_named_in_the_environment_wins_and_no_file_is_made(tmp_path: Path) -> None:
    asked: list[str] = []

    def block(name: str) -> str:
        asked.append(name)
        return HEX

    key = load_audit_key(tmp_path, {KEY_BLOCK_ENV: "breachops-audit-key"}, secret_block=block, create=True)
    assert asked == ["breachops-audit-key"]
    assert key is not None and key.seal("x") == AuditKey(bytes.fromhex(HEX)).seal("x")
    assert not (tmp_path / "audit.key").exists()


@pytest.mark.parametrize("value", ["too-short-to-be-a-key", ""])
def test_a_bad_or_empty_block_is_refused_without_showing_its_value(tmp_path: Path, value: str) -> None:
    with pytest.raises(InputError) as caught:
        load_audit_key(tmp_path, {KEY_BLOCK_ENV: "blk"}, secret_block=lambda _: value)
    if value:
        assert value not in str(caught.value)


def test_a_block_is_refused_where_blocks_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read here"):
        load_audit_key(tmp_path, {KEY_BLOCK_ENV: "blk"})


def test_the_key_never_shows_itself_and_cannot_be_pickled() -> None:
    key = AuditKey(bytes.fromhex(HEX))
    for shown in (repr(key), str(key), f"{key}"):
        assert "5a5a" not in shown and "********" in shown
    with pytest.raises(TypeError):
        pickle.dumps(key)


def test_seals_depend_on_the_key_and_the_hash() -> None:
    one, two = AuditKey(b"k" * 32), AuditKey(b"K" * 32)
    assert one.seal("a" * 64) != two.seal("a" * 64) != one.seal("b" * 64)
    assert one.check("a" * 64, one.seal("a" * 64)) and not two.check("a" * 64, one.seal("a" * 64))


def test_the_app_reads_the_block_through_flows_only_when_named(tmp_path: Path, monkeypatch) -> None:
    import breachops.flows.secret_blocks as blocks

    monkeypatch.setattr(blocks, "read_secret_block", lambda name, workspace: HEX)
    monkeypatch.setenv(KEY_BLOCK_ENV, "team-audit-key")
    app = App(Settings(workspace=tmp_path / "ws"))
    assert app.audit_key().seal("x") == AuditKey(bytes.fromhex(HEX)).seal("x")
    assert not (tmp_path / "ws" / "audit.key").exists()

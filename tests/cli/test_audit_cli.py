"""`breachops audit …` end to end on a workspace made under umask 000: private files, the key, verify
(one incident, --all, --witness) and export, against the attacks in docs/threat-model.md."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from breachops.bootstrap import App
from breachops.config.settings import Settings
from breachops.notifications.channels.outbox import OutboxChannel
from breachops.notifications.outbox import dispatch

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture
def workspace(tmp_path: Path):
    path = tmp_path / "ws"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BREACHOPS_"))}
    env.update({"BREACHOPS_WORKSPACE": str(path), "COLUMNS": "200"})

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breachops", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.umask(0),  # every file still private: the tool does not rely on it
        )

    assert cli("init").returncode == 0
    return path, cli


def open_one(cli) -> str:
    result = cli("incident", "open", str(EXAMPLES / "facts.yaml"), "--no-flow", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["incident"]


def send_outbox(path: Path) -> list[Path]:
    """Deliver the queued messages (incident opened, …) to the workspace's outbox folder."""
    old = os.umask(0)
    try:
        app = App(Settings(workspace=path))
        channel = OutboxChannel(path, clock=app.clock)
        dispatch(app, channel, app.clock.now() + timedelta(days=1), limit=500)
        app.engine.dispose()
    finally:
        os.umask(old)
    return sorted(channel.folder.glob("*.eml"))


def test_every_file_and_folder_is_private_under_umask_000(workspace, tmp_path):
    path, cli = workspace
    incident = open_one(cli)
    emls = send_outbox(path)
    assert cli("audit", "export", incident).returncode == 0
    folders = [path, path / "playbooks", path / "outbox", path / "evidence"]
    assert {f.name: mode(f) for f in folders} == {f.name: 0o700 for f in folders}
    files = [
        path / "settings.yaml", path / "agreement.yaml", path / "audit.key", path / "breachops.db",
        *path.glob("breachops.db-*"), *(path / "playbooks").glob("*.yaml"), *emls,
        *(path / "evidence").iterdir(),
    ]  # fmt: skip
    assert len(emls) >= 2 and len(list((path / "evidence").iterdir())) == 3
    assert {str(f): mode(f) for f in files} == {str(f): 0o600 for f in files}


def test_the_key_is_64_hex_digits_and_appears_in_no_record_or_message(workspace):
    path, cli = workspace
    key = (path / "audit.key").read_text().strip()
    assert len(key) == 64 and int(key, 16) >= 0
    incident = open_one(cli)
    emls = send_outbox(path)
    assert cli("audit", "export", incident).returncode == 0
    with sqlite3.connect(path / "breachops.db") as db:
        dump = "\n".join(db.iterdump())
    for text in [
        dump,
        *(e.read_text() for e in emls),
        *(f.read_text() for f in (path / "evidence").iterdir()),
    ]:
        assert key not in text and key.upper() not in text


def test_verify_says_sealed_and_in_the_ledger_then_catches_a_cut_tail_with_its_head(workspace):
    path, cli = workspace
    incident = open_one(cli)
    other = open_one(cli)
    ok = cli("audit", "verify", incident)
    assert ok.returncode == 0 and "chain intact, sealed and in the ledger" in ok.stdout
    with sqlite3.connect(path / "breachops.db") as db:
        last = db.execute("SELECT max(seq) FROM audit_events WHERE incident_id = ?", (incident,)).fetchone()[
            0
        ]
        db.execute("DELETE FROM audit_events WHERE incident_id = ? AND seq > ?", (incident, last - 2))
        db.execute("DELETE FROM audit_heads WHERE incident_id = ?", (incident,))
    broken = cli("audit", "verify", incident)
    assert broken.returncode == 1
    assert f"broken: {incident} seq {last - 1}: truncated" in broken.stderr
    everything = cli("audit", "verify", "--all", "--format", "json")
    assert everything.returncode == 1
    report = json.loads(everything.stdout)
    assert report["ledger"]["ok"] is True
    assert {r["incident"]: r["ok"] for r in report["incidents"]} == {incident: False, other: True}


def test_an_incident_deleted_with_its_whole_record_is_still_named(workspace):
    path, cli = workspace
    incident = open_one(cli)
    with sqlite3.connect(path / "breachops.db") as db:
        db.execute("PRAGMA foreign_keys=OFF")
        for table in ("audit_events", "fact_events", "steps", "obligations", "messages"):
            db.execute(f"DELETE FROM {table} WHERE incident_id = ?", (incident,))
        db.execute("DELETE FROM audit_heads WHERE incident_id = ?", (incident,))
        db.execute("DELETE FROM incidents WHERE id = ?", (incident,))
    result = cli("audit", "verify", incident)
    assert result.returncode == 1 and "truncated" in result.stderr
    assert cli("audit", "verify", "--all").returncode == 1


def test_a_witness_from_an_eml_is_proved_and_a_rewrite_with_the_key_is_caught_by_it(workspace):
    path, cli = workspace
    incident = open_one(cli)
    [eml, *_] = send_outbox(path)
    proved = cli("audit", "verify", incident, "--witness", str(eml))
    assert proved.returncode == 0, proved.stderr
    assert "is in the record" in proved.stdout
    # Someone holding both the database and the key rewrites the first event and reseals everything.
    from breachops.config.audit_key import load_audit_key
    from breachops.store.database import make_engine, session_factory
    from tests.store.helpers import forge_record

    with sqlite3.connect(path / "breachops.db") as db:
        db.execute(
            "UPDATE audit_events SET actor = 'mallory@example.org' WHERE incident_id = ? AND seq = 1",
            (incident,),
        )
    engine = make_engine(f"sqlite:///{path / 'breachops.db'}")
    forge_record(session_factory(engine), load_audit_key(path))
    engine.dispose()
    assert cli("audit", "verify", incident).returncode == 0  # the limit the witnesses are there for
    caught = cli("audit", "verify", incident, "--witness", str(eml))
    assert caught.returncode == 1
    assert "witness not in the record" in caught.stderr and "rewritten or cut back" in caught.stderr
    head = eml.read_text().split("X-Breachops-Audit-Head:")[1].split()[0]
    assert cli("audit", "verify", incident, "--witness", head).returncode == 1
    exported = cli("audit", "export", incident)
    assert exported.returncode == 1 and "not in the record" in exported.stderr
    found = json.loads((path / "evidence" / f"{incident}.jsonl.witnesses.json").read_text())["witnesses"]
    assert found and not any(w["in_record"] for w in found)


def test_export_never_follows_a_planted_symlink(workspace, tmp_path):
    _, cli = workspace
    incident = open_one(cli)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "exports"
    out.mkdir()
    target = out / "evidence.jsonl"
    for planted in (target, out / "evidence.jsonl.tmp", out / "evidence.jsonl.sha256"):
        planted.symlink_to(victim)
    result = cli("audit", "export", incident, "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert victim.read_text() == "precious\n"
    assert not target.is_symlink() and mode(target) == 0o600
    assert json.loads(target.read_text().splitlines()[0])["seq"] == 1
    assert (out / "evidence.jsonl.tmp").is_symlink()  # left alone, never written through


def test_a_lost_key_is_not_silently_replaced_while_sealed_events_exist(workspace):
    path, cli = workspace
    incident = open_one(cli)
    (path / "audit.key").unlink()
    result = cli("audit", "verify", incident)
    assert result.returncode == 2
    assert "audit key is missing" in result.stderr and "Traceback" not in result.stderr
    assert not (path / "audit.key").exists()


def test_a_workspace_from_before_keys_gets_one_on_first_need_and_verifies_as_legacy(workspace):
    path, cli = workspace
    (path / "audit.key").unlink()  # as if made before keys: the record is empty so far
    incident = open_one(cli)
    assert mode(path / "audit.key") == 0o600
    assert cli("audit", "verify", incident).returncode == 0
    with sqlite3.connect(path / "breachops.db") as db:  # strip to what a pre-key workspace held
        db.execute("UPDATE audit_events SET mac = NULL")
        db.execute("DELETE FROM audit_ledger")
        db.execute("DELETE FROM audit_heads WHERE incident_id = '_ledger'")
    result = cli("audit", "verify", incident)
    assert result.returncode == 0 and "legacy" in result.stdout
    assert cli("incident", "close", incident, "--reason", "drill over", "--accept-pending").returncode == 0
    after = cli("audit", "verify", incident, "--format", "json")
    data = json.loads(after.stdout)
    assert data["ok"] is True and 0 < data["legacy_events"] < data["events"]

"""Input as an attacker would write it: it is refused with one line and exit status 2 and changes
nothing, or it is stored and then shown inertly by every command that shows data.

These run the CLI in this process (``breachops.cli.main`` inside Typer's CliRunner isolation), without
Prefect (`--no-flow`), so that many inputs can be tried quickly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, MetaData, create_engine, select
from sqlalchemy import text as sql
from typer.testing import CliRunner

from breachops.cli import main
from tests.store.conftest import db_url, postgres_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
FACTS = str(ROOT / "examples" / "facts.yaml")

# Each would act on a terminal or on Rich if printed raw: markup, clear screen, window title, NUL, RTL.
HOSTILE = ("[/x]", "[bold red]boom[/bold red]", "\x1b[2J", "\x1b]0;title\x07", "nul\x00", "rtl\u202eexe.txt")
RAW_CONTROLS = ("\x1b", "\x07", "\x00", "\u202e")

Run = Callable[..., tuple[int, str, str]]


def run_cli(*args: str) -> tuple[int, str, str]:
    """``breachops ARGS`` in this process: exit status, standard output, standard error."""
    runner = CliRunner()
    with runner.isolation() as (stdout, stderr, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        return code, _text(stdout), _text(stderr)


def _text(stream: object) -> str:
    import sys

    for console_stream in (sys.stdout, sys.stderr):
        console_stream.flush()
    return stream.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]


def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None) -> Path:
    for name in list(os.environ):
        if name.startswith(("PREFECT_", "BREACHOPS_")):
            monkeypatch.delenv(name)
    path = tmp_path / "ws"
    monkeypatch.setenv("BREACHOPS_WORKSPACE", str(path))
    if database_url is not None:
        monkeypatch.setenv("BREACHOPS_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    code, _, err = run_cli("init")
    assert code == 0, err
    return path


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:  # noqa: F811
    """A workspace on each backend: SQLite, and PostgreSQL where one is reachable."""
    return _workspace(tmp_path, monkeypatch, db_url)


@pytest.fixture
def sqlite_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace on the embedded default, for tests about output rather than storage."""
    return _workspace(tmp_path, monkeypatch, None)


@contextmanager
def _database() -> Iterator[Connection]:
    """The workspace's application database (SQLite or PostgreSQL), in one committed transaction."""
    engine = create_engine(os.environ["BREACHOPS_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def _storable(value: str) -> str:
    # PostgreSQL's text cannot hold NUL at all, so no one can plant one there.
    return (
        value.replace("\x00", "") if os.environ["BREACHOPS_DATABASE_URL"].startswith("postgresql") else value
    )


def dump(path: Path) -> list[str]:
    """Every row of every table of the application database (SQLite or PostgreSQL), for comparing
    before and after a refusal. ``path``: the workspace, whose database the environment names."""
    url = os.environ.get("BREACHOPS_DATABASE_URL") or f"sqlite:///{path / 'breachops.db'}"
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return [
                f"{table.name}: {row!r}"
                for table in metadata.sorted_tables
                for row in sorted(connection.execute(select(table)).all(), key=repr)
            ]
    finally:
        engine.dispose()


def open_incident(*extra: str) -> str:
    code, out, err = run_cli("incident", "open", FACTS, "--no-flow", "--format", "json", *extra)
    assert code == 0, err
    return str(json.loads(out)["incident"])


def start_drill(path: Path) -> str:
    """A facilitated drill recorded the way `drill run` records it (no Prefect needed to show it)."""
    from breachops.bootstrap import bootstrap
    from breachops.config.agreements import load_agreement
    from breachops.playbooks.loader import load_scenario
    from breachops.services.drills import start_drill

    app = bootstrap()
    scenario = load_scenario("subcontractor-source-leak", [path / "scenarios"], app.playbook_search)
    agreement = load_agreement(path / "agreement.yaml")
    return start_drill(
        app, scenario, agreement, speed=0.0, mode="facilitated", simulate=False, actor="facilitator"
    )


def assert_refused(result: tuple[int, str, str], *needles: str) -> None:
    code, _, err = result
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def assert_inert(result: tuple[int, str, str]) -> None:
    code, out, err = result
    assert code == 0, err
    for text in (out, err):
        for raw in RAW_CONTROLS:
            assert raw not in text, (raw, text[:400])


# ---- nothing is stored unless all of it is valid ------------------------------------------------------


@pytest.mark.parametrize("title", ["ctl\x01x", "two\nlines", "bell\x07", "rtl\u202egnp.exe", " ", "x" * 201])
def test_a_title_that_is_refused_stores_nothing_and_queues_nothing(workspace: Path, title: str) -> None:
    open_incident()
    before = dump(workspace)
    assert_refused(run_cli("incident", "open", FACTS, "--no-flow", "--title", title), "--title")
    assert dump(workspace) == before


def test_a_workspace_template_that_loops_forever_is_named_and_stores_nothing(workspace: Path) -> None:
    open_incident()
    before = dump(workspace)
    templates = workspace / "templates"
    templates.mkdir()
    (templates / "incident_opened.subject.j2").write_text("{% for i in range(100000000) %}x{% endfor %}")
    assert_refused(
        run_cli("incident", "open", FACTS, "--no-flow"), "incident_opened.subject.j2", "range(100000000)"
    )
    (templates / "incident_opened.subject.j2").write_text(
        "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}"
    )
    assert_refused(
        run_cli("incident", "open", FACTS, "--no-flow"), "incident_opened.subject.j2", "time budget"
    )
    assert dump(workspace) == before


def test_an_opener_outside_the_agreement_is_recorded_as_unverified(workspace: Path) -> None:
    incident = open_incident("--by", "mallory@elsewhere.example")
    verified = open_incident("--by", "rafael.costa@horizonte.example")
    with _database() as db:
        payloads = dict(
            db.execute(
                sql("SELECT incident_id, payload FROM audit_events WHERE kind = 'incident.opened'")
            ).all()
        )
    assert json.loads(payloads[incident])["unverified"] is True
    assert "unverified" not in json.loads(payloads[verified])


# ---- who may confirm a step ---------------------------------------------------------------------------


def test_only_the_owner_the_incident_lead_or_a_declared_stand_in_may_confirm(workspace: Path) -> None:
    incident = open_incident()
    before = dump(workspace)
    # freeze-access is owned by security @ receiving: Tiago Rocha, or Rafael Costa as incident lead
    assert_refused(
        run_cli("step", "done", incident, "freeze-access", "--by", "jana.weber@nordlicht.example"),
        "may not confirm",
        "tiago.rocha@horizonte.example",
        "--on-behalf-of security",
    )
    assert_refused(
        run_cli(
            "step", "done", incident, "freeze-access", "--by", "jana.weber@nordlicht.example",
            "--on-behalf-of", "legal",
        ),
        "--on-behalf-of",
        "security",
    )  # fmt: skip
    assert dump(workspace) == before
    code, out, err = run_cli(
        "step", "done", incident, "alert-counterparty-lead", "--by", "rafael.costa@horizonte.example"
    )
    assert code == 0, err
    code, out, err = run_cli(
        "step", "done", incident, "freeze-access", "--by", "jana.weber@nordlicht.example",
        "--on-behalf-of", "security", "--no-wait",
    )  # fmt: skip
    assert code == 0, err
    assert "on behalf of security" in out
    with _database() as db:
        payload = db.execute(
            sql(
                "SELECT payload FROM audit_events WHERE incident_id = :i AND kind = 'step.completed' "
                "AND payload LIKE '%freeze-access%'"
            ),
            {"i": incident},
        ).scalar_one()
    assert json.loads(payload)["answer"]["on_behalf_of"] == "security"
    code, _, err = run_cli("step", "done", incident, "preserve-evidence", "--by", "lars.hoffmann@nordlicht.example",
                           "--set", "evidence_links=https://e.example/1", "--set", "legal_hold=yes")  # fmt: skip
    assert code == 0, err  # security @ both: the disclosing party's security lead owns it too


# ---- bad arguments are one line ------------------------------------------------------------------------


def test_bad_arguments_are_one_line_and_exit_2(workspace: Path) -> None:
    incident = open_incident()
    before = dump(workspace)
    assert_refused(run_cli("outbox", "show", "99999999999999999999999"), "no message")
    assert_refused(run_cli("outbox", "show", "²"), "no message")
    assert_refused(run_cli("incident", "show", "\udcff"), "UTF-8")
    assert_refused(run_cli("incident", "show", "--bogus"), "--bogus")
    assert_refused(run_cli("drill", "unschedule", "99999999999999999999"), "ID")
    assert_refused(run_cli("incident", "facts", incident, "--set", "jurisdictions=DE=nan"), "nan")
    assert_refused(run_cli("drill", "schedule", "subcontractor-source-leak", "--preset", "weekly",
                           "--tz", "Europe/Berlin", "--speed", "nan"), "--speed")  # fmt: skip
    assert_refused(run_cli("drill", "run", "subcontractor-source-leak", "--speed", "inf"), "--speed")
    assert_refused(run_cli("serve", "--poll", "nan"), "--poll")
    assert_refused(run_cli("notify", "test", "--to", "[/x]"), "--to")
    assert_refused(run_cli("deadlines", FACTS, "--now", "9999-12-31T23:59:59Z"), "--now", "1900")
    assert_refused(
        run_cli("incident", "facts", incident, "--set", "aware_at=9999-12-31T23:59:59Z"), "aware_at"
    )
    assert_refused(run_cli("incident", "close", incident, "--reason", "done\x1b[2J"), "--reason")
    assert dump(workspace) == before
    drill = start_drill(workspace)
    before = dump(workspace)
    assert_refused(run_cli("drill", "advance", drill, "--for", "99999999999999999999h"), "--for")
    assert_refused(run_cli("drill", "advance", drill, "--for", "3661d"), "ten years")
    assert dump(workspace) == before


# ---- output that cannot be hijacked -------------------------------------------------------------------


def _plant_hostile_values(path: Path, incident: str, drill: str) -> None:
    """What an older version, another tool or a hand edit may have left in the store."""
    hostile = _storable(" ".join(HOSTILE))
    # Each column its own parameter: PostgreSQL types a parameter once, and columns differ (text, varchar).
    values = {"h": hostile, "h2": hostile, "d": drill, "i": incident}
    with _database() as db:
        db.execute(sql("UPDATE drill_injects SET title = :h, skipped = :h2 WHERE drill_id = :d"), values)
        db.execute(sql("UPDATE drills SET scenario_id = :h WHERE id = :d"), values)
        db.execute(sql("UPDATE incidents SET title = :h, opened_by = :h2 WHERE id = :i"), values)
        db.execute(sql("UPDATE steps SET title = :h WHERE incident_id = :i"), values)
        db.execute(sql("UPDATE obligations SET title = :h, citation = :h2 WHERE incident_id = :i"), values)
        db.execute(
            sql(
                "UPDATE messages SET subject = :h, last_error = :h2, body_text = :b, status = 'failed', "
                "recipients = :r"
            ),
            {**values, "b": hostile + "\nsecond line", "r": json.dumps([hostile])},
        )


def test_hostile_stored_values_are_shown_inertly_by_every_command(workspace: Path) -> None:
    incident = open_incident("--title", "[/x] and [bold red]boom[/bold red]")
    code, out, _ = run_cli("incident", "list")
    assert code == 0 and "[/x] and [bold red]boom[/bold red]" in out
    drill = start_drill(workspace)
    _plant_hostile_values(workspace, incident, drill)
    commands = [
        ("incident", "list"),
        ("incident", "list", "--format", "json"),
        ("incident", "show", incident),
        ("incident", "show", incident, "--format", "json"),
        ("outbox", "list"),
        ("outbox", "list", "--format", "json"),
        ("outbox", "show", "1"),
        ("outbox", "show", "1", "--format", "json"),
        ("audit", "verify", incident),
        ("drill", "list"),
        ("drill", "show", drill),
        ("drill", "show", drill, "--format", "json"),
        ("drill", "report", drill),
        ("drill", "report", drill, "--markdown"),
        ("incident", "show", drill),
        ("rules", "show", "eu-gdpr-art33-authority"),
        ("deadlines", FACTS, "--now", "2026-11-25T10:00:00Z"),
    ]
    for command in commands:
        result = run_cli(*command)
        assert_inert(result)
        if "json" in command:
            json.loads(result[1])  # still one JSON document
    _, listed, _ = run_cli("incident", "list")
    assert "[/x]" in listed and "\\x1b[2J" in listed and "\\u202e" in listed
    shown = json.loads(run_cli("incident", "show", incident, "--format", "json")[1])
    assert shown["title"] == _storable(" ".join(HOSTILE))  # JSON keeps the value exactly, escaped
    _, body, _ = run_cli("outbox", "show", "1")
    assert "\\x1b]0;title\\x07" in body and "second line" in body


def test_a_playbook_step_no_mail_subject_can_carry_is_refused_before_anything_is_stored(
    workspace: Path,
) -> None:
    open_incident()
    before = dump(workspace)
    playbook = workspace / "playbooks" / "confidential-information-leak.yaml"
    text = playbook.read_text()
    playbook.write_text(text.replace("      title: Freeze and revoke", '      title: "Bcc: x@evil.example\\nFreeze and revoke', 1)
                        .replace("access to the shared information\n", 'access to the shared information"\n', 1))  # fmt: skip
    assert_refused(run_cli("incident", "open", FACTS, "--no-flow"), "freeze-access", "title")
    assert dump(workspace) == before

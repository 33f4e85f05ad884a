"""Random text, bytes and numbers through the CLI: every outcome is success, or one line and exit
status 2 with the database exactly as it was; listing and showing keep working afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.test_hostile_input import FACTS, dump, run_cli, start_drill

STEPS = ("freeze-access", "preserve-evidence", "alert-counterparty-lead", "scope-disclosure")
PEOPLE = ("tiago.rocha@horizonte.example", "rafael.costa@horizonte.example", "jana.weber@nordlicht.example")

undecodable = st.binary(min_size=1, max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape"))
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
instants = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14))])).map(
    lambda d: d.isoformat()
)
hostile = st.sampled_from(["[/x]", "[bold]", "\x1b[2J", "\x1b]0;t\x07", "\x00", "\u202e", "\n", "-x", "--"])
words = st.one_of(
    st.text(max_size=40), undecodable, numbers, instants, hostile, st.sampled_from(PEOPLE + STEPS)
)


def command(incident: str, drill: str) -> st.SearchStrategy[list[str]]:
    return st.one_of(
        st.one_of(words, st.sampled_from(["2h", "1d", "99999999999999999999h", "36526d"])).map(
            lambda w: ["drill", "advance", drill, "--for", w]
        ),
        words.map(lambda w: ["drill", "show", w]),
        st.tuples(words, numbers, words).map(
            lambda t: [
                "drill",
                "schedule",
                "subcontractor-source-leak",
                "--preset",
                "weekly",
                "--tz",
                t[0],
                "--speed",
                t[1],
                "--invite-ahead",
                t[2],
            ]
        ),
        st.one_of(words, numbers).map(lambda w: ["drill", "unschedule", w]),
        st.tuples(words, st.sampled_from(PEOPLE) | words).map(
            lambda t: ["incident", "open", FACTS, "--no-flow", "--title", t[0], "--by", t[1]]
        ),
        st.tuples(st.sampled_from(STEPS) | words, st.sampled_from(PEOPLE) | words, words, words, words).map(
            lambda t: [
                "step",
                "done",
                incident,
                t[0],
                "--by",
                t[1],
                "--note",
                t[2],
                "--set",
                f"{t[3]}={t[4]}",
                "--no-wait",
            ]
        ),
        st.tuples(st.sampled_from(["risk", "jurisdictions", "aware_at", "sectors"]) | words, words).map(
            lambda t: ["incident", "facts", incident, "--set", f"{t[0]}={t[1]}"]
        ),
        words.map(lambda w: ["incident", "show", w]),
        st.one_of(words, numbers).map(lambda w: ["outbox", "show", w]),
        st.tuples(words, words).map(lambda t: ["incident", "close", t[0], "--reason", t[1]]),
    )


@pytest.fixture(scope="module")
def fuzz_workspace() -> Iterator[tuple[Path, str, str]]:
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("PREFECT_", "BREACHOPS_")):
            del os.environ[name]
    folder = Path(tempfile.mkdtemp(prefix="breachops-fuzz-")) / "ws"
    os.environ["BREACHOPS_WORKSPACE"] = str(folder)
    try:
        assert run_cli("init")[0] == 0
        code, out, err = run_cli("incident", "open", FACTS, "--no-flow", "--format", "json")
        assert code == 0, err
        import json

        yield folder, str(json.loads(out)["incident"]), start_drill(folder)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_input_succeeds_or_is_one_line_exit_2_and_changes_nothing(
    fuzz_workspace: tuple[Path, str, str], data: st.DataObject
) -> None:
    path, incident, drill = fuzz_workspace
    args = data.draw(command(incident, drill))
    before = dump(path)
    code, _out, err = run_cli(*args)
    assert code in (0, 2), (args, code, err[-2000:])
    assert "Traceback" not in err, (args, err[-2000:])
    if code == 2:
        assert len(err.strip().splitlines()) == 1, (args, err)
        assert dump(path) == before, args
    for check in (["incident", "list", "--all"], ["incident", "show", incident], ["outbox", "list"],
                  ["drill", "show", drill]):  # fmt: skip
        listed = run_cli(*check)
        assert listed[0] == 0, (args, check, listed[2][-2000:])

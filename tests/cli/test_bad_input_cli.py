"""`breachops deadlines` given bad input: exit status 2 and one line naming file, field and value.

Most runs go through the real entry point (``breachops.cli.main``) in this process, the way the
console script calls it; one runs ``python -m breachops`` reading standard input, as a shell pipe does.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from breachops.cli import app, main

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-25T12:00:00Z"
GOOD = "aware_at: 2026-11-24T16:30:00-03:00\njurisdictions: [{code: NO, affected: 40}, DE]\n"


@pytest.fixture(autouse=True)
def _workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BREACHOPS_WORKSPACE", str(tmp_path / ".breachops"))
    monkeypatch.setenv("COLUMNS", "200")


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, stdin: bytes = b""
) -> tuple[int, str, str]:
    """Run the console script's entry point; any exception it lets through fails the test."""
    monkeypatch.setattr(sys, "argv", ["breachops", *args])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_refusal(code: int, err: str, *expected: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for text in expected:
        assert text in lines[0], lines[0]


def test_good_facts_from_standard_input_are_read(monkeypatch, capsys) -> None:
    code, out, err = run_main(
        monkeypatch, capsys, "deadlines", "-", "--format", "json", "--now", NOW, stdin=GOOD.encode()
    )
    assert code == 0, err
    rules = {row["rule"] for row in json.loads(out)}
    assert "eu-gdpr-art33-authority" in rules  # DE, after an unquoted NO that YAML 1.1 read as false


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        (b"aware_at: [2026\n", ("<stdin>", "line", "not valid YAML")),
        (
            b"aware_at: 2026-11-24T16:30:00Z\naware_at: 2026-11-25T16:30:00Z\n",
            ("<stdin>", "line 2", "duplicate"),
        ),
        (b"aware_at: 2026-11-24T16:30:00Z\nnotes: caf\xe9\n", ("<stdin>", "byte offset")),
        (b"aware_at: 2026\n", ("<stdin>", "aware_at", "not a number")),
        (b"aware_at: 9999-12-31T12:00:00Z\n", ("<stdin>", "aware_at", "out of range")),
        (
            b"aware_at: 2026-11-24T16:30:00Z\njurisdictions: [{code: DE, affected: yes}]\n",
            ("affected", "'yes'"),
        ),
        (
            b"aware_at: 2026-11-24T16:30:00Z\njurisdictions: [{code: DE, affected: .nan}]\n",
            ("affected", "NaN"),
        ),
        (b"- just\n- a list\n", ("<stdin>", "mapping")),
    ],
)
def test_bad_facts_on_standard_input_exit_2_with_one_line(monkeypatch, capsys, stdin, expected) -> None:
    code, _, err = run_main(monkeypatch, capsys, "deadlines", "-", "--now", NOW, stdin=stdin)
    assert_one_line_refusal(code, err, *expected)


def test_an_alias_bomb_file_is_refused_quickly(monkeypatch, capsys, tmp_path: Path) -> None:
    levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n", encoding="utf-8")
    code, _, err = run_main(monkeypatch, capsys, "deadlines", str(path), "--now", NOW)
    assert_one_line_refusal(code, err, "bomb.yaml", "aliases")


def test_a_2_mib_facts_file_is_refused_naming_the_limit(monkeypatch, capsys, tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"aware_at: 2026-11-24T16:30:00Z\n#" + b"x" * (2 * 1024 * 1024) + b"\n")
    code, _, err = run_main(monkeypatch, capsys, "deadlines", str(path), "--now", NOW)
    assert_one_line_refusal(code, err, "big.yaml", "1 MiB")


def test_an_agreement_with_a_bad_contact_is_refused_naming_the_field_path(
    monkeypatch, capsys, tmp_path
) -> None:
    text = (ROOT / "examples" / "agreement.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "agreement.yaml"
    bad.write_text(text.replace("marina.alves@horizonte.example", '"x,evil@example.com"'), encoding="utf-8")
    facts = tmp_path / "facts.yaml"
    facts.write_text(GOOD, encoding="utf-8")
    code, _, err = run_main(
        monkeypatch, capsys, "deadlines", str(facts), "--agreement", str(bad), "--now", NOW
    )
    assert_one_line_refusal(code, err, "parties.receiving.contacts.legal.email", "x,evil@example.com")


def test_now_in_year_9999_is_refused(monkeypatch, capsys, tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(GOOD, encoding="utf-8")
    code, _, err = run_main(monkeypatch, capsys, "deadlines", str(facts), "--now", "9999-12-31T23:00:00Z")
    assert_one_line_refusal(code, err, "--now", "outside 1900–8999")


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.sampled_from(
            [
                GOOD,
                "aware_at: ",
                "2026",
                "NO",
                "&a [*a]",
                "{",
                "\n",
                "  - ",
                "affected: ",
                "yes",
                ".inf",
                "\x00",
                "é",
            ]
        ),
        max_size=8,
    ).map("".join)
)
def test_fuzzed_facts_on_standard_input_exit_0_or_2_without_a_traceback(text: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["breachops", "deadlines", "-", "--format", "json", "--now", NOW])
        patch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
        patch.setattr(sys, "stdout", io.StringIO())
        patch.setattr(sys, "stderr", io.StringIO())
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        err = sys.stderr.getvalue()
    assert code in (0, 2), err
    assert "Traceback" not in err


def test_typer_runner_sees_the_refusal_as_an_input_error_not_a_crash(tmp_path: Path) -> None:
    # Typer's CliRunner calls the app without main(): the InputError surfaces for main to print.
    result = CliRunner().invoke(app, ["deadlines", "-", "--now", NOW], input="aware_at: [\n")
    from breachops.errors import InputError

    assert isinstance(result.exception, InputError)
    assert "<stdin>" in str(result.exception) and "\n" not in str(result.exception)
    good = CliRunner().invoke(app, ["deadlines", "-", "--format", "json", "--now", NOW], input=GOOD)
    assert good.exit_code == 0, good.output


def test_a_syntax_error_piped_into_the_installed_command_exits_2_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "breachops", "deadlines", "-", "--now", NOW],
        input=b"aware_at: {2026\n  - : :\n",
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert "<stdin>" in err

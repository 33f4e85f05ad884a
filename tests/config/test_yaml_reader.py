"""The one YAML reader: YAML 1.2 core-schema meaning, unique keys, a size cap, bounded aliases, UTF-8.

Scalars follow the YAML 1.2.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution): only
true/false are booleans, ``NO`` and ``yes`` are text, integers are decimal, 0o octal or 0x hex, and
there are no timestamps or sexagesimal numbers.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from pathlib import Path

import pytest
import yaml

from breachops.config.agreements import load_agreement
from breachops.config.rule_files import load_rule_file, shipped_rule_files
from breachops.config.settings import load_settings
from breachops.config.yaml import MAX_BYTES, parse_yaml, read_yaml
from breachops.deadlines.models import load_facts
from breachops.errors import InputError
from breachops.playbooks.loader import (
    load_playbook,
    load_scenario,
    shipped_playbook_files,
    shipped_scenario_files,
)

ROOT = Path(__file__).resolve().parents[2]
FACTS = "aware_at: 2026-03-28T09:00:00+01:00\n"


def refusal(text: str | bytes, source: str = "f.yaml") -> InputError:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, source)
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code: NO", "NO"),
        ("code: no", "no"),
        ("v: yes", "yes"),
        ("v: on", "on"),
        ("v: off", "off"),
        ("v: y", "y"),
        ("v: 12:30", "12:30"),  # 1.1: sexagesimal 750
        ("v: 1_000", "1_000"),
        ("v: =", "="),
        ("v: 2026-03-28", "2026-03-28"),  # no timestamps in the core schema
        ("v: 2026-03-28T09:00:00+01:00", "2026-03-28T09:00:00+01:00"),
        ("v: 010", 10),  # 1.1: octal 8
        ("v: 0o10", 8),
        ("v: 0x1F", 31),
        ("v: -5", -5),
        ("v: 1.5e3", 1500.0),
        ("v: true", True),
        ("v: False", False),
        ("v: ~", None),
        ("v:", None),
        ("<<: {a: 1}", {"a": 1}),  # no merge keys in 1.2: "<<" is an ordinary key
    ],
)
def test_scalars_mean_what_yaml_1_2_core_schema_says(text: str, expected: object) -> None:
    data = parse_yaml(text, "f.yaml")
    assert list(data.values()) == [expected]
    assert type(next(iter(data.values()))) is type(expected)


def test_nan_and_infinity_are_read_as_such_and_left_to_the_models_to_refuse() -> None:
    data = parse_yaml("a: .nan\nb: -.inf", "f.yaml")
    assert math.isnan(data["a"]) and data["b"] == -math.inf


def test_unquoted_NO_in_a_facts_file_is_norway(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text(FACTS + "jurisdictions:\n  - {code: NO, affected: 10}\n  - SE\n", encoding="utf-8")
    facts = load_facts(path)
    assert [(j.code, j.affected) for j in facts.jurisdictions] == [("NO", 10), ("SE", None)]


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "a"),
        ("outer:\n  x: 1\n  y: 2\n  x: 1\n", 4, "x"),
        ("- {k: 1, k: 2}\n", 1, "k"),
        ("1: a\n1: b\n", 2, 1),
    ],
)
def test_a_key_given_twice_is_refused_naming_line_and_key(text: str, line: int, key: object) -> None:
    error = refusal(text)
    assert error.field == f"line {line}"
    assert error.value == key
    assert f"duplicate key {key!r}" in error.problem


def test_duplicate_keys_are_refused_in_every_kind_of_file(tmp_path: Path) -> None:
    facts = tmp_path / "facts.yaml"
    facts.write_text(FACTS + "risk: high\nrisk: low\n", encoding="utf-8")
    agreement = tmp_path / "agreement.yaml"
    agreement.write_text(
        (ROOT / "examples" / "agreement.yaml").read_text(encoding="utf-8") + "governing_law: FR\n",
        encoding="utf-8",
    )
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text(shipped_playbook_files()[0].read_text(encoding="utf-8") + "title: Again\n", "utf-8")
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(shipped_scenario_files()[0].read_text(encoding="utf-8") + "title: Again\n", "utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "- id: de-test\n  jurisdiction: DE\n  jurisdiction: FR\n  instrument: X\n", encoding="utf-8"
    )
    settings_dir = tmp_path / "ws"
    settings_dir.mkdir()
    (settings_dir / "settings.yaml").write_text("rule_files: []\nrule_files: [x.yaml]\n", "utf-8")
    loaders = [
        (load_facts, facts, "risk"),
        (load_agreement, agreement, "governing_law"),
        (load_playbook, playbook, "title"),
        (load_scenario, scenario, "title"),
        (load_rule_file, rules, "jurisdiction"),
        (
            lambda p: load_settings({"BREACHOPS_WORKSPACE": str(p.parent)}),
            settings_dir / "settings.yaml",
            "rule_files",
        ),
    ]
    for load, path, key in loaders:
        with pytest.raises(InputError) as caught:
            load(path)
        assert caught.value.source == str(path)
        assert caught.value.value == key, (path, str(caught.value))
        assert "duplicate key" in caught.value.problem


def billion_laughs(levels: int = 10) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_within_a_second() -> None:
    started = time.perf_counter()
    error = refusal(billion_laughs())
    assert time.perf_counter() - started < 1.0
    assert "aliases expand to more than" in error.problem


def test_a_modest_alias_is_read() -> None:
    data = parse_yaml("base: &b {hours: 4}\nuse: *b\n", "f.yaml")
    assert data["use"] == {"hours": 4}


def test_an_alias_to_its_own_ancestor_is_refused() -> None:
    assert "refers to itself" in refusal("a: &x [1, *x]\n").problem


def test_an_alias_without_an_anchor_is_refused_so_a_file_without_one_cannot_expand() -> None:
    # The reader walks the nodes for expansion only when the text holds an anchor ("&").
    assert "undefined alias" in refusal("a: [*x, *x]\nb: R and D\n").problem
    assert "refers to itself" in refusal("b: R&D\na: &x [1, *x]\n").problem


def test_a_2_mib_file_is_refused_within_a_second_naming_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"notes: " + b"x" * (2 * 1024 * 1024) + b"\n")
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        read_yaml(path)
    assert time.perf_counter() - started < 1.0
    assert caught.value.source == str(path)
    assert "1 MiB" in str(caught.value)
    assert MAX_BYTES == 1024 * 1024


def test_non_utf8_bytes_are_refused_with_the_byte_offset_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("aware_at: 2026-03-28T09:00:00Z\nnotes: Café\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        load_facts(path)
    message = str(caught.value)
    offset = len(b"aware_at: 2026-03-28T09:00:00Z\nnotes: Caf")
    assert f"byte offset {offset}" in message and "0xe9" in message
    assert caught.value.field == "line 2"
    assert "\n" not in message


def test_utf16_and_control_characters_are_refused() -> None:
    assert "UTF-16" in refusal("a: 1\n".encode("utf-16")).problem
    error = refusal("a: b\x1bc\n")
    assert "0x1b" in error.problem or "U+001B" in error.problem


def test_a_byte_order_mark_is_allowed() -> None:
    assert parse_yaml("\ufeffa: 1\n".encode(), "f.yaml") == {"a": 1}


@pytest.mark.parametrize(
    "text", ["a: !!binary aGk=\n", "a: !!timestamp 2026-01-01\n", "a: !!set {x}\n", "a: !custom 1\n"]
)
def test_tags_outside_the_core_schema_are_refused(text: str) -> None:
    assert "core schema" in refusal(text).problem


def test_an_explicit_bool_tag_still_needs_true_or_false() -> None:
    assert "not a boolean" in refusal("a: !!bool yes\n").problem


def test_syntax_errors_name_line_and_column() -> None:
    error = refusal("a: [1, 2\nb: 3\n")
    assert error.field is not None and error.field.startswith("line ")
    assert "not valid YAML" in error.problem


def test_deep_nesting_is_refused_not_crashing() -> None:
    error = refusal("[" * 5000 + "]" * 5000)
    assert "nest" in error.problem  # libyaml's depth limit, or the pure-Python reader's recursion


def test_huge_integer_literals_are_refused() -> None:
    assert "too long" in refusal("a: " + "9" * 5000 + "\n").problem


def test_a_missing_file_and_a_folder_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_yaml(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="folder"):
        read_yaml(tmp_path)


def _as_text(value: object) -> object:
    """YAML 1.1 read unquoted dates as date objects; under 1.2 they stay text, as written."""
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, dict):
        return {_as_text(k): _as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    return value


def _same(old: object, new: object, where: str) -> None:
    if isinstance(old, dt.datetime):
        assert isinstance(new, str) and dt.datetime.fromisoformat(new) == old, where
    elif isinstance(old, dt.date):
        assert isinstance(new, str) and dt.date.fromisoformat(new) == old, where
    elif isinstance(old, dict):
        assert isinstance(new, dict) and list(old) == list(new), where
        for key in old:
            _same(old[key], new[key], f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(old) == len(new), where
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            _same(a, b, f"{where}[{index}]")
    else:
        assert type(old) is type(new) and old == new, f"{where}: {old!r} (YAML 1.1) != {new!r} (YAML 1.2)"


def shipped_yaml() -> list[Path]:
    return [
        *shipped_rule_files(),
        *shipped_playbook_files(),
        *shipped_scenario_files(),
        *sorted((ROOT / "breachops" / "config" / "samples").glob("*.yaml")),
        *sorted((ROOT / "examples").glob("*.yaml")),
    ]


@pytest.mark.parametrize("path", shipped_yaml(), ids=lambda p: p.name)
def test_every_shipped_file_means_the_same_under_yaml_1_1_and_1_2(path: Path) -> None:
    # A value such as `escalate: no` meant false under 1.1 and is text under 1.2: it must be rewritten.
    old = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    _same(_as_text(old), read_yaml(path), path.name)


@pytest.mark.parametrize("text", ["!!int \n  - ", "!!bool {a: 1}", "!!float [1]", "!!null [x]"])
def test_a_scalar_tag_on_a_list_or_mapping_is_refused_in_one_line(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "facts.yaml")
    assert "\n" not in str(caught.value)

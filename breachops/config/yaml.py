"""One reader for every YAML file: facts, agreements, settings, rule files, playbooks and scenarios.

YAML 1.2 with the core schema (``code: NO`` is Norway, only ``true`` and ``false`` are booleans) on
libyaml's parser; duplicate keys, oversized files, alias bombs, non-UTF-8 bytes and tags outside the core
schema are refused, each as an :class:`~breachops.errors.InputError` naming the file and the line.
Why each rule: docs/input-safety.md.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from breachops.errors import InputError

__all__ = ["MAX_BYTES", "MAX_EXPANSION", "parse_yaml", "read_yaml", "read_yaml_stream"]

MAX_BYTES = 1024 * 1024
"""The largest file read (1 MiB): the biggest shipped rule file is a tenth of that."""

MAX_EXPANSION = 100_000
"""How many nodes aliases may repeat in all: enough for any hand-written reuse, far below a bomb."""

_CORE = "tag:yaml.org,2002:"
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_MAX_DIGITS = 1000  # far beyond any count; int() of a huge literal costs quadratic time
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# libyaml parses about ten times faster than the pure-Python parser, where it is installed.
_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _shown(value: Any) -> str:
    """A value quoted in a message, cut short: a key or a scalar may be a megabyte long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(node: Node, problem: str) -> ConstructorError:
    return ConstructorError(None, None, problem, node.start_mark)


class _Duplicate(ConstructorError):
    def __init__(self, key: Any, node: Node, first: Node) -> None:
        super().__init__(
            None, None, f"duplicate key {key!r} (first given on line {first.start_mark.line + 1})"
        )
        self.key = key
        self.problem_mark = node.start_mark


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """libyaml's parser, YAML 1.2 core-schema resolution and construction, unique keys."""

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}
    yaml_constructors: ClassVar[dict[str | None, Any]] = {}

    @staticmethod
    def _scalar(node: Node, kind: str) -> str:
        # A tag such as `!!int` may sit on a list or mapping: refuse it rather than read its items.
        if not isinstance(node, ScalarNode):
            shape = "list" if isinstance(node, yaml.SequenceNode) else "mapping"
            raise _refuse(node, f"a {shape} tagged as {kind} is not {kind}")
        return str(node.value)

    def construct_core_null(self, node: ScalarNode) -> None:
        if not _NULL.match(self._scalar(node, "null")):
            raise _refuse(node, f"{_shown(node.value)} is not null")
        return None

    def construct_core_bool(self, node: ScalarNode) -> bool:
        if not _BOOL.match(self._scalar(node, "a boolean")):
            raise _refuse(node, f"{_shown(node.value)} is not a boolean (true or false)")
        return node.value.lower() == "true"

    def construct_core_int(self, node: ScalarNode) -> int:
        text = self._scalar(node, "an integer")
        if not _INT.match(text):
            raise _refuse(node, f"{_shown(text)} is not an integer")
        if len(text) > _MAX_DIGITS:
            raise _refuse(node, f"an integer of {len(text)} digits is too long")
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)  # 1.2: a leading zero is still decimal (010 is ten)

    def construct_core_float(self, node: ScalarNode) -> float:
        text = self._scalar(node, "a number")
        if not _FLOAT.match(text):
            raise _refuse(node, f"{_shown(text)} is not a number")
        if text.lstrip("+-").lower() == ".inf":
            return -math.inf if text.startswith("-") else math.inf
        if text.lower() == ".nan":
            return math.nan
        return float(text)

    def construct_core_str(self, node: Node) -> str:
        if not isinstance(node, ScalarNode):
            raise _refuse(node, "!!str needs a plain value")
        return str(node.value)

    def construct_undefined(self, node: Node) -> Any:
        raise ConstructorError(
            None,
            None,
            f"tag {node.tag.replace(_CORE, '!!')!r} is not one of YAML's core schema; remove it",
            node.start_mark,
        )

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            raise _refuse(node, "expected a mapping")
        mapping: dict[Any, Any] = {}
        first: dict[Any, Node] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise _refuse(
                    key_node, "a mapping key must be a plain value, not a list or mapping"
                ) from None
            if key in first:
                raise _Duplicate(key, key_node, first[key])
            first[key] = key_node
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


for _tag, _pattern, _starts in (
    ("bool", _BOOL, "tTfF"),
    ("null", _NULL, ["~", "n", "N", ""]),
    ("int", _INT, "-+0123456789"),  # before float: "12" is an int
    ("float", _FLOAT, "-+.0123456789"),
):
    _Loader.add_implicit_resolver(_CORE + _tag, _pattern, list(_starts))
_Loader.add_constructor(_CORE + "null", _Loader.construct_core_null)
_Loader.add_constructor(_CORE + "bool", _Loader.construct_core_bool)
_Loader.add_constructor(_CORE + "int", _Loader.construct_core_int)
_Loader.add_constructor(_CORE + "float", _Loader.construct_core_float)
_Loader.add_constructor(_CORE + "str", _Loader.construct_core_str)
_Loader.add_constructor(_CORE + "seq", yaml.SafeLoader.construct_yaml_seq)
_Loader.add_constructor(_CORE + "map", yaml.SafeLoader.construct_yaml_map)
_Loader.add_constructor(None, _Loader.construct_undefined)


def read_yaml(path: Path, *, max_bytes: int = MAX_BYTES) -> Any:
    """The data of a YAML (or JSON) file; an InputError naming the file and line if it cannot be used."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(
            path, None, None, "file not found", "Check the path, or run `breachops init`."
        ) from None
    except IsADirectoryError:
        raise InputError(path, None, None, "is a folder, not a YAML file") from None
    except OSError as exc:
        raise InputError(path, None, None, f"cannot be read: {exc.strerror or exc}") from None
    return parse_yaml(data, path, max_bytes=max_bytes)


def read_yaml_stream(stream: IO[bytes] | IO[str] | None = None, source: str = "<stdin>", *,
                     max_bytes: int = MAX_BYTES) -> Any:  # fmt: skip
    """The data of a YAML document read from ``stream`` (standard input by default)."""
    if stream is None:
        stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else sys.stdin
    try:
        data = stream.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(source, None, None, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(source, None, None, f"is not UTF-8 text (byte offset {exc.start})") from None
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return parse_yaml(data, source, max_bytes=max_bytes)


def parse_yaml(data: bytes | str, source: str | Path, *, max_bytes: int = MAX_BYTES) -> Any:
    """The data of one YAML document given as bytes (UTF-8) or text."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise InputError(
            source, None, None, f"is larger than {_size(max_bytes)}, the limit for a YAML file; refused"
        )
    text = _decode(raw, source)
    try:
        return _load(text, source)
    except _Duplicate as exc:
        where = f"line {exc.problem_mark.line + 1}" if exc.problem_mark else None
        raise InputError(source, where, exc.key, exc.problem or "duplicate key") from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source) from None
    except yaml.reader.ReaderError as exc:
        # libyaml counts the position in bytes of UTF-8, the pure-Python reader in characters.
        if _Base is yaml.SafeLoader:
            line = text[: exc.position].count("\n") + 1
        else:
            line = raw[: exc.position].count(b"\n") + 1
        raise InputError(
            source, f"line {line}", None, f"contains a character YAML does not allow ({_char(exc.character)})"
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(source, None, None, f"is not valid YAML: {_one_line(str(exc))}") from None
    except RecursionError:
        raise InputError(source, None, None, "is nested too deeply to be read") from None


def _load(text: str, source: str | Path) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # an alias repeats an anchored node: with no anchor, nothing can expand
            _check_expansion(node, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _decode(raw: bytes, source: str | Path) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(source, None, None, "is UTF-16 text; save it as UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            source,
            f"line {line}",
            None,
            f"is not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte offset {exc.start}",
            "Save the file as UTF-8.",
        ) from None
    return text.removeprefix("\ufeff")


def _syntax_error(exc: yaml.MarkedYAMLError, source: str | Path) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
    problem = " ".join(p for p in (exc.context, exc.problem) if p) or "not valid YAML"
    if isinstance(exc, ConstructorError):
        return InputError(source, where, None, _one_line(problem))
    return InputError(source, where, None, f"not valid YAML: {_one_line(problem)}")


def _one_line(text: str) -> str:
    """A parser's message as one printable line (it may quote the offending character)."""
    flat = " ".join(text.split())
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], flat)


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _check_expansion(root: Node, source: str | Path) -> None:
    """Refuse a document whose aliases repeat more than MAX_EXPANSION nodes, or refer to themselves.

    The parser shares an aliased node, so reading is cheap; whatever walks the data afterwards
    (validation, printing, hashing) pays for every repetition. Sizes are summed once per node.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] - len(sizes) > MAX_EXPANSION:
                raise InputError(
                    source,
                    f"line {node.start_mark.line + 1}",
                    None,
                    f"aliases expand to more than {MAX_EXPANSION:,} repeated values; refused",
                )
            continue
        if key in sizes:
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise InputError(
                    source, f"line {child.start_mark.line + 1}", None, "an alias refers to itself; refused"
                )
            if id(child) not in sizes:
                stack.append((child, False))


def _char(character: int | str) -> str:
    return f"0x{character:02x}" if isinstance(character, int) else f"U+{ord(character):04X}"


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else f"{limit:,} bytes"

"""The one escaping helper for text a person supplied and a terminal shows.

Rich markup and terminal control sequences in a title, a name, a note or a provider's error must be
shown, never acted on: :func:`inert` spells control characters out, :func:`markup` also escapes markup,
:func:`cell` makes a table cell, :func:`json_text` keeps JSON free of raw C1 and bidi controls.
Everything the CLI prints that it did not write itself goes through here (docs/input-safety.md).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.markup import escape
from rich.text import Text

__all__ = ["cell", "inert", "json_text", "markup", "unsafe_char"]

# C0 but tab and line feed, DEL, C1; bidi marks, embeddings, overrides and isolates; the line and
# paragraph separators; the byte-order mark; lone surrogates (undecodable bytes from argv or files).
_UNSAFE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
)
_UNSAFE_LINE = re.compile(f"[{_UNSAFE}\n]")
_UNSAFE_BLOCK = re.compile(f"[{_UNSAFE}]")
_JSON_UNSAFE = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def _spell(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def unsafe_char(text: str, *, newlines: bool = False) -> str | None:
    """The first character of ``text`` a terminal would act on rather than show, if any."""
    found = (_UNSAFE_BLOCK if newlines else _UNSAFE_LINE).search(text)
    return found.group() if found else None


def inert(value: object, *, newlines: bool = False) -> str:
    """``value`` as text that shows every character and acts on none. Line feeds are kept only with
    ``newlines=True`` (a message body); otherwise a value stays on its line."""
    text = "" if value is None else str(value)
    return (_UNSAFE_BLOCK if newlines else _UNSAFE_LINE).sub(_spell, text)


def markup(value: object, *, newlines: bool = False) -> str:
    """``value`` safe to put inside a Rich markup string: inert, and its brackets escaped."""
    return escape(inert(value, newlines=newlines))


def cell(value: object, *, newlines: bool = True, style: str = "") -> Text:
    """``value`` as a table cell: inert text, never parsed as markup. A cell may span lines."""
    return Text(inert(value, newlines=newlines), style=style)


def json_text(data: Any, **options: Any) -> str:
    """``json.dumps(data, ensure_ascii=False, **options)`` with DEL, C1 and bidi controls written as
    ``\\uNNNN`` escapes (they can only occur inside strings, so the JSON means the same)."""
    text = json.dumps(data, ensure_ascii=False, **options)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)

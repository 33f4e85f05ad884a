"""The one escaping helper for text a person supplied and a terminal shows.

A title, a contact's name, a note, a message subject or a provider's error text may hold Rich markup
(``[/x]`` breaks every later table; ``[link=…]`` hides a target) or terminal control sequences
(``ESC [2J`` clears the screen, ``ESC ]0;…BEL`` retitles the window, U+202E reverses what follows).
Everything the CLI prints that it did not write itself goes through here:

- :func:`inert` replaces every control character (C0 but tab and, if asked, line feed; DEL; C1; the
  bidirectional overrides, embeddings and isolates; lone surrogates) by its visible ``\\xNN`` /
  ``\\uNNNN`` spelling, so an escape sequence is shown as text and never acted on;
- :func:`markup` is :func:`inert` plus Rich's markup escaping, for values placed inside a markup string;
- :func:`cell` is a :class:`rich.text.Text` of the inert value, for table cells (never parsed as markup);
- :func:`json_text` is ``json.dumps`` whose output holds no raw C1 or bidi control character either.
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

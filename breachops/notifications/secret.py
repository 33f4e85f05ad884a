"""A string that does not show itself: for API keys and passwords on their way to a channel."""

from __future__ import annotations

__all__ = ["Secret", "reveal", "scrub"]


class Secret:
    """Wraps a credential so ``str``, ``repr``, f-strings and logging print ``'********'``.

    Only :meth:`reveal` gives the value back, at the one place that hands it to a library.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a secret must be a non-empty string")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    def __str__(self) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


def reveal(value: str | Secret | None) -> str | None:
    return value.reveal() if isinstance(value, Secret) else value


_FRAGMENT = 8
"""A run of this many characters of a secret (or of one of its encodings) in a text is redacted: a
provider's error body cut short still holds most of the key, just not all of it."""


def scrub(text: str, secret: str | Secret | None) -> str:
    """``text`` with the secret, its URL-encoded, JSON-escaped and base64 spellings (at every byte
    alignment, as inside ``Basic`` credentials or ``AUTH PLAIN``), and any run of 8 or more of their
    characters, replaced by ``[redacted]``. Call it on the whole text, before cutting it short."""
    value = reveal(secret)
    if not value or not text:
        return text
    marked = bytearray(len(text))
    for form in _spellings(value):
        size = min(_FRAGMENT, len(form))
        for i in range(len(form) - size + 1):
            piece = form[i : i + size]
            at = text.find(piece)
            while at != -1:
                marked[at : at + size] = b"\x01" * size
                at = text.find(piece, at + 1)
    if not any(marked):
        return text
    out: list[str] = []
    for i, char in enumerate(text):
        if not marked[i]:
            out.append(char)
        elif i == 0 or not marked[i - 1]:
            out.append("[redacted]")
    return "".join(out)


def _spellings(value: str) -> set[str]:
    import base64
    import json
    from urllib.parse import quote, quote_plus

    raw = value.encode("utf-8")
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        # the characters made only of the secret's bits, whatever bytes come before or after it
        core = encoded[-(-offset * 8 // 6) : (offset + len(raw)) * 8 // 6]
        forms |= {core, core.replace("+", "-").replace("/", "_")}
    return {f for f in forms if f}

"""A string that does not show itself: for API keys and passwords on their way to a channel."""

from __future__ import annotations

__all__ = ["Secret", "reveal"]


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

"""The template sandbox with limits: a workspace template is input, not code, so it gets bounded work.

:class:`BoundedEnvironment` is Jinja's sandbox with a capped ``range`` and ``*``, ``**``, ``%``, filters
and string methods that refuse oversized results; :func:`render_bounded` caps the output and the time
per template, and :class:`TemplateLimitError` says which limit was hit (docs/input-safety.md).
"""

from __future__ import annotations

import ctypes
import functools
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from jinja2 import Template
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "MAX_EXPONENT",
    "MAX_OUTPUT",
    "MAX_RANGE",
    "TIME_BUDGET",
    "BoundedEnvironment",
    "TemplateLimitError",
    "render_bounded",
]

MAX_RANGE = 10_000
"""Items a template's ``range`` may have: loops over a list use the list, so ranges stay small."""
MAX_OUTPUT = 1_000_000
"""Characters a template may produce, and the largest size it may ask a string operation for."""
MAX_EXPONENT = 64
TIME_BUDGET = 2.0
"""Seconds one template may take; the shipped ones take milliseconds."""


class TemplateLimitError(RuntimeError):
    """A template went past one of the sandbox's limits; the message says which."""


def _bounded_range(*args: int) -> range:
    made = range(*args)
    if len(made) > MAX_RANGE:
        raise TemplateLimitError(
            f"range({', '.join(map(str, args))}) has more than {MAX_RANGE:,} items, the sandbox's cap"
        )
    return made


def _too_big(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT


_WIDE = re.compile(r"\d{7,}")  # a width or precision of a million or more in a format spec


def _check_format(spec: object) -> None:
    if isinstance(spec, str) and _WIDE.search(spec):
        raise TemplateLimitError(f"format {spec[:40]!r} asks for a width beyond {MAX_OUTPUT:,}")


def _guard_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose arguments after the value (a width, a count) must stay within bounds."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        skip = 2 if getattr(func, "jinja_pass_arg", None) is not None else 1
        for value in (*args[skip:], *kwargs.values()):
            if _too_big(value):
                raise TemplateLimitError(f"|{func.__name__} was given {value}, beyond {MAX_OUTPUT:,}")
        if func.__name__ == "do_format" and len(args) >= skip:
            _check_format(args[skip - 1])
        return func(*args, **kwargs)

    return guarded


class BoundedEnvironment(SandboxedEnvironment):
    """A sandbox whose templates cannot ask for unbounded work (docs/input-safety.md)."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        self.filters = {name: _guard_filter(f) for name, f in self.filters.items()}

    def add_filters(self, **filters: Callable[..., Any]) -> None:
        self.filters.update({name: _guard_filter(f) for name, f in filters.items()})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise TemplateLimitError(f"a power of {right} is beyond the sandbox's {MAX_EXPONENT}")
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                sequence = isinstance(sized, str | list | tuple) and isinstance(count, int)
                if sequence and len(sized) * count > MAX_OUTPUT:
                    raise TemplateLimitError(f"a repetition beyond {MAX_OUTPUT:,} items")
            if _too_big(left) and _too_big(right):
                raise TemplateLimitError("a product of two numbers beyond the sandbox's bounds")
        if operator == "%":
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(getattr(__obj, "__self__", None), str):  # a str method: center, ljust, zfill, …
            for value in (*args, *kwargs.values()):
                if _too_big(value):
                    raise TemplateLimitError(f"{__obj.__name__}({value}) is beyond {MAX_OUTPUT:,}")
                _check_format(value)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if getattr(value, "__name__", None) in ("format", "format_map"):
            _check_format(getattr(value, "__self__", None))
        return super().wrap_str_format(value)


def render_bounded(
    template: Template,
    values: Mapping[str, Any],
    *,
    budget: float = TIME_BUDGET,
    max_output: int = MAX_OUTPUT,
) -> str:
    """Render ``template`` within the output and time limits, or raise :class:`TemplateLimitError`."""
    parts: list[str] = []
    size = 0
    with _deadline(budget):
        for chunk in template.generate(values):
            size += len(chunk)
            if size > max_output:
                raise TemplateLimitError(f"the output passed {max_output:,} characters")
            parts.append(chunk)
    return "".join(parts)


# ---- the time budget ----------------------------------------------------------------------------------
# One watchdog thread for the process. A rendering thread registers its deadline; past it, the watchdog
# raises _Overtime in that thread (CPython checks for it between bytecodes, so a Python loop stops).


class _Overtime(BaseException):
    """Raised into a thread whose template ran past its deadline (BaseException: no template catches it)."""


_lock = threading.Condition()
_deadlines: dict[int, float] = {}
_fired: set[int] = set()
_watchdog: threading.Thread | None = None


def _raise_in(ident: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc) if exc else None)


def _watch() -> None:
    with _lock:
        while True:
            now = time.monotonic()
            for ident, deadline in list(_deadlines.items()):
                if deadline <= now and ident not in _fired:
                    _fired.add(ident)
                    _raise_in(ident, _Overtime)
            pending = [d for i, d in _deadlines.items() if i not in _fired]
            _lock.wait(timeout=max(0.005, min(pending) - now) if pending else None)


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    global _watchdog
    ident = threading.get_ident()
    with _lock:
        if ident in _deadlines:  # nested: the outer deadline holds
            outer = True
        else:
            outer = False
            _deadlines[ident] = time.monotonic() + seconds
            if _watchdog is None or not _watchdog.is_alive():
                _watchdog = threading.Thread(target=_watch, name="template-watchdog", daemon=True)
                _watchdog.start()
            _lock.notify()
    if outer:
        yield
        return
    fired = False
    try:
        yield
    except _Overtime:
        fired = True
    finally:
        while True:  # the interruption may arrive while cleaning up: clean up again
            try:
                with _lock:
                    _deadlines.pop(ident, None)
                    if ident in _fired:
                        _fired.discard(ident)
                        _raise_in(ident, None)  # clear an interruption not delivered yet
                        fired = True
                break
            except _Overtime:
                fired = True
    if fired:
        raise TemplateLimitError(f"it ran longer than {seconds:g} s, the sandbox's time budget")

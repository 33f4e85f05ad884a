"""The one rendering function: a template kind and its context → subject, text and HTML.

Templates live in ``breachops/notifications/templates/`` as ``<kind>.subject.j2``, ``<kind>.txt.j2`` and
``<kind>.html.j2``; a workspace may override any of them (or the ``_layout`` files) by putting a file of
the same name in its own template folder. Each template states its context contract in a comment at the
top. The environment is sandboxed with limits (workspace templates are input, not code: see
``breachops/sandbox.py``), HTML is autoescaped, and a
missing variable is an error rather than an empty string (``StrictUndefined``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
    pass_eval_context,
)
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Undefined
from markupsafe import Markup, escape

from breachops.errors import InputError
from breachops.notifications.headers import check_header_value
from breachops.sandbox import BoundedEnvironment, TemplateLimitError, render_bounded

__all__ = [
    "DRILL_PREFIX",
    "FILL_MARK",
    "KINDS",
    "RenderError",
    "Rendered",
    "first_template",
    "render",
    "render_part",
    "template_source",
    "template_words",
]

KINDS: tuple[str, ...] = (
    "incident_opened",
    "step_assigned",
    "reminder",
    "overdue",
    "digest",
    "catalogue_changed",
    "counterparty_notice_draft",
    "regulator_notice_draft",
    "individuals_notice_draft",
    "drill_inject",
    "drill_invitation",
    "test",
    "sign_in",
)
DRILL_PREFIX = "[DRILL]"
FILL_MARK = "[[FILL IN: {}]]"
"""How a draft marks a gap a person must fill before the draft is sent; search drafts for ``[[FILL IN``."""


class RenderError(InputError):
    """A template could not be rendered: a missing variable, a bad value or a broken override."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(
    kind: str,
    context: Mapping[str, Any],
    *,
    drill: bool = False,
    template_dir: Path | None = None,
) -> Rendered:
    """Render the three parts of a ``kind`` of message.

    ``drill`` is put into the context (templates show an exercise banner) and makes the subject start
    with ``[DRILL]``. ``template_dir`` is a workspace folder whose files win over the shipped ones.
    The subject comes back as one trimmed line; a line break in it (e.g. from a context value) is
    refused here, before any message is built.
    """
    if kind not in KINDS:
        raise RenderError(None, "kind", kind, f"is not a message kind; known kinds: {', '.join(KINDS)}")
    env = _environment(str(template_dir.resolve()) if template_dir is not None else None)
    values = {**context, "drill": drill}
    parts = []
    for suffix in ("subject", "txt", "html"):
        name = f"{kind}.{suffix}.j2"
        parts.append(_render_one(env, name, values))
    subject = parts[0].strip()
    check_header_value(f"{kind}.subject", subject)
    if drill and not subject.startswith(DRILL_PREFIX):
        subject = f"{DRILL_PREFIX} {subject}"
    return Rendered(subject=subject, text=parts[1].strip() + "\n", html=parts[2].strip() + "\n")


def first_template(names: Sequence[str], template_dir: Path | None = None) -> str:
    """The first of ``names`` that exists (in the workspace folder, then shipped)."""
    env = _environment(str(template_dir.resolve()) if template_dir is not None else None)
    for name in names:
        try:
            env.get_template(name)
        except TemplateNotFound:
            continue
        return name
    raise RenderError(None, "template", names[-1], "no such template", f"Looked for: {', '.join(names)}")


def render_part(name: str, context: Mapping[str, Any], *, template_dir: Path | None = None) -> str:
    """One template by name (a notice's text or HTML): the same environment, filters and errors."""
    env = _environment(str(template_dir.resolve()) if template_dir is not None else None)
    return _render_one(env, name, context).strip() + "\n"


def _render_one(env: BoundedEnvironment, name: str, values: Mapping[str, Any]) -> str:
    """One template within the sandbox's limits; any failure is a RenderError naming the template."""
    try:
        return render_bounded(env.get_template(name), values)
    except InputError as exc:
        if exc.source is not None:
            raise
        raise RenderError(_origin(env, name), exc.field, exc.value, exc.problem, exc.hint) from None
    except JinjaTemplateError as exc:
        raise RenderError(
            _origin(env, name), None, None, f"{type(exc).__name__}: {exc.message or exc}",
            "Pass every variable the template's header comment lists.",
        ) from None  # fmt: skip
    except TemplateLimitError as exc:
        raise RenderError(
            _origin(env, name), None, None, f"stopped: {exc}",
            "Workspace templates run in a sandbox with limits; simplify the template.",
        ) from None  # fmt: skip
    except Exception as exc:  # a template's own error ({{ 1 / 0 }}): the template is at fault
        raise RenderError(_origin(env, name), None, None, f"{type(exc).__name__}: {exc}") from None


def template_source(name: str, template_dir: Path | None = None) -> str:
    """The text of a template as the environment finds it (the workspace's copy first)."""
    env = _environment(str(template_dir.resolve()) if template_dir is not None else None)
    assert env.loader is not None
    return env.loader.get_source(env, name)[0]


def template_words(name: str, template_dir: Path | None = None) -> dict[str, Any]:
    """The ``words`` a language file (``notices/lang/<language>.j2``) sets: a draft's fixed text."""
    env = _environment(str(template_dir.resolve()) if template_dir is not None else None)
    try:
        words = getattr(env.get_template(name).module, "words", None)
    except JinjaTemplateError as exc:
        raise RenderError(
            _origin(env, name), None, None, f"{type(exc).__name__}: {exc.message or exc}"
        ) from None
    if not isinstance(words, dict):
        raise RenderError(_origin(env, name), "words", None, "must set `words` to a mapping")
    return words


def _origin(env: BoundedEnvironment, name: str) -> str:
    try:
        source = env.loader.get_source(env, name)[1] if env.loader else None
    except JinjaTemplateError:
        source = None
    return source or name


@functools.lru_cache(maxsize=16)
def _environment(template_dir: str | None) -> BoundedEnvironment:
    loaders: list[Any] = [PackageLoader("breachops.notifications", "templates")]
    if template_dir is not None:
        loaders.insert(0, FileSystemLoader(template_dir))
    env = BoundedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
    )
    env.filters.update(local=local, utc=utc, when=when, duration=duration, fill=fill, number=number)
    return env


# ---- filters --------------------------------------------------------------------------------------


def _defined(value: object) -> None:
    """A missing variable handed to a filter is reported as missing, not as a wrong type."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()


def _instant(value: object, filter_name: str) -> datetime:
    _defined(value)
    if not isinstance(value, datetime):
        raise RenderError(None, f"|{filter_name}", value, "expects a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise RenderError(None, f"|{filter_name}", value, "expects a timezone-aware datetime")
    return value


def _zone(name: object) -> ZoneInfo:
    _defined(name)
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise RenderError(None, "|local", name, "is not an IANA time zone such as 'Europe/Berlin'") from None


def local(value: datetime, zone: str) -> str:
    """``2026-11-25 11:00 CET (Europe/Berlin)``: the instant on the recipient's wall clock."""
    moment = _instant(value, "local").astimezone(_zone(zone))
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname()} ({zone})"


def utc(value: datetime) -> str:
    """``2026-11-25 10:00 UTC``."""
    return f"{_instant(value, 'utc').astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@pass_context
def when(context: Context, value: datetime) -> str:
    """Local time of ``recipient.timezone`` followed by the UTC instant: the house way to show a time."""
    zone = context.environment.getattr(context.resolve("recipient"), "timezone")
    _defined(zone)
    return f"{local(value, zone)} / {utc(value)}"


def duration(value: timedelta) -> str:
    """``2 d 3 h``, ``5 h 20 min``, ``45 min`` for the size of a timedelta (its sign is ignored)."""
    _defined(value)
    if not isinstance(value, timedelta):
        raise RenderError(None, "|duration", value, "expects a timedelta")
    minutes = int(abs(value.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"


@pass_eval_context
def fill(eval_ctx: EvalContext, value: object, hint: str) -> Any:
    """The value, or a clearly marked gap ``[[FILL IN: hint]]`` when it is None, empty or blank."""
    missing = value is None or (isinstance(value, str | list | tuple | dict) and not value)
    if isinstance(value, str) and not value.strip():
        missing = True
    if not missing:
        return value
    mark = FILL_MARK.format(hint)
    if eval_ctx.autoescape:
        return Markup('<mark class="fill">{}</mark>').format(escape(mark))
    return mark


def number(value: object) -> str:
    """``12,345`` for integers; anything else as text."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)

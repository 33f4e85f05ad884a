"""Workspace templates are input: the sandbox bounds the work they can ask for, and says which limit
a template hit, naming the template."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from breachops.notifications.render import RenderError, render
from breachops.notifications.samples import sample_context
from breachops.sandbox import BoundedEnvironment, TemplateLimitError, render_bounded


@pytest.mark.parametrize(
    ("source", "limit"),
    [
        ("{% for i in range(100000000) %}x{% endfor %}", "range(100000000)"),
        ("{{ 'x' * 10**9 }}", "repetition"),
        ("{{ 2 ** 100000 }}", "power"),
        ("{{ 'x'|center(1000000000) }}", "1000000000"),
        ("{{ 'x'.ljust(1000000000) }}", "1000000000"),
        ("{{ '{:>999999999}'.format(1) }}", "width"),
        ("{{ '%999999999d' % 1 }}", "width"),
        ("{% for i in range(5000) %}{{ 'y' * 999 }}{% endfor %}", "output"),
    ],
)
def test_a_template_asking_for_unbounded_work_is_stopped_at_once(source: str, limit: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateLimitError, match=re.escape(limit)):
        render_bounded(BoundedEnvironment().from_string(source), {})
    assert time.monotonic() - started < 1.0


def test_a_template_that_spins_is_stopped_by_the_time_budget_and_nothing_strays_afterwards() -> None:
    template = BoundedEnvironment().from_string(
        "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}"
    )
    started = time.monotonic()
    with pytest.raises(TemplateLimitError, match="time budget"):
        render_bounded(template, {}, budget=0.3)
    assert time.monotonic() - started < 2.0
    # the interruption was for that template only: later work in this thread runs to its end
    total = sum(range(3_000_000))
    time.sleep(0.5)
    assert total == 4499998500000


def test_budgets_are_per_thread() -> None:
    slow = BoundedEnvironment().from_string(
        "{% for i in range(9999) %}{% for j in range(999) %}{% endfor %}{% endfor %}"
    )
    quick = BoundedEnvironment().from_string("{{ x }}")
    errors: list[BaseException] = []

    def spin() -> None:
        try:
            render_bounded(slow, {}, budget=0.2)
        except TemplateLimitError as exc:
            errors.append(exc)

    thread = threading.Thread(target=spin)
    thread.start()
    results = [render_bounded(quick, {"x": i}) for i in range(2000)]
    thread.join()
    assert results[-1] == "1999"
    assert len(errors) <= 1  # the slow one may or may not finish in time on a loaded machine


def test_ordinary_templates_are_untouched() -> None:
    env = BoundedEnvironment()
    source = "{{ 3 * 4 }} {{ '%s-%d' % ('a', 2) }} {{ 'ab' * 3 }} {{ 'x'|center(5) }} {{ '{:>4}'.format(7) }}"
    assert render_bounded(env.from_string(source), {}) == "12 a-2 ababab   x      7"
    assert render_bounded(env.from_string("{% for i in range(3) %}{{ i }}{% endfor %}"), {}) == "012"


def test_a_workspace_template_past_a_limit_is_one_render_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "test.txt.j2").write_text("{% for i in range(100000000) %}{% endfor %}")
    with pytest.raises(RenderError) as caught:
        render("test", sample_context("test"), template_dir=tmp_path)
    assert str(tmp_path / "test.txt.j2") in str(caught.value)
    assert "range(100000000)" in str(caught.value)
    (tmp_path / "test.txt.j2").write_text("{{ 1 / 0 }}")
    with pytest.raises(RenderError, match="ZeroDivisionError"):
        render("test", sample_context("test"), template_dir=tmp_path)

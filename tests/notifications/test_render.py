from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from breachops.notifications.headers import HeaderError
from breachops.notifications.render import KINDS, RenderError, local, render, utc
from breachops.notifications.samples import sample_context

TEMPLATES = Path(__file__).resolve().parents[2] / "breachops" / "notifications" / "templates"


def test_every_kind_ships_three_templates_each_with_a_contract_comment() -> None:
    for kind in KINDS:
        for part in ("subject", "txt", "html"):
            text = (TEMPLATES / f"{kind}.{part}.j2").read_text(encoding="utf-8")
            assert text.startswith("{#") and "context contract" in text.split("#}")[0], (kind, part)


@pytest.mark.parametrize("kind", KINDS)
def test_each_shipped_template_renders_its_sample(kind: str) -> None:
    out = render(kind, sample_context(kind))
    assert out.subject and "\n" not in out.subject
    assert out.text.strip() and out.html.lstrip().startswith("<!DOCTYPE html>")
    assert "EXERCISE" not in out.text


@pytest.mark.parametrize("kind", KINDS)
def test_every_context_key_is_required(kind: str) -> None:
    """StrictUndefined: leaving out any key of the contract fails loudly instead of rendering blanks."""
    for key in sample_context(kind):
        context = sample_context(kind)
        del context[key]
        with pytest.raises(RenderError, match=key):
            render(kind, context)


def test_times_show_local_zone_next_to_utc() -> None:
    out = render("reminder", sample_context("reminder"))
    # due 2026-11-25 08:30 UTC; the recipient lives in Asia/Tokyo
    assert "2026-11-25 17:30 JST (Asia/Tokyo) / 2026-11-25 08:30 UTC" in out.text
    assert "2026-11-25 17:30 JST (Asia/Tokyo) / 2026-11-25 08:30 UTC" in out.html


def test_local_filter_follows_daylight_saving() -> None:
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert local(summer, "Europe/Berlin") == "2026-07-01 14:00 CEST (Europe/Berlin)"
    assert local(winter, "Europe/Berlin") == "2026-12-01 13:00 CET (Europe/Berlin)"
    assert utc(summer) == "2026-07-01 12:00 UTC"


def test_naive_datetime_and_unknown_zone_are_refused() -> None:
    context = sample_context("test") | {"sent_at": datetime(2026, 11, 25, 10, 0)}
    with pytest.raises(RenderError, match="timezone-aware"):
        render("test", context)
    context = sample_context("test")
    context["recipient"]["timezone"] = "Mars/Olympus"
    with pytest.raises(RenderError, match="IANA"):
        render("test", context)


def test_html_escapes_values_and_text_keeps_them() -> None:
    context = sample_context("step_assigned")
    context["step"]["title"] = "<script>alert(1)</script>"
    out = render("step_assigned", context)
    assert "<script>" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "<script>alert(1)</script>" in out.text


def test_drill_prefixes_subject_and_shows_a_banner() -> None:
    out = render("drill_inject", sample_context("drill_inject"), drill=True)
    assert out.subject.startswith("[DRILL] ")
    assert "EXERCISE" in out.text and "EXERCISE" in out.html


def test_line_break_reaching_the_subject_is_refused() -> None:
    context = sample_context("incident_opened")
    context["incident"]["title"] = "Leak\r\nBcc: outsider@evil.example"
    with pytest.raises(HeaderError, match="line break"):
        render("incident_opened", context)


def test_workspace_override_wins_and_others_fall_back(tmp_path: Path) -> None:
    (tmp_path / "test.subject.j2").write_text("Custom check via {{ channel }}\n", encoding="utf-8")
    out = render("test", sample_context("test"), template_dir=tmp_path)
    assert out.subject == "Custom check via outbox"
    assert "This is a test message from breachops" in out.text  # shipped txt template still used


def test_override_templates_are_sandboxed(tmp_path: Path) -> None:
    (tmp_path / "test.subject.j2").write_text("{{ channel.__class__ }}", encoding="utf-8")
    with pytest.raises(RenderError):
        render("test", sample_context("test"), template_dir=tmp_path)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(RenderError, match="known kinds"):
        render("gossip", {})

"""Notice templates: which one lays out a regime's notice, and the check that it drops no element.

A notice is rendered from ``notices/<family>.<language>.<suffix>.j2``, else ``notices/<family>.<suffix>.j2``
(``template:`` in the regime may name another family), else the generic ``notices/notice.<suffix>.j2``;
a workspace's ``templates/`` folder wins over the shipped files. Before a template is used it is
rendered once with a probe value in every element, and refused, naming the element and its citation,
if any element's label, citation or value does not come out: a template may reword, never drop.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from markupsafe import escape

from breachops.notifications.regimes import Element, Notice
from breachops.notifications.render import (
    FILL_MARK,
    RenderError,
    first_template,
    render_part,
    template_source,
    template_words,
)

__all__ = ["MIN_FONT_PT", "check_notice_template", "element_context", "notice_header", "notice_template"]

MIN_FONT_PT = 11
"""The smallest type of a notice's HTML; a regime's ``min_font_pt`` (California: 10) can only raise it."""


def notice_template(
    family: str, notice: Notice, language: str, suffix: str, template_dir: Path | None
) -> str:
    own = notice.template or family
    names = [
        f"notices/{own}.{language}.{suffix}.j2",
        f"notices/{own}.{suffix}.j2",
        f"notices/notice.{suffix}.j2",
    ]
    return first_template(names, template_dir)


def check_notice_template(name: str, notice: Notice, language: str, template_dir: Path | None) -> None:
    """Refuse a notice template that leaves out an element the law requires (its label, citation or
    value), naming the element: a workspace's template may reword, never drop."""
    folder = str(template_dir.resolve()) if template_dir is not None else None
    source = template_source(name, template_dir)  # an edited template is checked again
    _check(name, source, notice.model_dump_json(), language, folder)


@functools.lru_cache(maxsize=256)
def _check(name: str, source: str, notice_json: str, language: str, folder: str | None) -> None:
    notice = Notice.model_validate_json(notice_json)
    template_dir = Path(folder) if folder else None
    words = template_words(f"notices/lang/{language}.j2", template_dir)
    probes = [
        [element_context(e, language, [f"PROBE{i}x{e.id}"]) for i, e in enumerate(s.elements)]
        for s in notice.sections
    ]
    sections = [
        {"heading": s.heading.get(language) if s.heading else None, "elements": elements}
        for s, elements in zip(notice.sections, probes, strict=True)
    ]
    context = {
        "notice": notice_header(notice, language),
        "words": words,
        "header": {"to": "to", "sender": "sender", "reference": "reference", "date": "date"},
        "sections": sections,
        "glossary": [],
    }
    out = render_part(name, context, template_dir=template_dir)
    html = name.endswith(".html.j2")
    for elements in probes:
        for element in elements:
            for needed in (element["label"], element["citation"], element["values"][0]):
                if (str(escape(needed)) if html else needed) not in out:
                    raise RenderError(
                        name, f"element {element['id']}", element["citation"],
                        f"the template drops a required element ({element['label']})",
                        "Print every element's label, citation and values, as notices/notice.txt.j2 does.",
                    )  # fmt: skip


def notice_header(notice: Notice, language: str) -> dict[str, Any]:
    return {
        "title": notice.title.get(language),
        "law": notice.law.get(language),
        "language": language,
        "font_pt": max(notice.min_font_pt or 0, MIN_FONT_PT),
    }


def element_context(element: Element, language: str, values: list[str]) -> dict[str, Any]:
    label, citation = element.label.get(language), element.citation_in(language)
    hint = f"{label} ({citation})"
    return {
        "id": element.id,
        "label": label,
        "citation": citation,
        "values": values,
        "gap": FILL_MARK.format(hint),
        "hint": hint,
    }

"""Drafts of the notices a law requires, each obligation's own, in its recipient's language.

Open obligations to an authority or to the people affected are matched to their regime's notice
(``regimes.py``); those with the same notice and recipient share one draft. It is rendered in the
recipient's language, with an English working copy, and each required element shows its value or a
``[[FILL IN: <element> (<citation>)]]`` gap. Why drafts are grouped so: docs/notices.md.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from breachops.config.agreements import Agreement, Contact
from breachops.config.rule_models import DATA_CATEGORIES, PERSONAL_CATEGORIES, Rule
from breachops.config.zones import zone_of
from breachops.errors import InputError
from breachops.notifications.notice_templates import (
    check_notice_template,
    element_context,
    notice_header,
    notice_template,
)
from breachops.notifications.regimes import Element, Notice, Regime, Regimes, load_regimes
from breachops.notifications.render import FILL_MARK, local, render_part, template_words, utc
from breachops.store.models import Incident, ObligationRow, StepRow
from breachops.timefmt import stored_instant

__all__ = [
    "NON_PERSONAL",
    "REGULATORY_KINDS",
    "DraftWriter",
    "Plan",
    "plan_drafts",
    "regimes_for",
    "window_zones",
]

NON_PERSONAL = frozenset(DATA_CATEGORIES) - PERSONAL_CATEGORIES
"""Categories that are confidential information but not personal data: never listed as personal data."""
REGULATORY_KINDS = {
    "regulator": "regulator_notice_draft",
    "securities_regulator": "regulator_notice_draft",
    "csirt": "regulator_notice_draft",
    "individuals": "individuals_notice_draft",
}
_SECRET_WORDS = re.compile(r"trade[ _]secrets?|source[ _]code|confidential|know-how", re.IGNORECASE)
_NARROW_STEP = ("compelled-disclosure", "narrow-disclosure")  # playbook and step to narrow a disclosure


@functools.lru_cache(maxsize=8)
def regimes_for(folder: Path | None) -> Regimes:
    """The regimes, with a workspace's own ``regimes/`` folder (read once per process)."""
    return load_regimes(folder)


@dataclass(frozen=True)
class Plan:
    """One draft: the notice of a regime (None: no regime records this rule yet) for some obligations."""

    kind: str
    rows: tuple[ObligationRow, ...]
    regime: Regime | None
    notice: Notice

    @property
    def what(self) -> str:
        """The key's middle part: the kind and every obligation key it serves, in a stable order."""
        return f"{self.kind}|{'+'.join(sorted(r.key for r in self.rows))}"


def plan_drafts(rows: Iterable[ObligationRow], regimes: Regimes) -> list[Plan]:
    """Group open obligations by kind, notice and recipient, in the order they come."""
    groups: dict[tuple[str, str, str, str], list[ObligationRow]] = {}
    found: dict[tuple[str, str, str, str], tuple[Regime | None, Notice]] = {}
    for row in rows:
        kind = REGULATORY_KINDS.get(row.audience)
        if kind is None or regimes.internal(row.rule_id, row.stage):
            continue
        match = regimes.notice_for(row.rule_id, row.stage)
        regime, notice = match if match is not None else (None, _unmapped(row))
        group = (kind, regime.family if regime else "", notice.id, row.recipient)
        groups.setdefault(group, []).append(row)
        found[group] = (regime, notice)
    return [Plan(group[0], tuple(rows_), *found[group]) for group, rows_ in groups.items()]


def _unmapped(row: ObligationRow) -> Notice:
    """A rule no regime records yet: the draft cites the rule's own law and asks for its content."""
    return Notice.model_validate(
        {
            "id": f"rule-{row.rule_id}",
            "audience": row.audience,
            "rules": [row.rule_id],
            "title": {"en": "Notification"},
            "law": {"en": row.citation},
            "sections": [
                {
                    "elements": [
                        {
                            "id": "content",
                            "citation": row.citation,
                            "label": {
                                "en": "The content this law requires (no content requirements are recorded "
                                "for this rule yet: read the law and write it here)"
                            },
                        }
                    ]
                }
            ],
        }
    )


class DraftWriter:
    """Builds the context of a regulator or individuals draft from an incident's record."""

    def __init__(
        self,
        incident: Incident,
        agreement: Agreement,
        steps: Sequence[StepRow],
        now: datetime,
        *,
        regimes: Regimes,
        template_dir: Path | None = None,
        zones: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.incident = incident
        self.zones = zones or {}
        self.facts: Mapping[str, Any] = incident.facts
        self.agreement = agreement
        self.steps = steps
        self.now = now
        self.regimes = regimes
        self.template_dir = template_dir

    # ---- the draft -------------------------------------------------------------------------------

    def context(self, plan: Plan) -> dict[str, Any]:
        """The wrapper's context: deadlines, warnings, and the notice rendered in both languages."""
        regime, notice = plan.regime, plan.notice
        # The recipient's zone: the rule's own window zone, else the regime's (the authority's seat).
        window_zone = self.zones.get((plan.rows[0].rule_id, plan.rows[0].stage), "UTC")
        if regime is not None:
            languages, zone, state = self.regimes.local(regime, notice, self._affected_pairs())
            zone = zone if state is not None or window_zone == "UTC" else window_zone
        else:
            languages, zone, state = ("en",), window_zone, None
        language = languages[0]
        late = any(r.due is not None and r.due < self.now for r in plan.rows)
        contexts = {
            lang: self._notice_context(plan, lang, zone, late) for lang in dict.fromkeys((language, "en"))
        }
        glossary = self._glossary_used(contexts.values())
        parts = {
            lang: self._render(plan, lang, {**ctx, "glossary": glossary}) for lang, ctx in contexts.items()
        }
        text, html = parts[language]
        working = parts["en"] if language != "en" else (None, None)
        return {
            "incident": {"id": self.incident.id, "title": self.incident.title},
            "notice": {
                "title": notice.title.en,
                "law": notice.law.en,
                "language": language,
                "language_name": contexts[language]["words"]["language"],
                "authority": plan.rows[0].recipient,
                "audience": plan.rows[0].audience,
            },
            "deadlines": [
                {
                    "citation": r.citation,
                    "title": r.title,
                    "stage": r.stage,
                    "due_at": r.due,
                    "zone": zone,
                    "target": r.basis == "target",  # an open term ("promptly"): the team's target, not a date
                }
                for r in sorted(plan.rows, key=lambda r: (r.due is None, r.due, r.key))
            ],
            "now": self.now,
            "late": late,
            "warnings": self._warnings(plan, contexts["en"]),
            "notes": self._notes(plan, language, state),
            "gaps": text.count(FILL_MARK.split("{")[0]),
            "notice_text": text,
            "notice_html": Markup(html),  # rendered by the autoescaping templates
            "working_text": working[0],
            "working_html": Markup(working[1]) if working[1] is not None else None,
        }

    def _render(self, plan: Plan, language: str, context: dict[str, Any]) -> tuple[str, str]:
        family = plan.regime.family if plan.regime else "unmapped"
        out = []
        for suffix in ("txt", "html"):
            name = notice_template(family, plan.notice, language, suffix, self.template_dir)
            check_notice_template(name, plan.notice, language, self.template_dir)
            out.append(render_part(name, context, template_dir=self.template_dir))
        return out[0], out[1]

    def _notice_context(self, plan: Plan, language: str, zone: str, late: bool) -> dict[str, Any]:
        words = template_words(f"notices/lang/{language}.j2", self.template_dir)
        sections = []
        for section in plan.notice.sections:
            elements = [
                element_context(e, language, self._values(e, words, zone))
                for e in section.elements
                if late or not e.only_if_late
            ]
            if elements:
                heading = section.heading.get(language) if section.heading else None
                sections.append({"heading": heading, "elements": elements})
        controller = self._controller()
        return {
            "notice": notice_header(plan.notice, language),
            "words": words,
            "header": {
                "to": plan.notice.to.get(language) if plan.notice.to else plan.rows[0].recipient,
                "sender": self.agreement.parties[controller].name,
                "reference": self.incident.id,
                "date": self.now.astimezone(ZoneInfo(zone)).date().isoformat(),
            },
            "sections": sections,
        }

    # ---- what fills an element -------------------------------------------------------------------

    def _values(self, element: Element, words: Mapping[str, Any], zone: str) -> list[str]:
        fill = element.fill
        if fill is None:
            return []
        if fill.startswith("answer:"):
            return self._answer(fill.removeprefix("answer:"))
        if fill.endswith("_at"):
            instant = stored_instant(self.facts.get(fill))
            return [f"{local(instant, zone)} / {utc(instant)}"] if instant else []
        party = self.agreement.parties[self._controller()]
        simple: dict[str, Any] = {
            "personal_data": lambda: [words["categories"].get(c, c) for c in self.personal_categories()],
            "affected": lambda: self._affected(words),
            "affected_by_jurisdiction": lambda: [
                f"{code} {_number(n, words)}" if n is not None else f"{code}: {words['not_yet_counted']}"
                for code, n in self._affected_pairs()
            ],
            "controller": lambda: [party.name],
            "contact": lambda: [_person(party.contacts.get("dpo") or party.contacts["incident_lead"])],
            "measures_taken": lambda: [s.title for s in self.steps if s.status == "done"],
            "notice_date": lambda: [self.now.astimezone(ZoneInfo(zone)).date().isoformat()],
        }
        return list(simple[fill]())

    def personal_categories(self) -> list[str]:
        """The categories of the facts that are personal data; trade secrets and code are not."""
        return [c for c in self.facts.get("data_categories", []) if c in PERSONAL_CATEGORIES]

    def _affected_pairs(self) -> list[tuple[str, int | None]]:
        pairs = []
        for item in self.facts.get("jurisdictions", []):
            if isinstance(item, Mapping) and item.get("code"):
                count = item.get("affected")
                pairs.append((str(item["code"]), count if isinstance(count, int) else None))
        return pairs

    def _affected(self, words: Mapping[str, Any]) -> list[str]:
        pairs = self._affected_pairs()
        known = [n for _, n in pairs if n is not None]
        if not known:
            return []
        total = _number(sum(known), words)
        if len(pairs) == 1:
            return [total]
        parts = [
            f"{c} {_number(n, words)}" if n is not None else f"{c}: {words['not_yet_counted']}"
            for c, n in pairs
        ]
        return [f"{total} ({'; '.join(parts)})"]

    def _answer(self, path: str) -> list[str]:
        step_id, field = path.split(".", 1)
        for step in self.steps:
            if step.step_id == step_id and step.status == "done" and step.answer:
                value = step.answer.get(field)
                if isinstance(value, list):
                    return [str(v) for v in value if str(v).strip()]
                if value not in (None, ""):
                    return [str(value)]
        return []

    def _controller(self) -> str:
        # The receiving party processes what the disclosing party shared; as a processor, the other one.
        return "disclosing" if self.facts.get("acting_as") == "processor" else "receiving"

    # ---- what the reviewer must know -------------------------------------------------------------

    def _glossary_used(self, contexts: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
        blob = " ".join(json.dumps(c["sections"], ensure_ascii=False) for c in contexts)
        return [{"term": t, "definition": d} for t, d in self.agreement.glossary.items() if t in blob]

    def _warnings(self, plan: Plan, english: Mapping[str, Any]) -> list[str]:
        warnings = []
        secret = [c for c in self.facts.get("data_categories", []) if c in NON_PERSONAL]
        used = [
            t for t in self.agreement.glossary if t in json.dumps(english["sections"], ensure_ascii=False)
        ]
        if secret or used:
            clause = self.agreement.confidentiality_clause or FILL_MARK.format(
                "the agreement's confidentiality clause"
            )
            what = ", ".join(c.replace("_", " ") for c in secret) or "information the agreement defines"
            terms = f" The draft uses the agreement's defined term(s) {', '.join(used)}." if used else ""
            warnings.append(
                f"This incident involves the counterparty's confidential information ({what}).{terms} "
                f"Say only what {plan.rows[0].citation} asks: these are not personal data and are not "
                f"listed as such; do not describe them beyond what the law requires. The confidentiality "
                f"clause ({clause}) of the {self.agreement.title} still binds this notice; narrow what is "
                f"disclosed as the {_narrow_step()} step of the {_NARROW_STEP[0]} playbook says, and tell "
                f"the counterparty what was shared with {plan.rows[0].recipient}."
            )
        words = re.compile(
            "|".join([_SECRET_WORDS.pattern, *(re.escape(t) for t in self.agreement.glossary)]), re.IGNORECASE
        )
        quoting = [
            f"{e['label']} ({e['citation']})"
            for section in english["sections"]
            for e in section["elements"]
            if any(words.search(v) for v in e["values"])
        ]
        if quoting:
            warnings.append(
                "These elements quote the record and describe the counterparty's confidential information; "
                f"keep only what the law asks there: {'; '.join(quoting)}."
            )
        return warnings

    def _notes(self, plan: Plan, language: str, state: str | None) -> list[str]:
        notes = []
        if plan.regime is None:
            notes.append(
                f"No content requirements are recorded for rule {plan.rows[0].rule_id} yet; the draft "
                "cites its law and leaves its content to you. Add a regime under regimes/ to draft it."
            )
        if state is not None and plan.regime is not None:
            notes.append(
                f"Written in {language} for the authority of {state}, where most people are affected. "
                f"If another authority leads, change `by_jurisdiction` in the workspace's "
                f"regimes/{plan.regime.family}.yaml or translate it."
            )
        if language != "en":
            notes.append(
                f"What the record fills in (step titles, answers, names) stays as written; translate it into "
                f"{language} with the rest before sending."
            )
        unconfirmed = [
            e.citation for e in plan.notice.elements if not e.confirmed
        ]  # English: for the reviewer
        if unconfirmed:
            notes.append(
                "These elements were read from the regulator's form or guidance, not yet from the text "
                f"itself; check them: {', '.join(dict.fromkeys(unconfirmed))}."
            )
        return notes


def window_zones(catalogue: Iterable[Rule]) -> dict[tuple[str, str], str]:
    """Each rule stage's time zone, by (rule id, stage name): the window's own, else the zone in which
    the jurisdiction counts its days (UTC for a bloc, whose member states differ)."""
    return {
        (rule.id, stage.name): stage.window.timezone or zone_of(rule.jurisdiction)
        for rule in catalogue
        for stage in rule.stages
    }


@functools.cache
def _narrow_step() -> str:
    """The title of the step that narrows a compelled disclosure, quoted to the reviewer."""
    from breachops.playbooks import load_playbook

    try:
        title = load_playbook(_NARROW_STEP[0]).step(_NARROW_STEP[1]).title
    except (InputError, KeyError, LookupError):
        return f'"{_NARROW_STEP[1]}"'
    return f'"{title}" ({_NARROW_STEP[1]}: narrow what is disclosed)'


def _number(value: int, words: Mapping[str, Any]) -> str:
    return f"{value:,}".replace(",", str(words.get("thousands", ",")))


def _person(contact: Contact) -> str:
    return f"{contact.name}, {contact.email}"

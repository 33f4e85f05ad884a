"""Regime files and notice templates as input: validated on load, consistent with the rule catalogue,
overridable in a workspace but never allowed to drop an element the law requires; the agreement's
glossary in both languages; what the counterparty is told; every draft a well-formed email."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from breachops.config.agreements import load_agreement, parse_agreement
from breachops.config.rule_files import load_catalogue
from breachops.errors import InputError
from breachops.notifications.channels.outbox import OutboxChannel
from breachops.notifications.drafts import plan_drafts, regimes_for
from breachops.notifications.outbox import dispatch
from breachops.notifications.regimes import LANGUAGES, load_regimes, shipped_regime_files
from breachops.notifications.render import RenderError, template_words
from breachops.store.models import Message, StepRow

from .drafting import (
    AGREEMENT,
    READER,
    Incident,
    draft_everything,
    draft_part,
    drafts,
    element_values,
    open_incident,
    the_draft,
    with_writer,
    working_copy,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "breachops" / "notifications" / "templates"


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Incident:
    made = open_incident(tmp_path_factory.mktemp("files") / "ws")
    draft_everything(made)
    return made


def test_every_regime_serves_catalogue_rules_of_its_audience_in_their_own_zone() -> None:
    catalogue = load_catalogue()
    for regime in regimes_for(None).regimes:
        for notice in regime.notices:
            for rule_id in notice.rules:
                rule = catalogue.get(rule_id)
                assert rule is not None, (regime.family, rule_id)
                assert rule.audience == notice.audience, (regime.family, rule_id)
                names = {s.name for s in rule.stages}
                assert set(notice.stages) | set(notice.internal_stages) <= names, (regime.family, rule_id)
                for stage in rule.stages:
                    # A window without a zone counts in the zone of the jurisdiction concerned.
                    zone = stage.window.timezone
                    if zone not in (None, "UTC") and stage.name not in notice.internal_stages:
                        assert stage.window.timezone == (notice.timezone or regime.timezone), (
                            rule_id,
                            stage.name,
                        )
            assert all(e.citation for e in notice.elements)
        assert str(regime.reviewed) == "2026-12-01" and all(s.startswith("https://") for s in regime.sources)


def test_each_language_file_has_the_same_words() -> None:
    english = template_words("notices/lang/en.j2")
    for language in LANGUAGES:
        words = template_words(f"notices/lang/{language}.j2")
        assert set(words) == set(english), language
        assert set(words["categories"]) == set(english["categories"]), language


def _write(folder: Path, name: str, data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _shipped(family: str) -> dict:  # type: ignore[type-arg]
    path = next(p for p in shipped_regime_files() if p.stem == family)
    return yaml.safe_load(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_a_regime_missing_a_translation_is_refused_naming_file_and_element(tmp_path: Path) -> None:
    data = _shipped("lgpd")
    del data["notices"][0]["sections"][0]["elements"][6]["label"]["pt-BR"]
    path = _write(tmp_path / "regimes", "lgpd.yaml", data)
    with pytest.raises(InputError) as caught:
        load_regimes(tmp_path / "regimes")
    assert caught.value.source == str(path) and "element 'data_nature' has no pt-BR text" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        (lambda d: d["notices"][0]["sections"][0]["elements"][0].update(fill="summary"), "fill", "summary"),
        (lambda d: d.update(languages=["pt-PT"]), "languages", "pt-PT"),
        (lambda d: d["notices"][0].update(rules=["Not A Rule"]), "rules", "Not A Rule"),
        (lambda d: d.update(timezone="Brasil/Leste"), "timezone", "Brasil/Leste"),
    ],
)
def test_bad_regime_input_names_file_field_and_value(tmp_path: Path, change, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    data = _shipped("lgpd")
    change(data)
    path = _write(tmp_path / "regimes", "lgpd.yaml", data)
    with pytest.raises(InputError) as caught:
        load_regimes(tmp_path / "regimes")
    message = str(caught.value)
    assert message.startswith(str(path)) and field in message and value in message, message


def test_a_workspace_regime_replaces_the_shipped_family(tmp_path: Path) -> None:
    data = _shipped("korea")
    data["languages"] = ["ko", "en"]
    _write(tmp_path / "regimes", "korea.yaml", data)
    regimes = load_regimes(tmp_path / "regimes")
    korea = [r for r in regimes.regimes if r.family == "korea"]
    assert (
        len(korea) == 1 and korea[0].languages == ("ko", "en") and korea[0].origin.startswith(str(tmp_path))
    )


def _gdpr_draft(incident: Incident, template_dir: Path) -> str:
    def make(writer, rows):  # type: ignore[no-untyped-def]
        plan = next(p for p in plan_drafts(rows, writer.regimes) if p.notice.id == "authority")
        return writer.context(plan)["notice_text"]

    return with_writer(incident, make, template_dir=template_dir)  # type: ignore[no-any-return]


def test_a_workspace_template_that_drops_a_required_element_is_refused_by_name(
    incident: Incident, tmp_path: Path
) -> None:
    folder = tmp_path / "templates" / "notices"
    folder.mkdir(parents=True)
    # a "shorter" German GDPR notice that leaves out everything after the first element
    (folder / "gdpr.de.txt.j2").write_text(
        "{{ notice.title }}\n{% set e = sections[0].elements[0] %}{{ e.label }} ({{ e.citation }}): "
        "{{ e['values']|join(', ') or e.gap }}\n",
        encoding="utf-8",
    )
    with pytest.raises(RenderError) as caught:
        _gdpr_draft(incident, tmp_path / "templates")
    text = str(caught.value)
    assert (
        "gdpr.de.txt.j2" in text
        and "element subject_categories" in text
        and "Art. 33 Abs. 3 Buchst. a DSGVO" in text
    )


def test_a_workspace_template_that_keeps_every_element_is_used(incident: Incident, tmp_path: Path) -> None:
    folder = tmp_path / "templates" / "notices"
    folder.mkdir(parents=True)
    source = (TEMPLATES / "notices" / "notice.txt.j2").read_text(encoding="utf-8")
    (folder / "gdpr.txt.j2").write_text(
        source.replace("{% block masthead %}\n", "{% block masthead %}\nBRIEFKOPF\n")
    )
    text = _gdpr_draft(incident, tmp_path / "templates")
    assert text.startswith("BRIEFKOPF\nMeldung einer Verletzung des Schutzes personenbezogener Daten")


def test_glossary_is_checked_and_used_in_the_draft_and_its_working_copy(tmp_path: Path) -> None:
    data = yaml.safe_load(AGREEMENT.read_text(encoding="utf-8"))
    with pytest.raises(InputError, match="glossary"):
        parse_agreement({**data, "glossary": {"Licensed Know-How": " "}}, "agreement.yaml")
    data["glossary"] = {
        "Licensed Know-How": "the technical information the Licensor discloses under clause 2",
        "Affiliate": "any entity controlling, controlled by or under common control with a party",
    }
    data["confidentiality_clause"] = "§ 8 (Confidentiality)"
    agreement = parse_agreement(data, "agreement.yaml")
    # a workspace GDPR regime whose nature of the breach comes from the scope gate's answer
    regime = _shipped("gdpr")
    regime["notices"][0]["sections"][0]["elements"][0]["fill"] = "answer:scope-disclosure.recipients"
    _write(tmp_path / "ws" / "regimes", "gdpr.yaml", regime)
    made = open_incident(tmp_path / "ws", agreement=agreement)
    with made.app.transaction() as session:
        step = session.scalars(select(StepRow).where(StepRow.step_id == "scope-disclosure")).one()
        step.answer = {"recipients": "Licensed Know-How and a customer file, pushed to a public repository"}
    draft_everything(made)
    messages = drafts(made)
    body = the_draft(messages, "eu-gdpr-art33-authority/notification").body_text
    draft, copy = draft_part(body), working_copy(body)
    assert copy is not None
    assert 'Begriffsbestimmungen (laut Vertrag)\n- "Licensed Know-How": the technical information' in draft
    assert 'Defined terms (as in the agreement)\n- "Licensed Know-How": the technical information' in copy
    assert "Affiliate" not in body  # only the terms the draft uses
    assert (
        "Licensed Know-How and a customer file"
        in element_values(
            draft, "Art der Verletzung des Schutzes personenbezogener Daten", "Art. 33 Abs. 3 Buchst. a DSGVO"
        )[0]
    )
    assert "§ 8 (Confidentiality)" in body and "defined term(s) Licensed Know-How" in body
    assert "These elements quote the record and describe the counterparty's confidential information" in body
    # the counterparty's notice quotes the whole glossary and says what goes to which authority
    counterparty = next(
        m
        for m in messages
        if m.idempotency_key.endswith(
            "|contract-receiving-to-disclosing/notification|receiving.incident_lead"
        )
    )
    assert '- "Affiliate": any entity controlling' in counterparty.body_text
    shared = counterparty.body_text.split("Notices to authorities and to the people affected\n", 1)[1]
    assert "- Autoridade Nacional de Proteção de Dados (ANPD), incident communication form (LGPD" in shared
    assert (
        "to be notified by 2026-11-28 02:59 UTC; shared: personal data (personal, health, credentials) of about 8,750"
        in shared
    )
    assert "no Confidential Information beyond what the law requires" in shared
    assert "trade_secret" not in shared and "source_code" not in shared


def test_every_part_of_every_draft_parses_with_the_standard_library(incident: Incident) -> None:
    messages = [
        m for m in drafts(incident) if m.idempotency_key.endswith(f"|{READER}") or "counterparty" in m.kind
    ]
    report = dispatch(incident.app, OutboxChannel(incident.app.workspace, clock=incident.app.clock),
                      keys=[m.idempotency_key for m in messages])  # fmt: skip
    assert report is not None
    files = sorted((incident.app.workspace / "outbox").glob("*.eml"))
    assert len(files) >= len(messages) > 20
    by_key = {m.idempotency_key: m for m in messages}
    for path in files:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        key = str(parsed["X-Breachops-Key"])
        if key not in by_key:
            continue
        message = by_key.pop(key)
        assert str(parsed["Subject"]) == message.subject
        plain = parsed.get_body(("plain",))
        html = parsed.get_body(("html",))
        assert plain is not None and html is not None
        # quoted-printable on CRLF lines: the decoded text is the body, line ends aside
        assert plain.get_content().replace("\r\n", "\n") == message.body_text  # type: ignore[attr-defined]
        assert html.get_content().replace("\r\n", "\n") == message.body_html  # type: ignore[attr-defined]
        for part in parsed.walk():
            assert not part.defects, (key, part.defects)
    assert not by_key, sorted(by_key)


def test_the_example_agreement_still_loads_without_a_glossary() -> None:
    agreement = load_agreement(AGREEMENT)
    assert agreement.glossary == {} and agreement.confidentiality_clause is None


def test_shipped_templates_hold_every_element_in_every_language_they_are_used_in() -> None:
    from breachops.notifications.notice_templates import check_notice_template, notice_template

    checked = 0
    for regime in regimes_for(None).regimes:
        for notice in regime.notices:
            languages = {
                "en",
                *regime.languages_of(notice),
                *(x for j in regime.by_jurisdiction.values() for x in j.languages),
            }
            for language in languages:
                for suffix in ("txt", "html"):
                    check_notice_template(
                        notice_template(regime.family, notice, language, suffix, None), notice, language, None
                    )
                    checked += 1
    assert checked > 60


def test_a_gate_answer_fills_its_element_and_a_quote_of_confidential_matter_is_flagged(
    tmp_path: Path,
) -> None:
    made = open_incident(tmp_path / "ws")
    with made.app.transaction() as session:
        step = session.scalars(select(StepRow).where(StepRow.step_id == "fix-root-cause")).one()
        step.status = "done"
        step.answer = {
            "fix_summary": "A public link on the build server exposed the source code and a customer file."
        }
    draft_everything(made)
    body = the_draft(drafts(made), "jp-appi-art26-ppc/final", "jp-appi-art26-ppc/preliminary").body_text
    cause = element_values(draft_part(body), "原因", "施行規則第8条第1項第4号")
    assert cause == ["A public link on the build server exposed the source code and a customer file."]
    assert "keep only what the law asks there: Cause (Enforcement Rules Art. 8(1)(iv))" in body
    assert "translate it into ja" in body  # the answer is in English inside the Japanese draft


def test_a_broken_workspace_regime_refuses_drafts_and_stores_nothing(tmp_path: Path) -> None:
    made = open_incident(tmp_path / "ws")  # the opening messages need no regime
    path = _write(tmp_path / "ws" / "regimes", "lgpd.yaml", {"family": "lgpd", "languages": ["pt-BR"]})
    with made.app.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Message))
    assert before
    with pytest.raises(InputError) as caught:
        draft_everything(made)
    assert caught.value.source == str(path)
    with made.app.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == before


def test_a_text_that_is_not_a_string_is_refused(tmp_path: Path) -> None:
    data = _shipped("japan")
    data["notices"][0]["title"]["ja"] = 8
    path = _write(tmp_path / "regimes", "japan.yaml", data)
    with pytest.raises(InputError) as caught:
        load_regimes(tmp_path / "regimes")
    assert str(caught.value).startswith(f"{path}: notices[0].title") and "ja text must be" in str(
        caught.value
    )

"""Each law's notice draft: every element the law lists (or a gap naming it and its citation), the
law's own name, the obligation's own deadline, and the language its recipient accepts.

The incident of ``drafting.EVERY_REGIME_FACTS`` owes a notice under every shipped regime. Worked
example of a deadline, by hand from the rule files: aware 2026-11-24 16:30 -03:00 = 19:30 UTC;
GDPR Art. 33(1) 72 h -> 2026-11-27 19:30 UTC = 20:30 CET in Berlin (where DE's authority sits).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from breachops.notifications.drafts import NON_PERSONAL, plan_drafts, regimes_for
from breachops.notifications.render import FILL_MARK, local
from breachops.store.models import Message

from .drafting import (
    MARKERS,
    NON_PERSONAL_WORDS,
    READER_ZONE,
    Incident,
    draft_everything,
    draft_part,
    drafts,
    element_values,
    obligations,
    open_incident,
    the_draft,
    without,
    working_copy,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("BREACHOPS_UPDATE_SNAPSHOTS") == "1"

# family, notice, the obligations its draft serves, the language the recipient gets
CASES = [
    ("gdpr", "authority", ("eu-gdpr-art33-authority/notification",), "de"),
    ("gdpr", "individuals", ("eu-gdpr-art34-individuals/notification",), "de"),
    ("uk_gdpr", "ico", ("gb-ukgdpr-art33-ico/notification",), "en"),
    ("uk_gdpr", "individuals", ("gb-ukgdpr-art34-individuals/notification",), "en"),
    ("lgpd", "anpd", ("br-anpd-res15-art6/communication", "br-anpd-res15-art6/complement"), "pt-BR"),
    ("lgpd", "titulares", ("br-anpd-res15-art9-individuals/notification",), "pt-BR"),
    ("hipaa", "individuals", ("us-hipaa-164-404-individuals/notification",), "en"),
    ("hipaa", "hhs", ("us-hipaa-164-408-hhs/notification",), "en"),
    ("sec", "form-8k-item-1-05", ("us-sec-8k-item-1-05/notification",), "en"),
    ("california", "residents", ("us-ca-civ-1798-82-residents/notification",), "en"),
    ("pipeda", "opc", ("ca-pipeda-s10-1-opc/notification",), "en"),
    ("pipeda", "individuals", ("ca-pipeda-s10-1-3-individuals/notification",), "en"),
    ("australia", "oaic", ("au-privacy-act-ndb-oaic/statement",), "en"),
    ("australia", "individuals", ("au-privacy-act-ndb-individuals/notification",), "en"),
    (
        "singapore",
        "pdpc",
        ("sg-pdpa-s26d-commission-harm/notification", "sg-pdpa-s26d-commission-scale/notification"),
        "en",
    ),
    ("singapore", "individuals", ("sg-pdpa-s26d-2-individuals/notification",), "en"),
    ("korea", "pipc", ("kr-pipa-art34-pipc/notification",), "ko"),
    ("korea", "data-subjects", ("kr-pipa-art34-data-subjects/notification",), "ko"),
    ("japan", "ppc", ("jp-appi-art26-ppc/final", "jp-appi-art26-ppc/preliminary"), "ja"),
    ("japan", "principals", ("jp-appi-art26-2-individuals/notification",), "ja"),
    ("nis2", "early-warning", ("eu-nis2-art23/early_warning",), "en"),
    ("nis2", "notification", ("eu-nis2-art23/notification",), "en"),
    ("nis2", "final-report", ("eu-nis2-art23/final_report",), "en"),
    ("dora", "initial", ("eu-dora-art19/initial",), "en"),
    ("dora", "intermediate", ("eu-dora-art19/intermediate",), "en"),
    ("dora", "final-report", ("eu-dora-art19/final_report",), "en"),
]
IDS = [f"{family}-{notice}" for family, notice, _, _ in CASES]


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> Incident:
    made = open_incident(tmp_path_factory.mktemp("regimes") / "ws")
    draft_everything(made)
    return made


@pytest.fixture(scope="module")
def messages(incident: Incident) -> list[Message]:
    return drafts(incident)


def _notice(family: str, notice_id: str):  # type: ignore[no-untyped-def]
    regime = next(r for r in regimes_for(None).regimes if r.family == family)
    return regime, next(n for n in regime.notices if n.id == notice_id)


def test_every_regime_family_is_exercised() -> None:
    assert {family for family, *_ in CASES} == {r.family for r in regimes_for(None).regimes}
    assert len({family for family, *_ in CASES}) >= 12


@pytest.mark.parametrize(("family", "notice_id", "keys", "language"), CASES, ids=IDS)
def test_draft_holds_every_element_cites_its_law_and_its_own_deadline(
    incident: Incident,
    messages: list[Message],
    family: str,
    notice_id: str,
    keys: tuple[str, ...],
    language: str,
) -> None:
    regime, notice = _notice(family, notice_id)
    message = the_draft(messages, *keys)
    body, draft = message.body_text, draft_part(message.body_text)
    assert f", {language}) -----\n" in body  # the draft's language, named where it begins
    # every element: its label in the recipient's language, its citation, then a value or its gap
    for element in notice.elements:
        if element.only_if_late:
            continue  # nothing is late at START
        label, citation = element.label.get(language), element.citation_in(language)
        values = element_values(draft, label, citation)
        assert values, (element.id, "has neither a value nor a gap")
        gap = FILL_MARK.format(f"{label} ({citation})")
        assert values == [gap] or gap not in values, element.id
        if element.fill is None:
            assert values == [gap], element.id  # nothing on record fills it: a person must
    # the law it cites, and no other regime's (outside the obligation's own citation, which may name
    # what it amends: the UK GDPR is "retained Regulation (EU) 2016/679")
    rows = {o.key: o for o in obligations(incident)}
    assert notice.law.get(language) in draft and notice.title.get(language) in draft
    rest = without(body, *(rows[k].citation for k in keys))
    for other, marker in MARKERS.items():
        if other != family:
            assert not marker.search(rest), (other, marker.search(rest))
    # each obligation's own deadline, in the recipient's zone and the reader's
    zone = regime.by_jurisdiction["DE"].timezone if family == "gdpr" else notice.timezone or regime.timezone
    for key in keys:
        row = rows[key]
        assert row.due is not None
        line = next(
            x
            for x in body.splitlines()
            if x.startswith(f"Deadline under {row.citation} ({row.stage.replace('_', ' ')})")
        )
        assert local(row.due, zone) in line and local(row.due, READER_ZONE) in line, line
    first = min((rows[k] for k in keys), key=lambda r: r.due or datetime.max.replace(tzinfo=UTC))
    assert first.citation in message.subject and local(first.due, zone) in message.subject  # type: ignore[arg-type]
    # an English working copy beside a draft in another language, with the same elements
    copy = working_copy(body)
    if language == "en":
        assert copy is None
    else:
        assert copy is not None and notice.law.en in copy
        for element in notice.elements:
            if not element.only_if_late:
                element_values(copy, element.label.en, element.citation)


@pytest.mark.parametrize(("family", "notice_id", "keys", "language"), CASES, ids=IDS)
def test_no_non_personal_category_is_listed_as_personal_data(
    messages: list[Message], family: str, notice_id: str, keys: tuple[str, ...], language: str
) -> None:
    message = the_draft(messages, *keys)
    draft = draft_part(message.body_text)
    assert not NON_PERSONAL_WORDS.search(draft)
    _, notice = _notice(family, notice_id)
    for element in notice.elements:
        if element.fill == "personal_data":
            values = element_values(draft, element.label.get(language), element.citation_in(language))
            assert len(values) == 3, values  # personal, health, credentials; never the trade secret or code
    # the reviewer is warned, with the agreement's confidentiality clause and the playbook step
    assert "confidential information (trade secret, source code)" in message.body_text
    assert "narrow what is disclosed" in message.body_text
    assert {c.replace("_", " ") for c in NON_PERSONAL} >= {"trade secret", "source code"}


@pytest.mark.parametrize(("family", "notice_id", "keys", "language"), CASES, ids=IDS)
def test_snapshot_of_each_regimes_draft(
    messages: list[Message], family: str, notice_id: str, keys: tuple[str, ...], language: str
) -> None:
    """The reader's copy as it stands; BREACHOPS_UPDATE_SNAPSHOTS=1 rewrites the files after a change."""
    message = the_draft(messages, *keys)
    text = f"Subject: {message.subject}\n\n{message.body_text}"
    path = SNAPSHOTS / f"{family}-{notice_id}.txt"
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote the missing snapshot {path.name}; check it and run again")
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; BREACHOPS_UPDATE_SNAPSHOTS=1 rewrites it"
    )


def test_anpd_draft_is_portuguese_and_cites_lgpd_48_and_resolution_15(messages: list[Message]) -> None:
    message = the_draft(messages, "br-anpd-res15-art6/communication", "br-anpd-res15-art6/complement")
    draft = draft_part(message.body_text)
    assert "Comunicação de incidente de segurança à ANPD" in draft
    assert "art. 48 da LGPD (Lei nº 13.709/2018) e art. 6º da Resolução CD/ANPD nº 15/2024" in draft
    assert "Para: Autoridade Nacional de Proteção de Dados (ANPD)" in draft and "Nossa referência" in draft
    # 5400 + 1200 + 640 + 300 + 250 + 600 + 150 + 120 + 90 = 8,750, written the Brazilian way
    assert element_values(draft, "Titulares envolvidos - número de titulares afetados, discriminando, quando "
                          "aplicável, o número de crianças, de adolescentes ou de idosos",
                          "LGPD Art. 48 §1 II; Res. CD/ANPD 15/2024 Art. 6 II")[0].startswith("8.750 (BR 5.400;")  # fmt: skip
    assert (
        "dados de saúde" in draft
        and "Article 33" not in message.body_text
        and "GDPR" not in message.body_text
    )
    # communication within 3 working days, complement within 20 more: two deadlines, one draft
    assert message.body_text.count("Deadline under ") == 2
    assert "(communication): 2026-11-27 23:59 -03 (America/Sao_Paulo)" in message.body_text


def test_california_letter_has_the_statutory_title_headings_and_type_size(messages: list[Message]) -> None:
    message = the_draft(messages, "us-ca-civ-1798-82-residents/notification")
    draft = draft_part(message.body_text)
    assert draft.split("-----\n", 1)[1].lstrip().startswith("Notice of Data Breach\n")
    headings = ["What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do",
                "For More Information"]  # fmt: skip
    positions = [draft.index(f"\n{h}\n") for h in headings]
    assert positions == sorted(positions)
    assert "Civ. Code § 1798.82(d)(2)(B)" in draft and "Civ. Code § 1798.82(d)(2)(G)" in draft
    html = message.body_html.split('<div class="notice"', 1)[1]
    sizes = [float(s) for s in re.findall(r"font-size:(\d+(?:\.\d+)?)pt", html)]
    assert sizes and min(sizes) >= 10  # Civ. Code § 1798.82(d)(1): no smaller than 10-point type
    assert "<h2" in html and "Notice of Data Breach</h2>" in html


def test_sec_draft_follows_form_8k_item_1_05(messages: list[Message]) -> None:
    message = the_draft(messages, "us-sec-8k-item-1-05/notification")
    draft = draft_part(message.body_text)
    assert (
        "FORM 8-K" in draft
        and "CURRENT REPORT" in draft
        and "Item 1.05 Material Cybersecurity Incidents" in draft
    )
    for aspect in ("nature", "scope", "timing"):
        assert f"The material aspects of the {aspect} of the incident (Form 8-K Item 1.05(a))" in draft
    assert "including its financial condition and results of operations (Form 8-K Item 1.05(a))" in draft
    assert "Form 8-K Item 1.05, Instruction 2" in draft
    # four business days from materiality 2026-11-25 11:00 EST (Thanksgiving 26 Nov skipped) -> 2 Dec
    assert "2026-12-02 17:30 EST (America/New_York)" in message.subject
    assert "2026-11-25 11:00 EST (America/New_York) / 2026-11-25 16:00 UTC" in draft


def test_hipaa_letter_holds_every_element_of_164_404_c(messages: list[Message]) -> None:
    draft = draft_part(the_draft(messages, "us-hipaa-164-404-individuals/notification").body_text)
    for paragraph in "ABCDE":
        assert f"(45 CFR 164.404(c)(1)({paragraph}))" in draft, paragraph
    assert "toll-free telephone number" in draft
    assert element_values(draft, "Date of discovery of the breach", "45 CFR 164.404(c)(1)(A)") == [
        "2026-11-24 07:10 EST (America/New_York) / 2026-11-24 12:10 UTC"
    ]


def test_gdpr_draft_speaks_the_language_of_the_member_state_most_affected(tmp_path: Path) -> None:
    """FR 300 > ES 200 > IT 100 > DE 50: the authority of France; ask for reasons once 72 h are past."""
    from .drafting import EVERY_REGIME_FACTS

    for states, language, law in [
        (
            [("FR", 300), ("ES", 200), ("IT", 100), ("DE", 50)],
            "fr",
            "article 33 du règlement (UE) 2016/679 (RGPD)",
        ),
        ([("ES", 300), ("IT", 100)], "es", "artículo 33 del Reglamento (UE) 2016/679 (RGPD)"),
        ([("IT", 300), ("DE", 100)], "it", "articolo 33 del regolamento (UE) 2016/679 (GDPR)"),
        ([("NL", 300)], "en", "Article 33 of Regulation (EU) 2016/679 (GDPR)"),
    ]:
        facts = {
            **EVERY_REGIME_FACTS,
            "jurisdictions": [{"code": c, "affected": n} for c, n in states],
            "sectors": [],
            "data_categories": ["personal"],
        }
        made = open_incident(tmp_path / language / "ws", facts)
        draft_everything(made)
        message = the_draft(drafts(made), "eu-gdpr-art33-authority/notification")
        assert f", {language}) -----" in message.body_text and law in draft_part(message.body_text), language


def test_reasons_for_delay_are_asked_only_once_the_deadline_has_passed(incident: Incident) -> None:
    from breachops.notifications.render import render

    def late_draft(writer, rows):  # type: ignore[no-untyped-def]
        writer.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # past 27 Nov 19:30 UTC
        plan = next(p for p in plan_drafts(rows, writer.regimes) if p.notice.id == "ico")
        return render(plan.kind, {**writer.context(plan), "recipient": {"name": "R", "timezone": "UTC"}})

    from .drafting import with_writer

    out = with_writer(incident, late_draft)
    assert "Reasons for the delay (notification after 72 hours) (UK GDPR Art. 33(1))" in out.text
    assert "A deadline of this draft has passed" in out.text


def test_drafts_for_the_same_notice_and_recipient_are_grouped_with_stable_keys(
    incident: Incident, messages: list[Message]
) -> None:
    keys = [m.idempotency_key for m in messages]
    assert len(keys) == len(set(keys))
    grouped = [k for k in keys if "sg-pdpa-s26d-commission-harm" in k]
    assert grouped and all(
        "sg-pdpa-s26d-commission-harm/notification+sg-pdpa-s26d-commission-scale" in k for k in grouped
    )
    assert not any(
        k.endswith("|sg-pdpa-s26d-commission-scale/notification|" + k.rsplit("|", 1)[1]) for k in keys
    )
    # a single obligation keeps the key it always had: <incident>|<kind>|<obligation key>|<party>.<role>
    assert f"{incident.id}|regulator_notice_draft|eu-gdpr-art33-authority/notification|disclosing.dpo" in keys
    # the assessment of Australia's s. 26WH is the team's own deadline: no notice is drafted for it
    assert not any("au-privacy-act-ndb-oaic/assessment" in k for k in keys)
    assert draft_everything(incident) == []  # a replay queues nothing


def test_a_rule_no_regime_records_gets_a_draft_citing_only_its_own_law(messages: list[Message]) -> None:
    message = next(
        m for m in messages if "|us-ftc-glba-safeguards-314-4-j/notification|" in m.idempotency_key
    )
    draft = draft_part(message.body_text)
    assert "No content requirements are recorded for rule us-ftc-glba-safeguards-314-4-j" in message.body_text
    for marker in MARKERS.values():
        assert not marker.search(message.body_text)
    assert "[[FILL IN: The content this law requires" in draft

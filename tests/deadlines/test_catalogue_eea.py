"""The EEA, member by member: national NIS2 rules, the ePrivacy rules for telecom providers, and the
directory of authorities that names who a bloc rule's notice goes to.

Each worked example's due instant is derived by hand from the text cited beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest

from breachops.config.authorities import (
    EEA_STATES,
    REGIMES,
    Directory,
    load_authority_file,
    recipient_for,
    shipped_authority_files,
    shipped_directory,
)
from breachops.config.rule_files import load_catalogue
from breachops.deadlines.engine import assess
from breachops.deadlines.models import parse_facts
from breachops.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue()
DIRECTORY = shipped_directory()
NOW = datetime(2026, 1, 1, tzinfo=UTC)
ROME = ZoneInfo("Europe/Rome")
BERLIN = ZoneInfo("Europe/Berlin")
PRAGUE = ZoneInfo("Europe/Prague")

GARANTE = "Garante per la protezione dei dati personali (IT): https://servizi.gpdp.it/databreach/s/"
CNIL = "Commission nationale de l'informatique et des libertés (CNIL) (FR): https://notifications.cnil.fr/notifications/index"


def facts(**kw):
    return parse_facts(kw)


def obligations(f, rule_id):
    found = [o for o in assess(f, CATALOGUE, now=NOW).obligations if o.rule_id == rule_id]
    assert found, f"{rule_id} did not apply"
    return {o.stage: o for o in found}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# --- National NIS2 rules -------------------------------------------------------------------------


def test_czech_nis2_final_report_is_30_days_from_detection_not_a_month_after_the_notification():
    # Zákon č. 264/2025 Sb., as the national CERT states it (https://www.csirt-cz.cz/cs/formulare):
    # initial report within 24 h of detection, update within 72 h, final report within 30 days.
    # Detected Thursday 5 March 2026 14:00 CET (13:00Z):
    #   initial 6 March 13:00Z; update 8 March 13:00Z;
    #   final: 30 local days later, 4 April 14:00 Prague time, which is CEST (+02:00) after the
    #   29 March change, so 12:00Z.
    f = facts(
        aware_at="2026-03-05T14:00:00+01:00",
        discovered_at="2026-03-05T14:00:00+01:00",
        jurisdictions=["CZ"],
        sectors=["essential_entity"],
    )
    cz = obligations(f, "cz-nis2-zkb-264-2025-incident")
    assert cz["initial_report"].due == utc(2026, 3, 6, 13)
    assert cz["update"].due == utc(2026, 3, 8, 13)
    assert cz["final_report"].due == utc(2026, 4, 4, 12)
    assert cz["final_report"].due.astimezone(PRAGUE).hour == 14
    # The directive's reading (one month after the 72 h notification) would end days later.
    eu = obligations(f, "eu-nis2-art23")
    assert cz["final_report"].due < eu["final_report"].due
    assert "NÚKIB" in cz["initial_report"].recipient


def test_czech_nis2_rule_is_not_in_force_before_1_november_2025():
    f = facts(aware_at="2025-10-31T09:00:00+01:00", jurisdictions=["CZ"], sectors=["important_entity"])
    result = assess(f, CATALOGUE, now=NOW)
    assert not [o for o in result.obligations if o.rule_id == "cz-nis2-zkb-264-2025-incident"]
    why = [n.reason for n in result.not_applicable if n.rule_id == "cz-nis2-zkb-264-2025-incident"]
    assert why and "in force from 2025-11-01" in why[0]


def test_german_bsig_32_final_report_is_a_month_after_the_72_hour_notification_across_dst():
    # BSIG § 32(1) Nr. 1, 2, 4 (NIS2UmsuCG, BGBl. 2025 I Nr. 301): early warning within 24 h and
    # notification within 72 h of Kenntniserlangung; final report one month after the notification.
    # Aware Friday 27 March 2026 10:00 CET (09:00Z): early warning 28 March 09:00Z; notification
    # 30 March 09:00Z = 11:00 CEST (clocks went forward on 29 March, hours stay elapsed hours);
    # final report one month later on the Berlin calendar, 30 April 11:00 CEST = 09:00Z.
    f = facts(aware_at="2026-03-27T10:00:00+01:00", jurisdictions=["DE"], sectors=["essential_entity"])
    de = obligations(f, "de-nis2-bsig-32")
    assert de["early_warning"].due == utc(2026, 3, 28, 9)
    assert de["notification"].due == utc(2026, 3, 30, 9)
    assert de["notification"].due.astimezone(BERLIN) == datetime(2026, 3, 30, 11, tzinfo=BERLIN)
    assert de["final_report"].due == utc(2026, 4, 30, 9)
    assert "BSI" in de["early_warning"].recipient


def test_german_bsig_32_does_not_bind_before_6_december_2025():
    f = facts(aware_at="2025-12-05T12:00:00+01:00", jurisdictions=["DE"], sectors=["important_entity"])
    result = assess(f, CATALOGUE, now=NOW)
    assert "de-nis2-bsig-32" not in {o.rule_id for o in result.obligations}
    # The directive's rule still applies: the team is not left without a NIS2 duty.
    assert "eu-nis2-art23" in {o.rule_id for o in result.obligations}


def test_italian_final_report_month_is_clamped_to_the_end_of_february():
    # D.Lgs. 138/2024 art. 25: pre-notifica within 24 h, notifica within 72 h of awareness, relazione
    # finale within one month of the notifica. Aware Wednesday 28 January 2026 18:00 CET (17:00Z):
    # pre-notifica 29 January 17:00Z; notifica 31 January 17:00Z (18:00 in Rome); one month after
    # 31 January is 28 February (the month has no 31st), 18:00 CET = 17:00Z.
    f = facts(aware_at="2026-01-28T18:00:00+01:00", jurisdictions=["IT"], sectors=["important_entity"])
    it = obligations(f, "it-nis2-dlgs-138-2024-art25")
    assert it["pre_notification"].due == utc(2026, 1, 29, 17)
    assert it["notification"].due == utc(2026, 1, 31, 17)
    assert it["final_report"].due == utc(2026, 2, 28, 17)
    assert it["final_report"].due.astimezone(ROME) == datetime(2026, 2, 28, 18, tzinfo=ROME)
    assert "CSIRT Italia" in it["pre_notification"].recipient


def test_portuguese_alert_and_update_count_from_detection_from_3_april_2026():
    # Decreto-Lei n.º 125/2025 (in force 3 April 2026, 120 days after publication on 4 December 2025):
    # alert within 24 h of detecting the incident, update within 72 h. Detected Friday 10 April 2026
    # 09:30 in Lisbon (WEST, +01:00; 08:30Z): alert 11 April 08:30Z, update 13 April 08:30Z.
    f = facts(
        aware_at="2026-04-10T11:00:00+01:00",
        discovered_at="2026-04-10T09:30:00+01:00",
        jurisdictions=["PT"],
        sectors=["essential_entity"],
    )
    pt = obligations(f, "pt-nis2-dl-125-2025-incident")
    assert pt["alert"].due == utc(2026, 4, 11, 8, 30)
    assert pt["update"].due == utc(2026, 4, 13, 8, 30)

    # In force from the Lisbon calendar day: 00:30 local on 3 April is still 2 April in UTC.
    def applies(aware_at):
        f = facts(aware_at=aware_at, jurisdictions=["PT"], sectors=["essential_entity"])
        return "pt-nis2-dl-125-2025-incident" in {
            o.rule_id for o in assess(f, CATALOGUE, now=NOW).obligations
        }

    assert applies("2026-04-03T00:30:00+01:00")
    assert not applies("2026-04-02T23:30:00+01:00")


def test_lithuanian_final_report_counts_a_month_from_the_early_warning():
    # Kibernetinio saugumo įstatymas Art. 18(4): early warning within 24 h and notification within
    # 72 h of awareness; final report within one month from the day the point-1 notice (the early
    # warning) was submitted. Aware Monday 30 March 2026 10:00 in Vilnius (EEST, +03:00; 07:00Z):
    # early warning 31 March 07:00Z (10:00 local); notification 2 April 07:00Z; one month after
    # 31 March is 30 April (no 31st), 10:00 EEST = 07:00Z, days before the directive's reading.
    f = facts(aware_at="2026-03-30T10:00:00+03:00", jurisdictions=["LT"], sectors=["important_entity"])
    lt = obligations(f, "lt-nis2-ksi-art18-4")
    assert lt["early_warning"].due == utc(2026, 3, 31, 7)
    assert lt["notification"].due == utc(2026, 4, 2, 7)
    assert lt["final_report"].due == utc(2026, 4, 30, 7)
    assert lt["final_report"].due < obligations(f, "eu-nis2-art23")["final_report"].due


# --- ePrivacy (Regulation (EU) No 611/2013) -------------------------------------------------------


def test_eprivacy_authority_notice_is_24_elapsed_hours_from_detection_then_three_days():
    # Reg. 611/2013 Art. 2(2): no later than 24 hours after detection; Art. 2(3): the second
    # notification at the latest within three days following the initial notification.
    # Detected Saturday 24 October 2026 23:30 in Rome (CEST, 21:30Z); clocks go back at 01:00Z on
    # 25 October, but 24 h are elapsed hours: initial due 25 October 21:30Z (22:30 CET);
    # second notification three days (72 h, the stricter reading) after that, 28 October 21:30Z.
    f = facts(
        aware_at="2026-10-25T08:00:00+01:00",
        discovered_at="2026-10-24T23:30:00+02:00",
        jurisdictions=[{"code": "IT", "affected": 12000}],
        data_categories=["personal"],
        sectors=["telecom"],
        risk="none",
    )
    art2 = obligations(f, "eu-eprivacy-611-2013-art2-authority")
    assert art2["initial"].due == utc(2026, 10, 25, 21, 30)
    assert art2["initial"].due.astimezone(ROME) == datetime(2026, 10, 25, 22, 30, tzinfo=ROME)
    assert art2["second_notification"].due == utc(2026, 10, 28, 21, 30)
    # Every personal data breach, whatever the risk: the authority's notice applies at risk none.
    assert art2["initial"].basis == "deadline"
    # The competent authority of the member state is named from the directory (regime eprivacy).
    assert art2["initial"].recipient.startswith("Garante per la protezione dei dati personali (IT): https://")


def test_eprivacy_subscriber_notice_is_without_undue_delay_and_needs_an_adverse_effect():
    # Reg. 611/2013 Art. 3(1), (3): subscribers or individuals are told without undue delay after
    # detection when the breach is likely to adversely affect their data or privacy. Open term, so the
    # due time is the team's 72 h target from detection: 24 October 21:30Z + 72 h = 27 October 21:30Z.
    base = {
        "aware_at": "2026-10-24T23:30:00+02:00",
        "discovered_at": "2026-10-24T23:30:00+02:00",
        "jurisdictions": ["FR"],
        "data_categories": ["credentials"],
        "sectors": ["telecom"],
    }
    art3 = obligations(facts(**base, risk="likely"), "eu-eprivacy-611-2013-art3-subscribers")
    (o,) = art3.values()
    assert o.due == utc(2026, 10, 27, 21, 30)
    assert o.basis == "target" and o.term == "without undue delay"
    assert o.audience == "individuals"
    none = assess(facts(**base, risk="none"), CATALOGUE, now=NOW)
    assert "eu-eprivacy-611-2013-art3-subscribers" not in {x.rule_id for x in none.obligations}


def test_eprivacy_rules_need_the_telecom_sector():
    f = facts(aware_at="2026-10-24T23:30:00+02:00", jurisdictions=["IT"], data_categories=["personal"])
    result = assess(f, CATALOGUE, now=NOW)
    assert not {o.rule_id for o in result.obligations} & {
        "eu-eprivacy-611-2013-art2-authority",
        "eu-eprivacy-611-2013-art3-subscribers",
    }


# --- The directory of authorities ----------------------------------------------------------------


def test_the_directory_has_every_eea_state_for_every_regime_with_an_https_url():
    assert len(EEA_STATES) == 30
    for regime in REGIMES:
        assert DIRECTORY.countries(regime) == EEA_STATES, regime
    for entry in DIRECTORY.entries:
        for url in (entry.url, entry.source):
            parsed = urlparse(url)
            assert parsed.scheme == "https" and parsed.netloc, (entry.country, entry.regime, url)
        assert date(2026, 1, 1) <= entry.reviewed <= date(2027, 1, 1)
        if not entry.confirmed:
            assert entry.notes.strip(), (entry.country, entry.regime)


def test_every_nis2_record_says_whether_transposed_and_when_checked():
    for country in sorted(EEA_STATES):
        record = DIRECTORY.get(country, "nis2")
        assert record is not None and record.transposed is not None, country
        assert record.checked == date(2026, 12, 1), country
        if record.transposed:
            assert record.law, country
    italy = DIRECTORY.get("IT", "nis2")
    assert italy is not None and italy.transposed and italy.in_force_from == date(2024, 10, 16)
    assert "138" in (italy.law or "")


def test_the_directory_yaml_ships_as_package_data():
    files = shipped_authority_files()
    assert [p.name for p in files] == ["eea.yaml"]
    assert all(p.is_file() for p in files)


def test_a_gdpr_obligation_for_facts_in_italy_names_the_garante():
    f = facts(
        aware_at="2026-05-04T09:00:00+02:00",
        jurisdictions=[{"code": "IT", "affected": 800}],
        data_categories=["personal"],
        risk="likely",
    )
    (o,) = obligations(f, "eu-gdpr-art33-authority").values()
    assert o.recipient.startswith(GARANTE)
    # Notices to people keep their own recipient.
    high = facts(**{**f.model_dump(mode="json", exclude_none=True), "risk": "high"})
    (individuals,) = obligations(high, "eu-gdpr-art34-individuals").values()
    assert individuals.recipient == "the data subjects concerned"


def test_several_member_states_concerned_are_each_named_in_the_order_given():
    f = facts(
        aware_at="2026-05-04T09:00:00+02:00",
        jurisdictions=["FR", "US-CA", "IT", "FR"],
        data_categories=["personal"],
        risk="low",
    )
    (o,) = obligations(f, "eu-gdpr-art33-authority").values()
    assert o.recipient.startswith(f"{CNIL}; {GARANTE}")
    assert "one-stop shop" in o.recipient
    assert o.recipient.count("(FR)") == 1


def test_a_bloc_only_fact_or_a_non_member_keeps_the_rules_own_recipient():
    rule = CATALOGUE.get("eu-gdpr-art33-authority")
    assert rule is not None
    assert recipient_for(rule, ["EU"]) == rule.recipient
    assert recipient_for(rule, ["US-CA", "BR"]) == rule.recipient
    # A national rule names its own recipient, whatever the directory holds.
    national = CATALOGUE.get("cz-nis2-zkb-264-2025-incident")
    assert national is not None and recipient_for(national, ["CZ"]) == national.recipient


def test_the_nis2_rule_names_the_national_csirt_and_says_where_nis2_is_not_yet_transposed():
    rule = CATALOGUE.get("eu-nis2-art23")
    assert rule is not None
    text = recipient_for(rule, ["IT", "FR"])
    assert text.startswith("Agenzia per la cybersicurezza nazionale (ACN), CSIRT Italia (IT): https://")
    france = DIRECTORY.get("FR", "nis2")
    assert france is not None
    if not france.transposed:
        assert "(FR)" in text and "NIS2 not transposed as checked on 2026-12-01" in text


def test_recipient_for_uses_a_directory_it_is_given():
    rule = CATALOGUE.get("eu-gdpr-art33-authority")
    assert rule is not None
    assert recipient_for(rule, ["IT"], Directory(())) == rule.recipient


def test_the_deadlines_command_names_the_garante_for_facts_in_italy(tmp_path):
    # The caller's view: `breachops deadlines --format json` carries the named recipient.
    facts_file = tmp_path / "facts.yaml"
    facts_file.write_text(
        "aware_at: 2026-05-04T09:00:00+02:00\n"
        "jurisdictions: [{code: IT, affected: 800}]\n"
        "data_categories: [personal]\n"
        "risk: likely\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "breachops",
            "deadlines",
            str(facts_file),
            "--format",
            "json",
            "--now",
            "2026-05-04T10:00:00Z",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (row,) = [r for r in json.loads(result.stdout) if r["rule"] == "eu-gdpr-art33-authority"]
    assert row["recipient"].startswith(GARANTE)
    # 72 h from awareness at 07:00Z on 4 May (GDPR Art. 33(1)).
    assert row["due"] == "2026-05-07T07:00:00Z"


def test_gdpr_reaches_hungary_and_names_its_authority():
    """Hungary has been an EU member since 2004-05-01 (Act of Accession 2003); GDPR Art. 33 reaches it."""
    f = facts(aware_at="2026-05-04T09:00:00+02:00", jurisdictions=["HU"], data_categories=["personal"])
    (o,) = obligations(f, "eu-gdpr-art33-authority").values()
    assert "NAIH" in o.recipient


# --- Loader errors name file, field and value ------------------------------------------------------

GOOD = """
authorities:
  - country: IT
    regime: gdpr
    name: Garante per la protezione dei dati personali
    url: https://servizi.gpdp.it/databreach/s/
    source: https://www.edpb.europa.eu/notify-data-breach_en
    reviewed: 2026-12-01
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "authorities.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unquoted_no_is_norway(tmp_path):
    """YAML 1.2 core schema: `NO` is a string, so Norway's entry needs no quotes."""
    (entry,) = load_authority_file(
        write(tmp_path, GOOD.replace("country: IT", "country: NO").replace("Garante", "Datatilsynet"))
    )
    assert entry.country == "NO"


def test_a_valid_file_loads(tmp_path):
    (entry,) = load_authority_file(write(tmp_path, GOOD))
    assert entry.label == GARANTE


@pytest.mark.parametrize(
    ("change", "field", "needle"),
    [
        (("country: IT", "country: CH"), "authorities[0] (CH/gdpr).country", "not an EEA state"),
        (("url: https://servizi", "url: http://servizi"), "authorities[0] (IT/gdpr).url", "not an https URL"),
        (("regime: gdpr", "regime: dora"), "authorities[0] (IT/dora).regime", "gdpr"),
        (("reviewed: 2026-12-01", "reviewed: soon"), "authorities[0] (IT/gdpr).reviewed", "date"),
    ],
)
def test_a_bad_entry_is_refused_naming_file_field_and_value(tmp_path, change, field, needle):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError) as caught:
        load_authority_file(path)
    message = str(caught.value)
    assert caught.value.source == str(path)
    assert caught.value.field == field
    assert needle in message


def test_a_nis2_entry_needs_its_transposition_status(tmp_path):
    text = GOOD.replace("regime: gdpr", "regime: nis2")
    with pytest.raises(InputError, match="transposed"):
        load_authority_file(write(tmp_path, text))
    transposed = text + "    transposed: true\n    checked: 2026-12-01\n"
    with pytest.raises(InputError, match="law"):
        load_authority_file(write(tmp_path, transposed))


def test_transposition_fields_are_refused_outside_nis2(tmp_path):
    with pytest.raises(InputError, match="transposed belong to a nis2 entry"):
        load_authority_file(write(tmp_path, GOOD + "    transposed: true\n"))


def test_an_unconfirmed_entry_must_say_why(tmp_path):
    with pytest.raises(InputError, match="notes"):
        load_authority_file(write(tmp_path, GOOD + "    confirmed: false\n"))


def test_a_second_entry_for_the_same_country_and_regime_is_refused(tmp_path):
    entry = GOOD.split("authorities:\n", 1)[1]
    with pytest.raises(InputError) as caught:
        load_authority_file(write(tmp_path, GOOD + entry))
    assert caught.value.field == "authorities[1]" and caught.value.value == "IT/gdpr"


def test_every_eu_member_state_is_in_the_eu_bloc():
    """The 27 member states (europa.eu, "EU countries", read 2026-12-01): a state missing from the bloc
    would silently lose every EU rule."""
    from breachops.config.jurisdictions import BLOCS

    members = set(
        "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
    )
    assert len(members) == 27
    assert members <= BLOCS["EU"]

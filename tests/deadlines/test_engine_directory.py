"""The engine reads no authority directory itself: the catalogue brings the one it was loaded with,
and a caller may hand in another."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from breachops.config.authorities import Authority, Directory, shipped_directory
from breachops.config.rule_files import load_catalogue
from breachops.deadlines.engine import assess
from tests.deadlines.helpers import facts

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CATALOGUE = load_catalogue()
IN_ITALY = facts(
    aware_at="2026-05-04T09:00:00+02:00",
    jurisdictions=[{"code": "IT", "affected": 1200}],
    data_categories=["personal"],
    risk="high",
)


def _recipient(**kw: object) -> str:
    result = assess(IN_ITALY, kw.pop("rules", CATALOGUE), now=NOW, **kw)  # type: ignore[arg-type]
    (o,) = [o for o in result.obligations if o.rule_id == "eu-gdpr-art33-authority"]
    return o.recipient


def test_a_loaded_catalogue_carries_the_shipped_directory():
    assert CATALOGUE.directory is shipped_directory()
    assert _recipient().startswith("Garante per la protezione dei dati personali (IT): https://")


def test_a_directory_handed_in_names_its_authority_and_an_empty_one_keeps_the_rules_recipient():
    garante = shipped_directory().get("IT", "gdpr")
    assert garante is not None
    other = Authority.model_validate({**garante.model_dump(), "name": "Autorità di prova"})
    assert _recipient(directory=Directory((other,))).startswith("Autorità di prova (IT): https://")
    rule = CATALOGUE.get("eu-gdpr-art33-authority")
    assert rule is not None
    assert _recipient(directory=Directory(())) == rule.recipient
    # Asking again without one gives the catalogue's own again.
    assert _recipient().startswith("Garante per la protezione dei dati personali (IT)")


def test_a_catalogue_built_without_a_directory_uses_the_shipped_one():
    bare = replace(CATALOGUE, directory=None)
    assert _recipient(rules=bare).startswith("Garante per la protezione dei dati personali (IT): https://")

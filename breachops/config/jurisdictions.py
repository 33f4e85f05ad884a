"""Jurisdiction codes: ISO 3166-1 alpha-2 countries, ISO 3166-2 subdivisions, and the blocs EU and EEA."""

from __future__ import annotations

from functools import lru_cache

import pycountry

__all__ = ["BLOCS", "country_of", "covers", "describe", "normalise_code"]

EU_MEMBERS = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
)
BLOCS: dict[str, frozenset[str]] = {
    "EU": EU_MEMBERS,
    "EEA": EU_MEMBERS | {"IS", "LI", "NO"},
}
# Common spellings that are not ISO codes but that people write; mapped rather than refused.
# Puerto Rico, Guam and the US Virgin Islands have country codes of their own and are US subdivisions
# too; their own and the United States' rules reach people there, so both spellings mean the subdivision.
ALIASES = {"UK": "GB", "EL": "GR", "PR": "US-PR", "GU": "US-GU", "VI": "US-VI"}


@lru_cache(maxsize=4096)
def normalise_code(code: str) -> str:
    """Return the canonical code, or raise ValueError saying what a valid code looks like."""
    text = str(code).strip().upper()
    text = ALIASES.get(text, text)
    if text in BLOCS:
        return text
    if "-" in text:
        country, _, _ = text.partition("-")
        country = ALIASES.get(country, country)
        text = f"{country}-{text.partition('-')[2]}"
        if pycountry.subdivisions.get(code=text) is None:
            raise ValueError(
                f"{code!r} is not an ISO 3166-2 subdivision code (examples: US-CA, CA-QC, DE-BY)"
            )
        return text
    if pycountry.countries.get(alpha_2=text) is None:
        raise ValueError(
            f"{code!r} is not an ISO 3166-1 alpha-2 country code or a bloc (EU, EEA); examples: DE, BR, US-CA"
        )
    return text


def country_of(code: str) -> str:
    return code.partition("-")[0]


@lru_cache(maxsize=65536)
def covers(rule_jurisdiction: str, fact_code: str) -> bool:
    """Whether a rule of ``rule_jurisdiction`` reaches people in ``fact_code``.

    A country's rule reaches its subdivisions; a bloc's rule reaches its members; a subdivision's rule
    reaches only that subdivision. A fact given as a bloc (``EU``) is reached by the bloc's rules.
    """
    if rule_jurisdiction == fact_code:
        return True
    if rule_jurisdiction in BLOCS:
        return country_of(fact_code) in BLOCS[rule_jurisdiction] or (
            rule_jurisdiction == "EEA" and fact_code == "EU"
        )
    if "-" in rule_jurisdiction:
        return False
    return "-" in fact_code and country_of(fact_code) == rule_jurisdiction


@lru_cache(maxsize=4096)
def describe(code: str) -> str:
    if code in BLOCS:
        return {"EU": "European Union", "EEA": "European Economic Area"}[code]
    if "-" in code:
        sub = pycountry.subdivisions.get(code=code)
        return sub.name if sub else code
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)

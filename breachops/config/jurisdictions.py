"""Jurisdiction codes: ISO 3166-1 alpha-2 countries, ISO 3166-2 subdivisions, and the blocs EU and EEA.

A bloc is reached through membership with dates: a country belongs to the EU or the EEA only between
its accession and its withdrawal, and a rule of a bloc reaches it only on a day it belonged.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import pycountry

__all__ = [
    "BLOCS",
    "MEMBERSHIP",
    "all_jurisdictions",
    "blocs_of",
    "country_of",
    "covers",
    "describe",
    "is_member",
    "membership_changes",
    "normalise_code",
    "subdivisions",
]

# Membership periods (first day, last day or None). EU: accession dates of the Treaties; the EEC Treaty
# took effect on 1958-01-01. GB left on 2020-01-31, but EU law, the GDPR included, kept applying to
# and in the UK until the transition period ended on 2020-12-31 (Withdrawal Agreement Art. 126-127),
# so its reach ends on that day.
_EU_SINCE = {
    **dict.fromkeys(["BE", "DE", "FR", "IT", "LU", "NL"], date(1958, 1, 1)),
    **dict.fromkeys(["DK", "IE"], date(1973, 1, 1)),
    "GR": date(1981, 1, 1),
    **dict.fromkeys(["ES", "PT"], date(1986, 1, 1)),
    **dict.fromkeys(["AT", "FI", "SE"], date(1995, 1, 1)),
    **dict.fromkeys(["CY", "CZ", "EE", "HU", "LV", "LT", "MT", "PL", "SK", "SI"], date(2004, 5, 1)),
    **dict.fromkeys(["BG", "RO"], date(2007, 1, 1)),
    "HR": date(2013, 7, 1),
}
_GB_EU = (date(1973, 1, 1), date(2020, 12, 31))
# EEA: the Agreement took effect on 1994-01-01 (LI: 1995-05-01). A later EU member is counted in the
# EEA from its EU accession: the EEA enlargement agreements came a little later (BG and RO 2007-08-01,
# HR 2014-04-12), and the earlier date can only make a duty apply, never hide one.
_EEA_EFTA = {"IS": date(1994, 1, 1), "NO": date(1994, 1, 1), "LI": date(1995, 5, 1)}
MEMBERSHIP: dict[str, dict[str, tuple[date, date | None]]] = {
    "EU": {**{c: (d, None) for c, d in _EU_SINCE.items()}, "GB": _GB_EU},
    "EEA": {
        **{c: (max(d, date(1994, 1, 1)), None) for c, d in _EU_SINCE.items()},
        **{c: (d, None) for c, d in _EEA_EFTA.items()},
        "GB": (date(1994, 1, 1), date(2020, 12, 31)),
    },
}
# Today's members, for questions that carry no date (listing, indexing).
BLOCS: dict[str, frozenset[str]] = {
    bloc: frozenset(c for c, (_, until) in members.items() if until is None)
    for bloc, members in MEMBERSHIP.items()
}
_BLOC_NAMES = {"EU": "European Union", "EEA": "European Economic Area"}
# Common spellings that are not ISO codes but that people write; mapped rather than refused.
# The US territories (Puerto Rico, Guam, the US Virgin Islands, American Samoa, the Northern Mariana
# Islands, the Minor Outlying Islands) have country codes of their own and are US subdivisions too;
# their own and the United States' rules reach people there, so both spellings mean the subdivision.
ALIASES = {
    "UK": "GB",
    "EL": "GR",
    **{code: f"US-{code}" for code in ("PR", "GU", "VI", "AS", "MP", "UM")},
}


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
        if text not in subdivisions():
            raise ValueError(
                f"{code!r} is not an ISO 3166-2 subdivision code (examples: US-CA, CA-QC, DE-BY)"
            )
        return text
    if pycountry.countries.get(alpha_2=text) is None:
        raise ValueError(
            f"{code!r} is not an ISO 3166-1 alpha-2 country code or a bloc (EU, EEA); examples: DE, BR, US-CA"
        )
    return text


@lru_cache(maxsize=1)
def subdivisions() -> dict[str, str]:
    """Every ISO 3166-2 code with its name, read from pycountry's own data file: pycountry would build
    an object and indexes for each of its 5,000 subdivisions, a tenth of a second at every start that
    reads the catalogue, where codes and names are all that is asked."""
    entries = json.loads((Path(pycountry.DATABASE_DIR) / "iso3166-2.json").read_bytes())["3166-2"]
    return {entry["code"]: entry["name"] for entry in entries}


def country_of(code: str) -> str:
    return code.partition("-")[0]


def is_member(bloc: str, country: str, day: date | None = None) -> bool:
    """Whether ``country`` belonged to ``bloc`` on ``day`` (today's membership when no day is given)."""
    period = MEMBERSHIP.get(bloc, {}).get(country)
    if period is None:
        return False
    since, until = period
    if day is None:
        return until is None
    return since <= day and (until is None or day <= until)


@lru_cache(maxsize=65536)
def blocs_of(code: str, day: date | None = None) -> tuple[str, ...]:
    """The blocs whose rules reach people in ``code`` on ``day``. A bloc given as the code reaches
    itself and the other bloc: EU members are all in the EEA, and people "somewhere in the EEA" may be
    in the EU, so an EU rule is not ruled out for them."""
    if code in MEMBERSHIP:
        return tuple(MEMBERSHIP)
    country = country_of(code)
    if day is None:
        return _blocs_on(country, None)
    changes = _CHANGES.get(country)
    if changes is None:
        return ()
    # Membership stays the same between two changes: asked as of the last change, so that the many
    # days an engine asks of (one per incident) share one answer.
    since = bisect_right(changes, day)
    return _blocs_on(country, changes[since - 1] if since else date.min)


@lru_cache(maxsize=4096)
def _blocs_on(country: str, day: date | None) -> tuple[str, ...]:
    return tuple(bloc for bloc in MEMBERSHIP if is_member(bloc, country, day))


def _changes(country: str) -> tuple[date, ...]:
    """The days ``country`` joined or (the day after its last day) left a bloc, in order."""
    days: set[date] = set()
    for members in MEMBERSHIP.values():
        since, until = members.get(country, (None, None))
        days.update(d for d in (since, until and until + timedelta(days=1)) if d is not None)
    return tuple(sorted(days))


_CHANGES = {c: _changes(c) for members in MEMBERSHIP.values() for c in members}


def membership_changes(code: str) -> tuple[date, ...]:
    """The days on which the blocs reaching ``code`` change (``blocs_of`` is the same between two)."""
    return _CHANGES.get(country_of(code), ())


@lru_cache(maxsize=65536)
def covers(rule_jurisdiction: str, fact_code: str, day: date | None = None) -> bool:
    """Whether a rule of ``rule_jurisdiction`` reaches people in ``fact_code`` (on ``day``).

    A country's rule reaches its subdivisions; a bloc's rule reaches its members on the days they were
    members; a subdivision's rule reaches only that subdivision.
    """
    if rule_jurisdiction == fact_code:
        return True
    if rule_jurisdiction in MEMBERSHIP:
        return rule_jurisdiction in blocs_of(fact_code, day)
    if "-" in rule_jurisdiction:
        return False
    return "-" in fact_code and country_of(fact_code) == rule_jurisdiction


@lru_cache(maxsize=1)
def all_jurisdictions() -> tuple[str, ...]:
    """Every country, every US state with DC and the territories, and the blocs; a code that is
    another's alias (PR is US-PR) is listed once, under the code it means."""
    countries = sorted(c.alpha_2 for c in pycountry.countries if c.alpha_2 not in ALIASES)
    states = sorted(code for code in subdivisions() if code.startswith("US-"))
    return (*MEMBERSHIP, *countries, *states)


@lru_cache(maxsize=4096)
def describe(code: str) -> str:
    if code in _BLOC_NAMES:
        return _BLOC_NAMES[code]
    if "-" in code:
        return subdivisions().get(code, code)
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or (country.name if country else code)

"""The time zone in which a jurisdiction's days are counted: its capital's.

A day or month window ends at the end of a local day, and the law means the day where it applies, not
UTC's. Countries with one zone take it from the IANA zone table (tzdata's ``zone.tab``); for those with
several, and for the subdivisions whose rules are most often dated (US states, Canadian provinces,
Australian states), the capital's zone is kept below.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from breachops.config.jurisdictions import BLOCS, country_of

__all__ = ["zone_of", "zones_of_bloc"]

# Capitals of countries that span several zones.
_CAPITALS = {
    "AQ": "UTC",
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",  # Canberra
    "BR": "America/Sao_Paulo",  # Brasilia keeps Sao Paulo's time
    "CA": "America/Toronto",  # Ottawa
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "CY": "Asia/Nicosia",
    "DE": "Europe/Berlin",
    "EC": "America/Guayaquil",  # Quito
    "ES": "Europe/Madrid",
    "FM": "Pacific/Pohnpei",  # Palikir
    "GL": "America/Nuuk",
    "ID": "Asia/Jakarta",
    "KI": "Pacific/Tarawa",
    "KZ": "Asia/Almaty",  # Astana keeps Almaty's time
    "MH": "Pacific/Majuro",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",  # Wellington
    "PF": "Pacific/Tahiti",
    "PG": "Pacific/Port_Moresby",
    "PS": "Asia/Hebron",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UM": "Pacific/Wake",
    "US": "America/New_York",  # Washington, DC
    "UZ": "Asia/Tashkent",
    # Islands without a zone of their own in the table: the administering country's nearest zone.
    "BV": "Europe/Oslo",
    "HM": "Indian/Kerguelen",
}
# Capitals of subdivisions, where the country spans several zones.
_SUBDIVISIONS = {
    **dict.fromkeys(
        [
            "US-CT",
            "US-DC",
            "US-DE",
            "US-FL",
            "US-GA",
            "US-IN",
            "US-KY",
            "US-MA",
            "US-MD",
            "US-ME",
            "US-MI",
            "US-NC",
            "US-NH",
            "US-NJ",
            "US-NY",
            "US-OH",
            "US-PA",
            "US-RI",
            "US-SC",
            "US-VA",
            "US-VT",
            "US-WV",
        ],
        "America/New_York",
    ),
    **dict.fromkeys(
        [
            "US-AL",
            "US-AR",
            "US-IA",
            "US-IL",
            "US-KS",
            "US-LA",
            "US-MN",
            "US-MO",
            "US-MS",
            "US-ND",
            "US-NE",
            "US-OK",
            "US-SD",
            "US-TN",
            "US-TX",
            "US-WI",
        ],
        "America/Chicago",
    ),
    **dict.fromkeys(["US-CO", "US-MT", "US-NM", "US-UT", "US-WY"], "America/Denver"),
    "US-ID": "America/Boise",
    "US-AZ": "America/Phoenix",
    **dict.fromkeys(["US-CA", "US-NV", "US-OR", "US-WA"], "America/Los_Angeles"),
    "US-AK": "America/Juneau",
    "US-HI": "Pacific/Honolulu",
    "US-PR": "America/Puerto_Rico",
    "US-GU": "Pacific/Guam",
    "US-VI": "America/St_Thomas",
    "US-AS": "Pacific/Pago_Pago",
    "US-MP": "Pacific/Saipan",
    "US-UM": "Pacific/Wake",
    **dict.fromkeys(["CA-ON", "CA-QC"], "America/Toronto"),
    **dict.fromkeys(["CA-NS", "CA-NB", "CA-PE"], "America/Halifax"),
    "CA-NL": "America/St_Johns",
    "CA-MB": "America/Winnipeg",
    "CA-SK": "America/Regina",
    "CA-AB": "America/Edmonton",
    "CA-BC": "America/Vancouver",
    "CA-YT": "America/Whitehorse",
    "CA-NT": "America/Yellowknife",
    "CA-NU": "America/Iqaluit",
    **dict.fromkeys(["AU-NSW", "AU-ACT"], "Australia/Sydney"),
    "AU-VIC": "Australia/Melbourne",
    "AU-QLD": "Australia/Brisbane",
    "AU-SA": "Australia/Adelaide",
    "AU-WA": "Australia/Perth",
    "AU-TAS": "Australia/Hobart",
    "AU-NT": "Australia/Darwin",
}


@lru_cache(maxsize=1)
def _zone_table() -> dict[str, str]:
    text = (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _, zone = line.split("\t")[:3]
            table.setdefault(code, zone)
    return table


@lru_cache(maxsize=4096)
def zone_of(code: str) -> str:
    """The IANA zone in which days are counted for ``code`` (a country or a subdivision)."""
    if code in _SUBDIVISIONS:
        return _SUBDIVISIONS[code]
    country = country_of(code)
    return _CAPITALS.get(country) or _zone_table().get(country, "UTC")


@lru_cache(maxsize=16)
def zones_of_bloc(bloc: str) -> tuple[str, ...]:
    """Every member state's zone, for a bloc named without its member states."""
    return tuple(sorted({zone_of(c) for c in BLOCS[bloc]}))

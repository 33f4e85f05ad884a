"""The directory of national authorities that bloc-wide rules are sent to, validated on load.

GDPR, NIS2 and ePrivacy notices go to a national body of each member state concerned; the shipped
directory (``breachops/config/authorities/*.yaml``) holds one entry per EEA state and regime.
``recipient_for`` is the one hook the deadline engine calls: it turns a bloc rule's generic recipient
into the named authorities of the places the facts name (docs/notices.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from breachops.config.jurisdictions import BLOCS, country_of, normalise_code
from breachops.config.rule_models import Rule
from breachops.config.yaml import read_yaml
from breachops.errors import InputError, from_validation_error

__all__ = [
    "EEA_STATES",
    "REGIMES",
    "Authority",
    "Directory",
    "load_authority_file",
    "load_directory",
    "recipient_for",
    "regime_of",
    "shipped_authority_files",
    "shipped_directory",
]

Regime = Literal["gdpr", "nis2", "eprivacy"]
REGIMES: tuple[str, ...] = Regime.__args__  # type: ignore[attr-defined]

# How a bloc rule's instrument names its regime. Checked in this order; the first marker found wins.
_MARKERS: tuple[tuple[str, Regime], ...] = (
    ("611/2013", "eprivacy"),
    ("2002/58", "eprivacy"),
    ("ePrivacy", "eprivacy"),
    ("NIS2", "nis2"),
    ("2022/2555", "nis2"),
    ("GDPR", "gdpr"),
    ("2016/679", "gdpr"),
)
# The states the directory must cover: the 27 EU members and the three EEA EFTA states. Kept here, not
# taken from the bloc table, so that a state missing there is still checked for here.
EEA_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split()  # noqa: SIM905
)
# Only notices to a public body are routed; data subjects and controllers are not in the directory.
_ROUTED_AUDIENCES = frozenset({"regulator", "csirt"})


def _https(value: str) -> str:
    url = urlparse(value)
    if url.scheme != "https" or not url.netloc:
        raise ValueError(f"{value!r} is not an https URL")
    return value


class Authority(BaseModel):
    """One national body for one regime: who it is, where its breach notices go, and where that
    was read. A NIS2 entry also says whether the state has transposed the directive (``transposed``),
    by which law and since when, and the day that status was checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str
    regime: Regime
    name: str
    url: str
    source: str
    reviewed: date
    confirmed: bool = True
    notes: str = ""
    transposed: bool | None = None
    law: str | None = None
    in_force_from: date | None = None
    checked: date | None = None

    _check_url = field_validator("url", "source")(_https)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        code = normalise_code(value)
        if code not in EEA_STATES:
            raise ValueError(f"{value!r} is not an EEA state (the 27 EU members, IS, LI, NO)")
        return code

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an authority needs a name")
        return value.strip()

    @model_validator(mode="after")
    def _regime_fields(self) -> Authority:
        if not self.confirmed and not self.notes.strip():
            raise ValueError("an unconfirmed entry must say in notes what is unconfirmed")
        if self.regime != "nis2":
            nis2_only = {"transposed": self.transposed, "law": self.law, "in_force_from": self.in_force_from}
            given = [k for k, v in {**nis2_only, "checked": self.checked}.items() if v is not None]
            if given:
                raise ValueError(f"{', '.join(given)} belong to a nis2 entry, not {self.regime}")
            return self
        if self.transposed is None or self.checked is None:
            raise ValueError("a nis2 entry needs transposed (true or false) and checked (the day it was)")
        if self.transposed and not self.law:
            raise ValueError("a transposed nis2 entry needs law: the national act's name and citation")
        if self.transposed and self.in_force_from is None and self.confirmed:
            raise ValueError("a transposed nis2 entry needs in_force_from (or confirmed: false and a note)")
        return self

    @property
    def label(self) -> str:
        """``Name (CC): portal URL``, the way an obligation names its recipient."""
        return f"{self.name} ({self.country}): {self.url}"


@dataclass(frozen=True)
class Directory:
    """The authorities by (country, regime)."""

    entries: tuple[Authority, ...]
    _by_key: dict[tuple[str, str], Authority] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", {(a.country, a.regime): a for a in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, country: str, regime: str) -> Authority | None:
        return self._by_key.get((country, regime))

    def countries(self, regime: str) -> set[str]:
        return {a.country for a in self.entries if a.regime == regime}


def shipped_authority_files() -> list[Path]:
    folder = resources.files("breachops.config") / "authorities"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))


def load_authority_file(path: Path) -> list[Authority]:
    """Read one YAML file holding ``{authorities: [...]}`` (or a bare list); errors name file and field."""
    data = read_yaml(path)
    if isinstance(data, Mapping) and "authorities" in data:
        data = data["authorities"]
    if not isinstance(data, list):
        raise InputError(path, None, None, "expected a list of authorities (or a mapping with `authorities`)")
    out: list[Authority] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(data):
        try:
            entry = Authority.model_validate(item)
        except ValidationError as exc:
            tag = None
            if isinstance(item, Mapping):
                # Name the entry by what can be shown of it.
                country = item.get("country")
                shown = country if isinstance(country, str) else "?"
                tag = f"{shown}/{item.get('regime')}"
            prefix: list[int | str] = [f"authorities[{index}]" + (f" ({tag})" if tag else "")]
            raise from_validation_error(exc, path, prefix) from None
        key = (entry.country, entry.regime)
        if key in seen:
            raise InputError(
                path, f"authorities[{index}]", "/".join(key), "a second entry for this country and regime"
            )
        seen.add(key)
        out.append(entry)
    return out


def load_directory(files: Sequence[Path]) -> Directory:
    """The entries of each file in order; a later file's entry for the same country and regime wins."""
    by_key: dict[tuple[str, str], Authority] = {}
    for path in files:
        for entry in load_authority_file(Path(path)):
            by_key[(entry.country, entry.regime)] = entry
    return Directory(tuple(sorted(by_key.values(), key=lambda a: (a.country, a.regime))))


@lru_cache(maxsize=1)
def shipped_directory() -> Directory:
    return load_directory(shipped_authority_files())


@lru_cache(maxsize=256)
def _regime_of_instrument(instrument: str) -> Regime | None:
    for marker, regime in _MARKERS:
        if marker in instrument:
            return regime
    return None


def regime_of(rule: Rule) -> Regime | None:
    """The regime whose national authority receives this rule's notice, or None if the rule names its
    own recipient (a national rule, a contract clause, a notice to people rather than a public body)."""
    if rule.jurisdiction not in BLOCS or rule.audience not in _ROUTED_AUDIENCES:
        return None
    return _regime_of_instrument(rule.instrument)


def recipient_for(rule: Rule, codes: Iterable[str], directory: Directory | None = None) -> str:
    """The recipient an obligation of ``rule`` names for facts in ``codes``.

    A bloc rule routed to national bodies names the authority of each member state the facts name and
    the rule reaches (``Garante per la protezione dei dati personali (IT): https://...``), in the order
    the facts give them. Anything else, and a fact given only as a bloc (``EU``), keeps the rule's own
    recipient.
    """
    regime = regime_of(rule)
    if regime is None:
        return rule.recipient
    found = shipped_directory() if directory is None else directory
    named: dict[str, Authority] = {}
    for code in codes:
        country = country_of(code)
        if country in named or not rule.reaches(code):
            continue
        entry = found.get(country, regime)
        if entry is not None:
            named[country] = entry
    if not named:
        return rule.recipient
    labels = [_label(entry) for entry in named.values()]
    text = "; ".join(labels)
    if regime == "gdpr":
        # Art. 56: a controller with a main establishment in the EEA notifies its lead authority instead.
        text += " (or the lead supervisory authority, where the one-stop shop applies)"
    return text


def _label(entry: Authority) -> str:
    if entry.regime == "nis2" and not entry.transposed:
        return f"{entry.label} (NIS2 not transposed as checked on {entry.checked})"
    return entry.label

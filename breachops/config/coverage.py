"""What the catalogue knows of each jurisdiction: ``covered``, ``no_duty`` or ``gap``.

An empty list of obligations must never read as "nothing to do" where nothing is known. A jurisdiction
is ``covered`` when a rule reaches it, ``no_duty`` when a rule file records, with its source, that it
has no general breach-notification duty, and a ``gap`` otherwise: then its obligations are unknown,
and every report says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from breachops.config.catalogue import Catalogue
from breachops.config.jurisdictions import all_jurisdictions, blocs_of, country_of, describe
from breachops.config.rule_models import NoDuty, Rule

__all__ = ["OWN_LAW_COUNTRIES", "Coverage", "JurisdictionCoverage", "gap_message"]

CoverageStatus = Literal["covered", "no_duty", "gap"]

# Countries whose states or provinces have breach laws of their own that the country's rules do not
# speak to. The US has no general federal breach law: its federal rules are sector rules (HIPAA for
# health data, the SEC's Item 1.05 for listed companies, ...), and every state, DC and each territory
# has its own statute with its own window and regulator. A HIPAA rule reaching people in Illinois says
# nothing of Illinois's own law, so US-IL stays a gap until a rule of US-IL exists or it is recorded
# as no_duty. Canada likewise: Quebec's private-sector Act, Alberta's PIPA and the provinces' health
# information Acts apply beside (or instead of) PIPEDA.
OWN_LAW_COUNTRIES = frozenset({"US", "CA"})


@dataclass(frozen=True, slots=True)
class JurisdictionCoverage:
    jurisdiction: str
    name: str
    status: CoverageStatus
    rules: int  # rules that reach people there (a state's own, its country's, its blocs')
    reviewed: date | None  # the oldest review date among them (or of the no-duty record)
    why: str


def gap_message(code: str) -> str:
    return f"no rules known for {code}: obligations there are unknown"


class Coverage:
    """Coverage of a catalogue, by jurisdiction. Built once per catalogue; the rest is look-ups."""

    def __init__(self, rules: Catalogue | Sequence[Rule]):
        self._by_jurisdiction: dict[str, list[Rule]] = {}
        for rule in rules:
            if rule.kind == "law":
                self._by_jurisdiction.setdefault(rule.jurisdiction, []).append(rule)
        no_duty: Iterable[NoDuty] = rules.no_duty if isinstance(rules, Catalogue) else ()
        self._no_duty = {n.jurisdiction: n for n in no_duty}
        self._cache: dict[tuple[str, tuple[str, ...]], JurisdictionCoverage] = {}

    def _reaching(self, code: str, blocs: tuple[str, ...]) -> list[Rule]:
        found = list(self._by_jurisdiction.get(code, ()))
        country = country_of(code)
        if country != code:
            found += self._by_jurisdiction.get(country, ())
        for bloc in blocs:
            if bloc != code:
                found += self._by_jurisdiction.get(bloc, ())
        return found

    def of(self, code: str, day: date | None = None) -> JurisdictionCoverage:
        """The coverage of ``code`` on ``day`` (bloc membership is dated; today's when None)."""
        # The day matters only through the blocs the code belonged to on it.
        key = (code, blocs_of(code, day))
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._compute(*key)
        return cached

    def _compute(self, code: str, blocs: tuple[str, ...]) -> JurisdictionCoverage:
        reaching = self._reaching(code, blocs)
        own = code in self._by_jurisdiction
        recorded = self._no_duty.get(code)
        country = country_of(code)
        if country != code and country in OWN_LAW_COUNTRIES and not own:
            # The country's (federal) rules do not make the state's own law known: see OWN_LAW_COUNTRIES.
            status: CoverageStatus = "no_duty" if recorded else "gap"
            why = (
                f"recorded: {recorded.notes}"
                if recorded
                else f"no rule of {code} itself; {country}'s rules do not tell its own law"
            )
        elif reaching:
            status, why = "covered", f"{len(reaching)} rule(s) reach it"
        elif recorded:
            status, why = "no_duty", f"recorded: {recorded.notes}"
        else:
            status, why = "gap", "no rule reaches it and no absence of a duty is recorded"
        dates = [r.reviewed for r in reaching] + ([recorded.reviewed] if recorded else [])
        return JurisdictionCoverage(
            code, describe(code), status, len(reaching), min(dates) if dates else None, why
        )

    def gaps(self, codes: Iterable[str], day_of: dict[str, date] | None = None) -> tuple[str, ...]:
        """The gaps among ``codes``, their countries and the blocs they belong to (each on its day)."""
        out: dict[str, None] = {}
        for code in codes:
            day = (day_of or {}).get(code)
            country = country_of(code)
            for name in dict.fromkeys((code, country, *blocs_of(code, day))):
                if self.of(name, day).status == "gap":
                    out[name] = None
        return tuple(out)

    def table(self, day: date | None = None) -> list[JurisdictionCoverage]:
        """Every jurisdiction: the blocs, every country, every US state with DC and the territories,
        and every other subdivision a rule or a no-duty record names."""
        named = {c for c in [*self._by_jurisdiction, *self._no_duty] if "-" in c}
        codes = list(dict.fromkeys([*all_jurisdictions(), *sorted(named)]))
        return [self.of(code, day) for code in codes]

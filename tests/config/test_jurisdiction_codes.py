"""Subdivision codes and names are read from pycountry's data file rather than through its objects
(which take a tenth of a second to build): both readings must agree, code for code and name for name."""

from __future__ import annotations

import pycountry
import pytest

from breachops.config.jurisdictions import all_jurisdictions, describe, normalise_code, subdivisions


def test_the_subdivisions_read_from_the_data_file_are_pycountrys():
    assert subdivisions() == {s.code: s.name for s in pycountry.subdivisions}


def test_us_states_and_territories_are_listed_and_named():
    us = {s.code for s in pycountry.subdivisions.get(country_code="US")}
    assert {code for code in all_jurisdictions() if code.startswith("US-")} == us
    assert describe("US-CA") == "California"
    assert describe("CA-QC") == "Quebec"


@pytest.mark.parametrize(("given", "code"), [("us-ny", "US-NY"), ("UK-ENG", "GB-ENG"), ("de-by", "DE-BY")])
def test_a_subdivision_code_is_accepted_in_any_case_and_alias(given: str, code: str):
    assert normalise_code(given) == code


def test_an_unknown_subdivision_is_refused_with_examples():
    with pytest.raises(ValueError, match="not an ISO 3166-2 subdivision code"):
        normalise_code("US-XX")

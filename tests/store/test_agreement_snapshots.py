from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from breachops.config.agreements import load_agreement
from breachops.store.agreement_snapshots import AgreementSnapshots
from breachops.store.repository import Repository

from .helpers import open_incident

EXAMPLE = Path(__file__).parents[2] / "examples" / "agreement.yaml"


def test_snapshots_are_parsed_once_and_missing_incidents_left_out(factory):
    stored = load_agreement(EXAMPLE).model_dump(mode="json", by_alias=True, exclude_none=True)
    with factory.begin() as session:
        first = open_incident(Repository(session), agreement=stored).id
        second = open_incident(Repository(session), agreement=stored).id
    snapshots = AgreementSnapshots()
    with factory() as session:
        found = snapshots.of(session, [first, "INC-1999-0001"])
        assert list(found) == [first]
        assert found[first].parties["disclosing"].contacts  # the stored agreement, parsed

        statements: list[str] = []
        event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        again = snapshots.of(session, [first, second])
        assert again[first] is found[first]  # not read nor parsed again
        assert list(again) == [first, second]
        assert len([s for s in statements if "FROM incidents" in s]) == 1  # only the new one was read

"""The fingerprint of the rule catalogue that open incidents were last assessed against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from breachops.store.models import CatalogueFingerprint

__all__ = ["StoredFingerprint", "load_fingerprint", "save_fingerprint"]

WORKSPACE = "workspace"


@dataclass(frozen=True)
class StoredFingerprint:
    fingerprint: str
    digests: dict[str, str]
    recorded_at: datetime


def load_fingerprint(session: Session, scope: str = WORKSPACE) -> StoredFingerprint | None:
    row = session.get(CatalogueFingerprint, scope)
    if row is None:
        return None
    return StoredFingerprint(row.fingerprint, dict(row.digests), row.recorded_at)


def save_fingerprint(
    session: Session, fingerprint: str, digests: Mapping[str, str], at: datetime, scope: str = WORKSPACE
) -> None:
    row = session.get(CatalogueFingerprint, scope)
    if row is None:
        row = CatalogueFingerprint(scope=scope)
        session.add(row)
    row.fingerprint, row.digests, row.recorded_at = fingerprint, dict(digests), at
    session.flush()

"""Sign-in links and sessions of the web console, stored as hashes of their tokens.

A sign-in token is single use: :func:`consume` marks it used in one compare-and-set UPDATE, so two
clicks racing on the same link open at most one session.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from breachops.store.models import WebToken

__all__ = ["consume", "find", "issue", "issued_since", "purge_expired", "revoke", "token_hash"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    token: str,
    *,
    kind: str,
    email: str,
    at: datetime,
    expires_at: datetime,
    scope: str | None = None,
) -> WebToken:
    row = WebToken(
        token_hash=token_hash(token), kind=kind, email=email.lower(), scope=scope,
        created_at=at, expires_at=expires_at, used_at=None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def find(session: Session, token: str, kind: str) -> WebToken | None:
    row = session.get(WebToken, token_hash(token))
    return row if row is not None and row.kind == kind else None


def consume(session: Session, token: str, kind: str, now: datetime) -> WebToken | None:
    """Mark an unused, unexpired token used and return it; None when it is unknown, used or expired."""
    digest = token_hash(token)
    done = session.execute(
        update(WebToken)
        .where(
            WebToken.token_hash == digest,
            WebToken.kind == kind,
            WebToken.used_at.is_(None),
            WebToken.expires_at > now,
        )
        .values(used_at=now)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(WebToken, digest)


def revoke(session: Session, token: str) -> None:
    session.execute(delete(WebToken).where(WebToken.token_hash == token_hash(token)))


def issued_since(session: Session, email: str, kind: str, since: datetime) -> int:
    """How many tokens of ``kind`` were issued to ``email`` at or after ``since``."""
    counted = session.scalar(
        select(func.count())
        .select_from(WebToken)
        .where(WebToken.email == email.lower(), WebToken.kind == kind, WebToken.created_at >= since)
    )
    return int(counted or 0)


def purge_expired(session: Session, before: datetime) -> None:
    """Forget tokens that stopped working before ``before``."""
    session.execute(delete(WebToken).where(WebToken.expires_at < before))

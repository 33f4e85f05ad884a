"""The workspace's audit key: the HMAC-SHA256 key every audit event and ledger entry is sealed with.

It lives outside the database (``<workspace>/audit.key``, or in team mode a Prefect Secret block named
by ``BREACHOPS_AUDIT_KEY_BLOCK``), so that write access to the database alone cannot forge a record.
An :class:`AuditKey` never shows itself (``repr``, ``str``, pickling). docs/audit-log.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from breachops.errors import InputError
from breachops.files import create_private

__all__ = ["KEY_BLOCK_ENV", "KEY_FILE", "AuditKey", "KeyLost", "load_audit_key"]

KEY_FILE = "audit.key"
KEY_BLOCK_ENV = "BREACHOPS_AUDIT_KEY_BLOCK"
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
_MIN_TEXT_KEY = 32


class AuditKey:
    """An HMAC-SHA256 key that seals hex digests; shows itself as ``AuditKey('********')``."""

    __slots__ = ("_base",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("an audit key must be at least 16 bytes")
        # The keyed state is built once; each seal copies it (cheaper than hmac.new per event).
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def seal(self, digest: str) -> str:
        """The MAC of a chain hash (hex), in hex."""
        mac = self._base.copy()
        mac.update(digest.encode("ascii"))
        return mac.hexdigest()

    def check(self, digest: str, mac: str) -> bool:
        return hmac.compare_digest(self.seal(digest), mac)

    def __repr__(self) -> str:
        return "AuditKey('********')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an audit key cannot be pickled")


class KeyLost(InputError):
    """The key file is gone while the record holds events sealed with it."""


def _parse(text: str, source: str, field: str | None) -> AuditKey:
    value = text.strip()
    if _HEX_KEY.match(value):
        return AuditKey(bytes.fromhex(value))
    if len(value) >= _MIN_TEXT_KEY:
        return AuditKey(value.encode("utf-8"))
    # The value is never echoed: it is (a bad copy of) the key.
    raise InputError(
        source, field, None, "is not an audit key", "Give 64 hex digits or at least 32 characters."
    )


def load_audit_key(
    workspace: Path,
    environ: Mapping[str, str] | None = None,
    *,
    secret_block: Callable[[str], str | None] | None = None,
    create: bool = False,
) -> AuditKey | None:
    """The workspace's audit key: from the Secret block named in ``BREACHOPS_AUDIT_KEY_BLOCK`` if set,
    else from ``<workspace>/audit.key``; that file is created (0600) when missing and ``create`` is
    set. Returns None when there is no key and none may be created."""
    env = os.environ if environ is None else environ
    block = env.get(KEY_BLOCK_ENV)
    if block:
        if secret_block is None:
            raise InputError(
                "environment", KEY_BLOCK_ENV, block, "names a Prefect Secret block that cannot be read here"
            )
        value = secret_block(block)
        if not value:
            raise InputError(
                "environment", KEY_BLOCK_ENV, block, "names a Secret block that is empty or missing",
                "Create it in Prefect (a Secret block holding 64 hex digits).",
            )  # fmt: skip
        return _parse(value, f"Secret block {block}", None)
    path = Path(workspace) / KEY_FILE
    if not path.exists():
        if not create:
            return None
        create_private(path, secrets.token_hex(32) + "\n")  # a racing process may have won: read it
    return _parse(path.read_text(encoding="ascii", errors="replace"), str(path), None)

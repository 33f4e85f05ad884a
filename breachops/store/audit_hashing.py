"""How the audit record spells and hashes an event: canonical JSON, the chain hash, the ledger hash.

An event's hash is ``sha256(prev_hash + canonical_json({incident_id, seq, at, actor, kind, payload}))``
in hex; the first event's prev_hash is 64 zeros. A ledger entry's hash is ``sha256(prev_hash +
canonical_json({incident_id, last_hash, last_seq, seq}))``. Both are sealed with the workspace's key
(``config/audit_key.py``): the MAC is HMAC-SHA256 of the hash, which already covers the content, the position
and everything before it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

from sqlalchemy.orm import Session

from breachops.config.audit_key import AuditKey
from breachops.errors import InputError

__all__ = [
    "GENESIS_HASH",
    "canonical_json",
    "event_hash",
    "iso_utc",
    "ledger_hash",
    "refuse_secrets",
    "session_key",
    "text_hash",
    "to_jsonable",
]

GENESIS_HASH = "0" * 64
# Key names that look like credentials. Matched case-insensitively anywhere in a key, at any depth.
_SECRET_KEY = re.compile(r"api[_-]?key|passw(or)?d|token|secret|credential|private[_-]?key", re.IGNORECASE)


def iso_utc(value: datetime) -> str:
    """An aware instant as ISO 8601 in UTC with ``Z`` (microseconds only when there are some)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: give it a zone (e.g. UTC)")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_jsonable(value: Any) -> Any:
    """Plain JSON values for what the store keeps: aware datetimes → ISO UTC with Z, dates → ISO,
    tuples and sets → lists (sets sorted), enums → their value, pydantic models and dataclasses →
    their fields. Anything else that JSON cannot hold is refused rather than stringified."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be stored as JSON")
        return value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, got {key!r}")
            out[key] = to_jsonable(item)
        return out
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((to_jsonable(item) for item in value), key=lambda v: json.dumps(v, sort_keys=True))
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return to_jsonable(model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def canonical_json(obj: Any) -> str:
    """One spelling per value: keys sorted, no whitespace, non-ASCII kept as is (hash its UTF-8),
    datetimes as ISO 8601 UTC with Z. Equal values give equal text, so equal hashes."""
    return json.dumps(
        to_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def event_hash(
    prev_hash: str, incident_id: str, seq: int, at: datetime, actor: str, kind: str, payload: Any
) -> str:
    """SHA-256 of the previous hash followed by the canonical JSON of the event (its incident id, seq,
    time, actor, kind and payload)."""
    return text_hash(prev_hash, incident_id, seq, at, actor, kind, canonical_json(payload))


def text_hash(
    prev_hash: str, incident_id: str, seq: int, at: datetime, actor: str, kind: str, payload_text: str
) -> str:
    """:func:`event_hash` of a payload already in canonical JSON. The event's canonical JSON is spelled
    out in key order around that text, so an append does not walk the payload a second time."""
    body = (
        f'{{"actor":{_json_string(actor)},"at":"{iso_utc(at)}","incident_id":{_json_string(incident_id)},'
        f'"kind":{_json_string(kind)},"payload":{payload_text},"seq":{seq}}}'
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _json_string(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return json.dumps(value, ensure_ascii=False)


def refuse_secrets(payload: Any, path: str = "payload") -> None:
    """Raise InputError naming the first key that looks like a secret (the value is never shown)."""
    if isinstance(payload, Mapping):
        for key, value in payload.items():
            here = f"{path}.{key}"
            if isinstance(key, str) and _SECRET_KEY.search(key):
                # The value is never echoed: it may be the secret itself.
                raise InputError(
                    "audit event",
                    here,
                    None,
                    f"key {key!r} looks like a secret, and secrets are never written to the audit log",
                    "Leave it out, or record where the secret is kept (e.g. the name of an environment "
                    "variable) under a key that does not look like one.",
                )
            refuse_secrets(value, here)
    elif isinstance(payload, list | tuple):
        for index, value in enumerate(payload):
            refuse_secrets(value, f"{path}[{index}]")


def ledger_hash(prev_hash: str, seq: int, incident_id: str, last_seq: int, last_hash: str) -> str:
    """SHA-256 of the previous ledger hash followed by the canonical JSON of the entry."""
    body = (
        f'{{"incident_id":{_json_string(incident_id)},"last_hash":{_json_string(last_hash)},'
        f'"last_seq":{int(last_seq)},"seq":{int(seq)}}}'
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def session_key(session: Session) -> AuditKey | None:
    """The audit key the session was made with (``session_factory(engine, audit_key=...)``): a key, or
    a function of the asking session that gives it on first need (so a command that appends nothing
    never reads it)."""
    source = session.info.get("audit_key")
    if source is None or isinstance(source, AuditKey):
        return source
    key: AuditKey | None = source(session)
    return key

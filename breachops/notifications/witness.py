"""Witnesses: the audit head an outgoing message carried, as both parties' mailboxes keep it.

Every message says ``X-Breachops-Audit-Head: <seq>:<hash>``, the head of its incident's record when it
was sent (a digest also says it in its text). Whoever holds the message can later ask
``breachops audit verify INC --witness FILE.eml`` whether that head is still in the record: a record
rewritten or cut back after the message left, even by someone holding the audit key, no longer has it.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path

from breachops.errors import InputError

__all__ = ["AUDIT_HEAD_HEADER", "Witness", "format_head", "outbox_witnesses", "parse_head", "read_witness"]

AUDIT_HEAD_HEADER = "X-Breachops-Audit-Head"
_HEAD = re.compile(r"^(?:(\d{1,12}):)?([0-9a-f]{64})$")


def format_head(seq: int, digest: str) -> str:
    return f"{seq}:{digest}"


def parse_head(text: str, source: str = "--witness") -> tuple[int | None, str]:
    """``<seq>:<hash>`` or a bare hash (64 lower-case hex digits) → (seq or None, hash)."""
    match = _HEAD.match(text.strip().lower())
    if match is None:
        raise InputError(
            source, None, text, "is not an audit head", "Give <seq>:<hash>, a hash or an .eml file."
        )
    return (int(match.group(1)) if match.group(1) else None, match.group(2))


@dataclass(frozen=True, slots=True)
class Witness:
    """A head seen in a message: which incident, where in its record, and which message said it."""

    incident_id: str | None
    seq: int | None
    digest: str
    source: str
    message_id: str | None = None
    date: str | None = None


def read_witness(path: Path) -> Witness:
    """The audit head carried by a message file (.eml), with its incident, Message-ID and Date."""
    try:
        with Path(path).open("rb") as handle:
            headers = BytesHeaderParser(policy=email.policy.default).parse(handle)
    except OSError as exc:
        raise InputError(path, None, None, f"cannot read the message: {exc.strerror or exc}") from None
    value = headers.get(AUDIT_HEAD_HEADER)
    if value is None:
        raise InputError(path, AUDIT_HEAD_HEADER, None, "the message carries no audit head")
    seq, digest = parse_head(str(value), f"{path}: {AUDIT_HEAD_HEADER}")
    incident = headers.get("X-Breachops-Incident")
    return Witness(
        incident_id=None if incident is None else str(incident).strip(),
        seq=seq,
        digest=digest,
        source=str(path),
        message_id=None if headers.get("Message-ID") is None else str(headers["Message-ID"]).strip(),
        date=None if headers.get("Date") is None else str(headers["Date"]),
    )


def outbox_witnesses(folder: Path, incident_id: str) -> list[Witness]:
    """The witnesses of ``incident_id`` among the messages in an outbox folder, oldest head first."""
    found: list[Witness] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.eml")):
        if path.name.startswith("."):
            continue  # a temporary file being written
        try:
            witness = read_witness(path)
        except InputError:
            continue  # a message from before witnesses, or not one of ours
        if witness.incident_id == incident_id:
            found.append(witness)
    return sorted(found, key=lambda w: (w.seq or 0, w.source))

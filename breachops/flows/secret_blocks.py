"""Prefect Secret blocks: how a team keeps keys out of files and environments."""

from __future__ import annotations

from pathlib import Path
from typing import cast

__all__ = ["read_secret_block"]


def read_secret_block(name: str, workspace: Path | None = None) -> str | None:
    """The value of the Prefect Secret block ``name``, or None when it holds nothing. The value goes
    straight to the caller's key holder; it is never logged or passed on.

    ``workspace``: read from the Prefect server that workspace uses (a team's, or its local one), so a
    command that has not talked to Prefect yet does not start a temporary server of its own."""
    if workspace is not None:
        from breachops.flows.runtime import ensure_prefect

        ensure_prefect(workspace)
    from prefect.blocks.system import Secret as SecretBlock

    block = cast(SecretBlock, SecretBlock.load(name))  # a block, when called outside an event loop
    value = block.get()
    return value if isinstance(value, str) and value else None

"""Prefect Secret blocks: how a team keeps keys out of files and environments."""

from __future__ import annotations

from typing import cast

__all__ = ["read_secret_block"]


def read_secret_block(name: str) -> str | None:
    """The value of the Prefect Secret block ``name``, or None when it holds nothing. The value goes
    straight to the caller's key holder; it is never logged or passed on."""
    from prefect.blocks.system import Secret as SecretBlock

    block = cast(SecretBlock, SecretBlock.load(name))  # a block, when called outside an event loop
    value = block.get()
    return value if isinstance(value, str) and value else None

"""Drill pauses: the real intervals in which a drill's scenario clock stood still.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("drills") as batch:
        batch.add_column(sa.Column("pauses", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("drills") as batch:
        batch.drop_column("pauses")

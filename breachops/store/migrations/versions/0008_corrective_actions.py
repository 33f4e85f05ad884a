"""The corrective actions register: each improvement-plan action across drills, with its status and evidence.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "corrective_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("raised_in", sa.String(length=32), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("capability", sa.String(length=128), nullable=True),
        sa.Column("owner_party", sa.String(length=64), nullable=False),
        sa.Column("owner_role", sa.String(length=64), nullable=False),
        sa.Column("owner_email", sa.String(length=256), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("verified_in", sa.String(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_actions")),
        sa.UniqueConstraint("subject", "raised_in", name=op.f("uq_corrective_actions_subject_raised_in")),
    )
    op.create_index(op.f("ix_corrective_actions_status"), "corrective_actions", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_corrective_actions_status"), table_name="corrective_actions")
    op.drop_table("corrective_actions")

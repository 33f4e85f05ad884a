"""Keyed audit: a MAC on every audit event, and the ledger of all streams' heads.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Events already stored keep no MAC: they verify as legacy, up to a stream's first keyed event.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("mac", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_ledger",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_ledger")),
    )
    op.create_index(op.f("ix_audit_ledger_incident_id"), "audit_ledger", ["incident_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_ledger_incident_id"), table_name="audit_ledger")
    op.drop_table("audit_ledger")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("mac")

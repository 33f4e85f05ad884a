"""Disclosure marks: facts and steps a party keeps internal to itself.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "disclosure_marks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.String(length=32), nullable=False),
        sa.Column("item_kind", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=128), nullable=False),
        sa.Column("party", sa.String(length=64), nullable=False),
        sa.Column("marked_by", sa.String(length=256), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_disclosure_marks_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_marks")),
        sa.UniqueConstraint(
            "incident_id", "item_kind", "item", name=op.f("uq_disclosure_marks_incident_id_item_kind_item")
        ),
    )
    op.create_index(
        op.f("ix_disclosure_marks_incident_id"), "disclosure_marks", ["incident_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_disclosure_marks_incident_id"), table_name="disclosure_marks")
    op.drop_table("disclosure_marks")

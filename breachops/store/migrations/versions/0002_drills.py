"""Drills: scenarios run as drill incidents, their injects, and recurring drill schedules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drill_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_drill_counters")),
    )
    op.create_table(
        "drill_schedules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scenario_id", sa.String(length=128), nullable=False),
        sa.Column("cron", sa.String(length=128), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("simulate", sa.Boolean(), nullable=False),
        sa.Column("invite_ahead_hours", sa.Float(), nullable=False),
        sa.Column("agreement", sa.JSON(), nullable=False),
        sa.Column("agreement_path", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invited_for", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_schedules")),
    )
    op.create_table(
        "drills",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("scenario_id", sa.String(length=128), nullable=False),
        sa.Column("scenario_version", sa.String(length=64), nullable=False),
        sa.Column("scenario", sa.JSON(), nullable=False),
        sa.Column("agreement", sa.JSON(), nullable=False),
        sa.Column("agreement_path", sa.Text(), nullable=True),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("simulate", sa.Boolean(), nullable=False),
        sa.Column("t0", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("advances", sa.JSON(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("schedule_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.Column("flow_run_id", sa.String(length=64), nullable=True),
        sa.Column("score", sa.JSON(), nullable=True),
        sa.Column("improvement_plan", sa.JSON(), nullable=True),
        sa.Column("report_html", sa.Text(), nullable=True),
        sa.Column("report_md", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["schedule_id"], ["drill_schedules.id"], name=op.f("fk_drills_schedule_id_drill_schedules")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drills")),
    )
    op.create_index(op.f("ix_drills_status"), "drills", ["status"], unique=False)
    op.create_table(
        "drill_injects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("drill_id", sa.String(length=32), nullable=False),
        sa.Column("inject_id", sa.String(length=128), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["drill_id"], ["drills.id"], name=op.f("fk_drill_injects_drill_id_drills")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drill_injects")),
        sa.UniqueConstraint("drill_id", "inject_id", name=op.f("uq_drill_injects_drill_id_inject_id")),
    )
    op.create_index(op.f("ix_drill_injects_drill_id"), "drill_injects", ["drill_id"], unique=False)
    # A drill invitation carries its calendar part through the outbox.
    op.add_column("messages", sa.Column("attachment", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attachment")
    op.drop_index(op.f("ix_drill_injects_drill_id"), table_name="drill_injects")
    op.drop_table("drill_injects")
    op.drop_index(op.f("ix_drills_status"), table_name="drills")
    op.drop_table("drills")
    op.drop_table("drill_schedules")
    op.drop_table("drill_counters")

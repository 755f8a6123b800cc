"""monitor.telemetry: the raw readings' partition list, roll-ups, latest values, rejections

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0025"
# The integrator renumbers at merge: 0024 is the registry's (monitor_registry), on its branch.
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = ("monitor_rollup_minute", "monitor_rollup_hour", "monitor_rollup_day")


def upgrade() -> None:
    op.create_table(
        "monitor_partitions",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_monitor_partitions")),
    )
    for name in ROLLUPS:
        op.create_table(
            name,
            sa.Column("device", sa.String(length=64), nullable=False),
            sa.Column("metric", sa.String(length=32), nullable=False),
            sa.Column("bucket", sa.BigInteger(), nullable=False),
            sa.Column("n", sa.Integer(), nullable=False),
            sa.Column("total", sa.Float(), nullable=False),
            sa.Column("low", sa.Float(), nullable=False),
            sa.Column("high", sa.Float(), nullable=False),
            sa.Column("last_at", sa.BigInteger(), nullable=False),
            sa.Column("last_value", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("device", "metric", "bucket", name=op.f(f"pk_{name}")),
        )
    op.create_table(
        "monitor_latest",
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device", "metric", name=op.f("pk_monitor_latest")),
    )
    op.create_table(
        "monitor_rejections",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "reason", name=op.f("pk_monitor_rejections")),
    )


def downgrade() -> None:
    # The day tables of raw readings the store made on demand go with their list.
    bind = op.get_bind()
    for (name,) in bind.execute(sa.text("SELECT table_name FROM monitor_partitions")).all():
        op.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
    op.drop_table("monitor_rejections")
    op.drop_table("monitor_latest")
    for name in reversed(ROLLUPS):
        op.drop_table(name)
    op.drop_table("monitor_partitions")

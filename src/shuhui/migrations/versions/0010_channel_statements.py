"""issued channel statements

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("consumer_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("total_fen", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("seal", sa.Text(), nullable=False),
        sa.Column("issued_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["consumer_id"],
            ["channel_consumers.id"],
            name=op.f("fk_channel_statements_consumer_id_channel_consumers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_statements")),
        sa.UniqueConstraint("code", name=op.f("uq_channel_statements_code")),
        sa.UniqueConstraint(
            "consumer_id", "month", name=op.f("uq_channel_statements_consumer_id_month")
        ),
    )
    op.create_index(
        op.f("ix_channel_statements_consumer_id"),
        "channel_statements",
        ["consumer_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_channel_statements_consumer_id"), table_name="channel_statements")
    op.drop_table("channel_statements")

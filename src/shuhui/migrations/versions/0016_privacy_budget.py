"""data channel: privacy budgets per consumer, product and table version; released answers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: the product's default budget (content), which is what existing grants get.
    with op.batch_alter_table("channel_grants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("privacy_budget", sa.Float(), nullable=True))
    op.create_table(
        "channel_privacy_budgets",
        sa.Column("consumer_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=256), nullable=False),
        sa.Column("total_micro", sa.BigInteger(), nullable=False),
        sa.Column("spent_micro", sa.BigInteger(), nullable=False),
        sa.Column("queries", sa.Integer(), nullable=False),
        sa.Column("updated_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer_id", "product", "scope"),
    )
    op.create_table(
        "channel_privacy_releases",
        sa.Column("release_key", sa.String(length=64), nullable=False),
        sa.Column("consumer_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("versions", sa.String(length=256), nullable=False),
        sa.Column("epsilon_micro", sa.BigInteger(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("released_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("release_key", "consumer_id"),
    )


def downgrade() -> None:
    op.drop_table("channel_privacy_releases")
    op.drop_table("channel_privacy_budgets")
    with op.batch_alter_table("channel_grants", schema=None) as batch_op:
        batch_op.drop_column("privacy_budget")

"""audit ledger: witnesses' cosignatures of the signed checkpoints

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0019"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_cosignatures",
        sa.Column("tree_size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=256), nullable=False),
        sa.Column("key_id", sa.String(length=8), nullable=False),
        sa.Column("line", sa.String(length=1024), nullable=False),
        sa.Column("cosigned_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", "witness", name=op.f("pk_ledger_cosignatures")),
    )


def downgrade() -> None:
    op.drop_table("ledger_cosignatures")

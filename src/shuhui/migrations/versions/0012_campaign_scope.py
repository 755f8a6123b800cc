"""campaign scope and limit

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Campaigns run before this took every candidate: the server default gives them "all".
    with op.batch_alter_table("program_campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=16), server_default="all", nullable=False)
        )
        batch_op.add_column(sa.Column("candidate_limit", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("program_campaigns", schema=None) as batch_op:
        batch_op.drop_column("candidate_limit")
        batch_op.drop_column("scope")

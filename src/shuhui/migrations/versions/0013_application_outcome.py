"""an application's outcome: the policy evaluated again with the applicant's answers

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("program_candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applied_outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("applied_amount", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("program_candidates", schema=None) as batch_op:
        batch_op.drop_column("applied_amount")
        batch_op.drop_column("applied_outcome")

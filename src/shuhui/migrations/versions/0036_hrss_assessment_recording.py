"""hrss: the recording of an assessment's video examination (kept for the panel's review)

Revision ID: 0036
Revises: 0035
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hrss_assessments") as batch:
        batch.add_column(sa.Column("recording_as", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("recording_sha256", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("recording_bytes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hrss_assessments") as batch:
        batch.drop_column("recording_bytes")
        batch.drop_column("recording_sha256")
        batch.drop_column("recording_as")

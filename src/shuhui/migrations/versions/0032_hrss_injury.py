"""hrss: work-injury applications an officer marked clear (decided within the shorter time)

Revision ID: 0032
Revises: 0031
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hrss_injury_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_code", sa.String(length=32), nullable=False),
        sa.Column("facts_clear", sa.Boolean(), nullable=False),
        sa.Column("marked_by", sa.String(length=128), nullable=False),
        sa.Column("marked_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_injury_cases")),
        sa.UniqueConstraint("case_code", name=op.f("uq_hrss_injury_cases_case_code")),
    )


def downgrade() -> None:
    op.drop_table("hrss_injury_cases")

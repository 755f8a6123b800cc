"""hrss: one-thing bundle filings (一件事) and their parts, each an approval case or a refusal

Revision ID: 0029
Revises: 0028
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hrss_bundle_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("bundle", sa.String(length=64), nullable=False),
        sa.Column("bundle_name", sa.String(length=128), nullable=False),
        sa.Column("applicant_id", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("filed_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notified_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_bundle_cases")),
        sa.UniqueConstraint("code", name=op.f("uq_hrss_bundle_cases_code")),
    )
    op.create_index(
        "ix_hrss_bundle_cases_applicant_id", "hrss_bundle_cases", ["applicant_id"], unique=False
    )
    op.create_table(
        "hrss_bundle_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bundle_case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("case_code", sa.String(length=32), nullable=True),
        sa.Column("refusal", sa.JSON(), nullable=True),
        sa.Column("ended", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["bundle_case_id"],
            ["hrss_bundle_cases.id"],
            name=op.f("fk_hrss_bundle_parts_bundle_case_id_hrss_bundle_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_bundle_parts")),
        sa.UniqueConstraint(
            "bundle_case_id",
            "item_code",
            name=op.f("uq_hrss_bundle_parts_bundle_case_id_item_code"),
        ),
        sa.UniqueConstraint("case_code", name=op.f("uq_hrss_bundle_parts_case_code")),
    )
    op.create_index(
        "ix_hrss_bundle_parts_bundle_case_id", "hrss_bundle_parts", ["bundle_case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_hrss_bundle_parts_bundle_case_id", table_name="hrss_bundle_parts")
    op.drop_table("hrss_bundle_parts")
    op.drop_index("ix_hrss_bundle_cases_applicant_id", table_name="hrss_bundle_cases")
    op.drop_table("hrss_bundle_cases")

"""hrss: labour-capacity assessments (劳动能力鉴定), the panel's opinions, and scheduled video
sessions (an assessment's video examination reuses the video-help signalling)

Revision ID: 0035
Revises: 0034
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hrss_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_code", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("worker_name", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("pool", sa.JSON(), nullable=False),
        sa.Column("panel", sa.JSON(), nullable=False),
        sa.Column("drawn_by", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("exam_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exam_session", sa.String(length=32), nullable=True),
        sa.Column("findings", sa.String(length=2000), nullable=True),
        sa.Column("examined_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("self_care", sa.String(length=16), nullable=True),
        sa.Column("concluded_by", sa.String(length=64), nullable=True),
        sa.Column("concluded_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("conclusion_no", sa.String(length=40), nullable=True),
        sa.Column("benefits", sa.JSON(), nullable=True),
        sa.Column("envelope", sa.JSON(), nullable=True),
        sa.Column("stored_as", sa.String(length=255), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_assessments")),
        sa.UniqueConstraint("case_code", name=op.f("uq_hrss_assessments_case_code")),
        sa.UniqueConstraint("conclusion_no", name=op.f("uq_hrss_assessments_conclusion_no")),
    )
    op.create_index("ix_hrss_assessments_citizen_id", "hrss_assessments", ["citizen_id"])
    op.create_table(
        "hrss_assessment_opinions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("expert", sa.String(length=64), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("self_care", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.String(length=1000), nullable=False),
        sa.Column("given_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["hrss_assessments.id"],
            name=op.f("fk_hrss_assessment_opinions_assessment_id_hrss_assessments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_assessment_opinions")),
        sa.UniqueConstraint(
            "assessment_id", "expert", name=op.f("uq_hrss_assessment_opinions_assessment_id_expert")
        ),
    )
    with op.batch_alter_table("hrss_help_requests") as batch:
        batch.add_column(
            sa.Column("scheduled_for", shuhui.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("hrss_help_requests") as batch:
        batch.drop_column("scheduled_for")
    op.drop_table("hrss_assessment_opinions")
    op.drop_index("ix_hrss_assessments_citizen_id", table_name="hrss_assessments")
    op.drop_table("hrss_assessments")

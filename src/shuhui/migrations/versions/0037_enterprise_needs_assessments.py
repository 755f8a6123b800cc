"""enterprise: needs (诉求) with their steps, and digital-level assessments

Revision ID: 0037
Revises: 0036
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Moment = shuhui.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "enterprise_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("posted_by", sa.String(length=64), nullable=False),
        sa.Column("posted_at", Moment(timezone=True), nullable=False),
        sa.Column("due_at", Moment(timezone=True), nullable=False),
        sa.Column("handler", sa.String(length=64), nullable=True),
        sa.Column("handling_at", Moment(timezone=True), nullable=True),
        sa.Column("closed_at", Moment(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=2000), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_comment", sa.String(length=500), nullable=True),
        sa.Column("rated_at", Moment(timezone=True), nullable=True),
        sa.Column("matches", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_needs")),
        sa.UniqueConstraint("code", name=op.f("uq_enterprise_needs_code")),
    )
    op.create_index("ix_enterprise_needs_credit_code", "enterprise_needs", ["credit_code"])
    op.create_index("ix_enterprise_needs_department", "enterprise_needs", ["department"])
    op.create_index("ix_enterprise_needs_state", "enterprise_needs", ["state"])
    op.create_table(
        "enterprise_need_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("at", Moment(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["enterprise_needs.id"],
            name=op.f("fk_enterprise_need_steps_need_id_enterprise_needs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_need_steps")),
    )
    op.create_index("ix_enterprise_need_steps_need_id", "enterprise_need_steps", ["need_id"])
    op.create_table(
        "enterprise_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("edition", sa.String(length=32), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("prefilled", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("gaps", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", Moment(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_assessments")),
        sa.UniqueConstraint("code", name=op.f("uq_enterprise_assessments_code")),
    )
    op.create_index(
        "ix_enterprise_assessments_credit_code", "enterprise_assessments", ["credit_code"]
    )


def downgrade() -> None:
    op.drop_index("ix_enterprise_assessments_credit_code", table_name="enterprise_assessments")
    op.drop_table("enterprise_assessments")
    op.drop_index("ix_enterprise_need_steps_need_id", table_name="enterprise_need_steps")
    op.drop_table("enterprise_need_steps")
    op.drop_index("ix_enterprise_needs_state", table_name="enterprise_needs")
    op.drop_index("ix_enterprise_needs_department", table_name="enterprise_needs")
    op.drop_index("ix_enterprise_needs_credit_code", table_name="enterprise_needs")
    op.drop_table("enterprise_needs")

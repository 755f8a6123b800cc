"""policy campaigns

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 22:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "program_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("excluded", sa.Integer(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("ms", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_campaigns")),
        sa.UniqueConstraint("code", name=op.f("uq_program_campaigns_code")),
    )
    op.create_index(op.f("ix_program_campaigns_rule"), "program_campaigns", ["rule"], unique=False)
    op.create_table(
        "program_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=18), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=1024), nullable=True),
        sa.Column("offered_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("application", sa.JSON(), nullable=True),
        sa.Column("granted_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["program_campaigns.id"],
            name=op.f("fk_program_candidates_campaign_id_program_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_candidates")),
        sa.UniqueConstraint(
            "campaign_id", "subject", name=op.f("uq_program_candidates_campaign_id_subject")
        ),
    )
    op.create_index(
        "ix_program_candidates_campaign_status",
        "program_candidates",
        ["campaign_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_program_candidates_subject"), "program_candidates", ["subject"], unique=False
    )
    op.create_table(
        "program_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=18), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("granted_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["program_candidates.id"],
            name=op.f("fk_program_grants_candidate_id_program_candidates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_grants")),
        sa.UniqueConstraint("code", name=op.f("uq_program_grants_code")),
        sa.UniqueConstraint("rule", "subject", name=op.f("uq_program_grants_rule_subject")),
    )
    op.create_index(op.f("ix_program_grants_subject"), "program_grants", ["subject"], unique=False)
    op.create_table(
        "program_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=18), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("body", sa.String(length=2048), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["program_candidates.id"],
            name=op.f("fk_program_outbox_candidate_id_program_candidates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_outbox")),
    )
    op.create_index(
        op.f("ix_program_outbox_recipient"), "program_outbox", ["recipient"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_program_outbox_recipient"), table_name="program_outbox")
    op.drop_table("program_outbox")
    op.drop_index(op.f("ix_program_grants_subject"), table_name="program_grants")
    op.drop_table("program_grants")
    op.drop_index(op.f("ix_program_candidates_subject"), table_name="program_candidates")
    op.drop_index("ix_program_candidates_campaign_status", table_name="program_candidates")
    op.drop_table("program_candidates")
    op.drop_index(op.f("ix_program_campaigns_rule"), table_name="program_campaigns")
    op.drop_table("program_campaigns")

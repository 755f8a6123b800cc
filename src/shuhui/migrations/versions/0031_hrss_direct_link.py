"""hrss: the enterprise direct link (人社政企直连) — clients, batches, records

Revision ID: 0031
Revises: 0030
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hrss_link_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("public_key_pem", sa.String(length=1024), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_link_clients")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_hrss_link_clients_credit_code")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_hrss_link_clients_key_hash")),
    )
    op.create_table(
        "hrss_link_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body_sm3", sa.String(length=64), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("received_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_link_batches")),
        sa.UniqueConstraint(
            "credit_code", "batch_id", name=op.f("uq_hrss_link_batches_credit_code_batch_id")
        ),
    )
    op.create_table(
        "hrss_link_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("fact", sa.String(length=96), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_pk"],
            ["hrss_link_batches.id"],
            name=op.f("fk_hrss_link_records_batch_pk_hrss_link_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_link_records")),
        sa.UniqueConstraint(
            "batch_pk", "position", name=op.f("uq_hrss_link_records_batch_pk_position")
        ),
        sa.UniqueConstraint("fact", name=op.f("uq_hrss_link_records_fact")),
    )
    op.create_index("ix_hrss_link_records_batch_pk", "hrss_link_records", ["batch_pk"])
    op.create_index("ix_hrss_link_records_citizen_id", "hrss_link_records", ["citizen_id"])


def downgrade() -> None:
    op.drop_index("ix_hrss_link_records_citizen_id", table_name="hrss_link_records")
    op.drop_index("ix_hrss_link_records_batch_pk", table_name="hrss_link_records")
    op.drop_table("hrss_link_records")
    op.drop_table("hrss_link_batches")
    op.drop_table("hrss_link_clients")

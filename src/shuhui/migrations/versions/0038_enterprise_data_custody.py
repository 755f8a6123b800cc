"""enterprise data custody: the data channel's hosted products, the enterprise's hosted files

The hosted tables themselves are in the data core (its ``hosted`` section), not here.

Revision ID: 0038
Revises: 0037
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Moment = shuhui.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "channel_hosted_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("provider_code", sa.String(length=18), nullable=False),
        sa.Column("provider_name", sa.String(length=256), nullable=False),
        sa.Column("name_zh", sa.String(length=256), nullable=False),
        sa.Column("name_en", sa.String(length=256), nullable=False),
        sa.Column("summary", sa.String(length=2048), nullable=False),
        sa.Column("zone", sa.String(length=32), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("columns", sa.Text(), nullable=False),
        sa.Column("keys", sa.String(length=1024), nullable=False),
        sa.Column("review", sa.Boolean(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("public_governance_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("offered_at", Moment(timezone=True), nullable=False),
        sa.Column("offered_by", sa.String(length=128), nullable=False),
        sa.Column("withdrawn_at", Moment(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=128), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=1024), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_hosted_products")),
        sa.UniqueConstraint("code", name=op.f("uq_channel_hosted_products_code")),
    )
    op.create_index(
        "ix_channel_hosted_products_provider_code", "channel_hosted_products", ["provider_code"]
    )
    op.create_table(
        "enterprise_hosted_data",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=128), nullable=False),
        sa.Column("slug", sa.String(length=32), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("keys", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("zone", sa.String(length=32), nullable=False),
        sa.Column("terms", sa.String(length=16), nullable=False),
        sa.Column("condition", sa.String(length=512), nullable=True),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("public_governance_fen", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("file_bytes", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", Moment(timezone=True), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=True),
        sa.Column("withdrawn_at", Moment(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=1024), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_hosted_data")),
        sa.UniqueConstraint("code", name=op.f("uq_enterprise_hosted_data_code")),
        sa.UniqueConstraint("table_name", name=op.f("uq_enterprise_hosted_data_table_name")),
    )
    op.create_index(
        "ix_enterprise_hosted_data_credit_code", "enterprise_hosted_data", ["credit_code"]
    )
    op.create_index("ix_enterprise_hosted_data_state", "enterprise_hosted_data", ["state"])


def downgrade() -> None:
    op.drop_index("ix_enterprise_hosted_data_state", table_name="enterprise_hosted_data")
    op.drop_index("ix_enterprise_hosted_data_credit_code", table_name="enterprise_hosted_data")
    op.drop_table("enterprise_hosted_data")
    op.drop_index("ix_channel_hosted_products_provider_code", table_name="channel_hosted_products")
    op.drop_table("channel_hosted_products")

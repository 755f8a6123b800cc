"""hrss: video help (社保视联办) requests and the signals between their two sides

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hrss_help_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("page", sa.String(length=256), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("asked_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("picked_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("proposals", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_help_requests")),
        sa.UniqueConstraint("code", name=op.f("uq_hrss_help_requests_code")),
    )
    op.create_index("ix_hrss_help_requests_citizen_id", "hrss_help_requests", ["citizen_id"])
    op.create_index("ix_hrss_help_requests_state", "hrss_help_requests", ["state"])
    op.create_table(
        "hrss_help_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("sent_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["hrss_help_requests.id"],
            name=op.f("fk_hrss_help_signals_request_id_hrss_help_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_help_signals")),
    )
    op.create_index("ix_hrss_help_signals_request_id", "hrss_help_signals", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_hrss_help_signals_request_id", table_name="hrss_help_signals")
    op.drop_table("hrss_help_signals")
    op.drop_index("ix_hrss_help_requests_state", table_name="hrss_help_requests")
    op.drop_index("ix_hrss_help_requests_citizen_id", table_name="hrss_help_requests")
    op.drop_table("hrss_help_requests")

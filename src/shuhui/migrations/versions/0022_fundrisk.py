"""fundrisk: detection runs, alerts and their lifecycle events

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 19:23:24.872915
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fundrisk_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fundrisk_runs")),
        sa.UniqueConstraint("evaluated_on", name=op.f("uq_fundrisk_runs_evaluated_on")),
    )
    op.create_table(
        "fundrisk_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("chain", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=True),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("recovered_fen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1024), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["fundrisk_runs.id"], name=op.f("fk_fundrisk_alerts_run_id_fundrisk_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fundrisk_alerts")),
        sa.UniqueConstraint("code", name=op.f("uq_fundrisk_alerts_code")),
        sa.UniqueConstraint("rule", "subject", name=op.f("uq_fundrisk_alerts_rule_subject")),
    )
    with op.batch_alter_table("fundrisk_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_fundrisk_alerts_chain_state", ["chain", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fundrisk_alerts_citizen_id"), ["citizen_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fundrisk_alerts_state"), ["state"], unique=False)

    op.create_table(
        "fundrisk_alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.String(length=1024), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["fundrisk_alerts.id"],
            name=op.f("fk_fundrisk_alert_events_alert_id_fundrisk_alerts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fundrisk_alert_events")),
    )
    with op.batch_alter_table("fundrisk_alert_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fundrisk_alert_events_alert_id"), ["alert_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fundrisk_alert_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fundrisk_alert_events_alert_id"))

    op.drop_table("fundrisk_alert_events")
    with op.batch_alter_table("fundrisk_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fundrisk_alerts_state"))
        batch_op.drop_index(batch_op.f("ix_fundrisk_alerts_citizen_id"))
        batch_op.drop_index("ix_fundrisk_alerts_chain_state")

    op.drop_table("fundrisk_alerts")
    op.drop_table("fundrisk_runs")

"""monitor alarms: alarms, their events and readings, condition state, devices heard, inboxes

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = shuhui.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "monitor_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("open_key", sa.String(length=160), nullable=True),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("scenario", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=True),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("district", sa.String(length=6), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("raised_level", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("raised_at", UTC, nullable=False),
        sa.Column("acknowledged_at", UTC, nullable=True),
        sa.Column("dispatched_at", UTC, nullable=True),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("escalate_at", UTC, nullable=True),
        sa.Column("cleared_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alarms")),
        sa.UniqueConstraint("code", name=op.f("uq_monitor_alarms_code")),
        sa.UniqueConstraint("open_key", name=op.f("uq_monitor_alarms_open_key")),
    )
    with op.batch_alter_table("monitor_alarms", schema=None) as batch_op:
        batch_op.create_index("ix_monitor_alarms_state_level", ["state", "level"], unique=False)
        batch_op.create_index("ix_monitor_alarms_unit_state", ["unit", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitor_alarms_rule"), ["rule"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_monitor_alarms_escalate_at"), ["escalate_at"], unique=False
        )
    op.create_table(
        "monitor_alarm_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=1024), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["monitor_alarms.id"],
            name=op.f("fk_monitor_alarm_events_alarm_id_monitor_alarms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alarm_events")),
    )
    with op.batch_alter_table("monitor_alarm_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_alarm_events_alarm_id"), ["alarm_id"], unique=False
        )
    op.create_table(
        "monitor_alarm_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("ts", UTC, nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["monitor_alarms.id"],
            name=op.f("fk_monitor_alarm_readings_alarm_id_monitor_alarms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alarm_readings")),
    )
    with op.batch_alter_table("monitor_alarm_readings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_alarm_readings_alarm_id"), ["alarm_id"], unique=False
        )
    op.create_table(
        "monitor_conditions",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("member", sa.SmallInteger(), nullable=True),
        sa.Column("since", UTC, nullable=True),
        sa.Column("false_since", UTC, nullable=True),
        sa.Column("ts", UTC, nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("raised", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_monitor_conditions")),
    )
    with op.batch_alter_table("monitor_conditions", schema=None) as batch_op:
        batch_op.create_index("ix_monitor_conditions_rule_site", ["rule", "site"], unique=False)
    op.create_table(
        "monitor_device_seen",
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("seen_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("device", name=op.f("pk_monitor_device_seen")),
    )
    with op.batch_alter_table("monitor_device_seen", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_device_seen_seen_at"), ["seen_at"], unique=False
        )
    op.create_table(
        "monitor_unit_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("body", sa.String(length=2048), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("read_at", UTC, nullable=True),
        sa.Column("read_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["alarm_id"],
            ["monitor_alarms.id"],
            name=op.f("fk_monitor_unit_messages_alarm_id_monitor_alarms"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_unit_messages")),
    )
    with op.batch_alter_table("monitor_unit_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monitor_unit_messages_unit_read", ["unit", "read_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_monitor_unit_messages_alarm_id"), ["alarm_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("monitor_unit_messages")
    op.drop_table("monitor_device_seen")
    op.drop_table("monitor_conditions")
    op.drop_table("monitor_alarm_readings")
    op.drop_table("monitor_alarm_events")
    op.drop_table("monitor_alarms")

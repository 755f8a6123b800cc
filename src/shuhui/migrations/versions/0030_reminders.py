"""hrss: proactive reminders sent; a portal message may carry a one-click link

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("program_outbox") as batch:
        batch.add_column(sa.Column("link", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("link_label", sa.String(length=64), nullable=True))
    op.create_table(
        "hrss_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=32), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_reminders")),
        sa.UniqueConstraint(
            "reminder", "recipient", "due", name=op.f("uq_hrss_reminders_reminder_recipient_due")
        ),
    )
    op.create_index("ix_hrss_reminders_recipient", "hrss_reminders", ["recipient"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_hrss_reminders_recipient", table_name="hrss_reminders")
    op.drop_table("hrss_reminders")
    with op.batch_alter_table("program_outbox") as batch:
        batch.drop_column("link_label")
        batch.drop_column("link")

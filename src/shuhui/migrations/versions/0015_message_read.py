"""message centre: when a portal message was read, and the index the unread count uses

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Messages sent before the message centre existed count as unread: nobody has seen them.
    with op.batch_alter_table("program_outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("read_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_program_outbox_inbox", ["recipient", "channel", "read_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("program_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_program_outbox_inbox")
        batch_op.drop_column("read_at")

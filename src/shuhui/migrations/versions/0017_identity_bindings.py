"""identity bindings: a second person approves binding an ID to an account; who chose the password

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-06 13:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        # The platform cannot tell who chose an existing password (an admin sets every initial
        # one), so none counts as the holder's: each person signs again after setting their own.
        batch_op.add_column(
            sa.Column("password_by_holder", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "identity_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_identity_bindings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_bindings")),
    )
    for column in ("status", "user_id"):
        op.create_index(
            op.f(f"ix_identity_bindings_{column}"), "identity_bindings", [column], unique=False
        )


def downgrade() -> None:
    for column in ("status", "user_id"):
        op.drop_index(op.f(f"ix_identity_bindings_{column}"), table_name="identity_bindings")
    op.drop_table("identity_bindings")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_by_holder")

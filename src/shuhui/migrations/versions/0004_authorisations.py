"""personal signing keys, mandates and certificate-use authorisations

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 13:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = shuhui.core.db.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "personal_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("public_key_pem", sa.String(), nullable=False),
        sa.Column("custody", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("revoked_at", UTC(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_personal_keys_key_id")),
    )
    op.create_index(
        op.f("ix_personal_keys_citizen_id"), "personal_keys", ["citizen_id"], unique=False
    )
    op.create_table(
        "authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("principal_id", sa.String(length=18), nullable=False),
        sa.Column("principal_name", sa.String(length=128), nullable=False),
        sa.Column("grantor_kind", sa.String(length=16), nullable=False),
        sa.Column("grantor_id", sa.String(length=18), nullable=False),
        sa.Column("signatory_id", sa.String(length=18), nullable=False),
        sa.Column("grantee_kind", sa.String(length=16), nullable=False),
        sa.Column("grantee_id", sa.String(length=18), nullable=False),
        sa.Column("grantee_name", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("actions", sa.String(), nullable=False),
        sa.Column("certificate_no", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=256), nullable=True),
        sa.Column("valid_from", UTC(timezone=True), nullable=False),
        sa.Column("valid_to", UTC(timezone=True), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("subdelegation", sa.Boolean(), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("signed_at", UTC(timezone=True), nullable=True),
        sa.Column("ended_at", UTC(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorisations")),
        sa.UniqueConstraint("code", name=op.f("uq_authorisations_code")),
    )
    for column in ("kind", "principal_id", "grantor_id", "grantee_id", "parent_code"):
        op.create_index(
            op.f(f"ix_authorisations_{column}"), "authorisations", [column], unique=False
        )
    # "Every use of this authorisation" reads the ledger by grant.
    op.create_index(op.f("ix_ledger_entries_grant"), "ledger_entries", ["grant"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_entries_grant"), table_name="ledger_entries")
    op.drop_table("authorisations")
    op.drop_table("personal_keys")

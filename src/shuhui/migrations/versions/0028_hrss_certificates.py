"""hrss: certificates of insured status (参保证明) issued under the social-insurance seal

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shuhui.core.db import UTCDateTime

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hrss_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("citizen_id", sa.String(18), nullable=False),
        sa.Column("holder_name", sa.String(64), nullable=False),
        sa.Column("months_from", sa.Date(), nullable=False),
        sa.Column("months_to", sa.Date(), nullable=False),
        sa.Column("issuer", sa.String(128), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("seal_code", sa.String(64), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("stored_as", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hrss_certificates")),
        sa.UniqueConstraint("number", name=op.f("uq_hrss_certificates_number")),
    )
    op.create_index("ix_hrss_certificates_citizen_id", "hrss_certificates", ["citizen_id"])


def downgrade() -> None:
    op.drop_index("ix_hrss_certificates_citizen_id", table_name="hrss_certificates")
    op.drop_table("hrss_certificates")

"""pension certification: cycle runs, certifications, payment holds, resumptions,
overpayments and recoveries, home visits; outbox messages without a campaign candidate

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cert_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("ms", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_runs")),
        sa.UniqueConstraint("run_on", name=op.f("uq_cert_runs_run_on")),
    )
    op.create_table(
        "cert_certifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("certified_on", sa.Date(), nullable=True),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("district_code", sa.String(length=6), nullable=True),
        sa.Column("declaration", sa.LargeBinary(), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("notified_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["cert_runs.id"], name=op.f("fk_cert_certifications_run_id_cert_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_certifications")),
        sa.UniqueConstraint(
            "citizen_id", "year", name=op.f("uq_cert_certifications_citizen_id_year")
        ),
    )
    op.create_index(
        "ix_cert_certifications_year_outcome",
        "cert_certifications",
        ["year", "outcome", "method"],
        unique=False,
    )
    op.create_table(
        "cert_payment_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pension_id", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("monthly_amount_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["cert_certifications.id"],
            name=op.f("fk_cert_payment_holds_certification_id_cert_certifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_payment_holds")),
        sa.UniqueConstraint("pension_id", name=op.f("uq_cert_payment_holds_pension_id")),
    )
    op.create_index(op.f("ix_cert_payment_holds_citizen_id"), "cert_payment_holds", ["citizen_id"])
    op.create_index(op.f("ix_cert_payment_holds_status"), "cert_payment_holds", ["status"])
    op.create_table(
        "cert_resumptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pension_id", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("suspended_from", sa.Date(), nullable=False),
        sa.Column("resumed_on", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("monthly_amount_fen", sa.Integer(), nullable=False),
        sa.Column("back_pay_fen", sa.Integer(), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["cert_certifications.id"],
            name=op.f("fk_cert_resumptions_certification_id_cert_certifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_resumptions")),
    )
    op.create_index(op.f("ix_cert_resumptions_citizen_id"), "cert_resumptions", ["citizen_id"])
    op.create_index(op.f("ix_cert_resumptions_pension_id"), "cert_resumptions", ["pension_id"])
    op.create_table(
        "cert_overpayments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pension_id", sa.String(length=32), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("died_on", sa.Date(), nullable=False),
        sa.Column("stopped_from", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("recovered_fen", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["cert_certifications.id"],
            name=op.f("fk_cert_overpayments_certification_id_cert_certifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_overpayments")),
        sa.UniqueConstraint("pension_id", name=op.f("uq_cert_overpayments_pension_id")),
    )
    op.create_index(op.f("ix_cert_overpayments_citizen_id"), "cert_overpayments", ["citizen_id"])
    op.create_index(op.f("ix_cert_overpayments_status"), "cert_overpayments", ["status"])
    op.create_table(
        "cert_recoveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("overpayment_id", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("recovered_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["overpayment_id"],
            ["cert_overpayments.id"],
            name=op.f("fk_cert_recoveries_overpayment_id_cert_overpayments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_recoveries")),
    )
    op.create_index(
        op.f("ix_cert_recoveries_overpayment_id"), "cert_recoveries", ["overpayment_id"]
    )
    op.create_table(
        "cert_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("died_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["cert_certifications.id"],
            name=op.f("fk_cert_visits_certification_id_cert_certifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cert_visits")),
        sa.UniqueConstraint("certification_id", name=op.f("uq_cert_visits_certification_id")),
    )
    op.create_index(op.f("ix_cert_visits_citizen_id"), "cert_visits", ["citizen_id"])
    op.create_index(op.f("ix_cert_visits_department"), "cert_visits", ["department"])
    # A certification notice is a message without a campaign's candidate.
    with op.batch_alter_table("program_outbox") as batch:
        batch.alter_column("candidate_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("program_outbox") as batch:
        batch.alter_column("candidate_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("cert_visits")
    op.drop_table("cert_recoveries")
    op.drop_table("cert_overpayments")
    op.drop_table("cert_resumptions")
    op.drop_table("cert_payment_holds")
    op.drop_index("ix_cert_certifications_year_outcome", table_name="cert_certifications")
    op.drop_table("cert_certifications")
    op.drop_table("cert_runs")

"""programs.distress: enterprise-difficulty runs, their struggling enterprises, measures started

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 19:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0023"
# The integrator renumbers the chain at merge (0021 certification, 0022 fund risk, 0023 this).
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "program_distress_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("ms", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_distress_runs")),
        sa.UniqueConstraint("evaluated_on", name=op.f("uq_program_distress_runs_evaluated_on")),
    )
    op.create_table(
        "program_distress_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("industry", sa.String(length=128), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["program_distress_runs.id"],
            name=op.f("fk_program_distress_findings_run_id_program_distress_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_distress_findings")),
        sa.UniqueConstraint(
            "run_id", "credit_code", name=op.f("uq_program_distress_findings_run_id_credit_code")
        ),
    )
    with op.batch_alter_table("program_distress_findings", schema=None) as batch_op:
        batch_op.create_index("ix_program_distress_findings_code", ["credit_code"], unique=False)
    op.create_table(
        "program_distress_measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=True),
        sa.Column("campaign", sa.String(length=32), nullable=True),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("started_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["program_distress_runs.id"],
            name=op.f("fk_program_distress_measures_run_id_program_distress_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program_distress_measures")),
        sa.UniqueConstraint(
            "run_id",
            "measure",
            "credit_code",
            name=op.f("uq_program_distress_measures_run_id_measure_credit_code"),
        ),
    )
    with op.batch_alter_table("program_distress_measures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_program_distress_measures_credit_code"), ["credit_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("program_distress_measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_program_distress_measures_credit_code"))
    op.drop_table("program_distress_measures")
    with op.batch_alter_table("program_distress_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_program_distress_findings_code")
    op.drop_table("program_distress_findings")
    op.drop_table("program_distress_runs")

"""approval: cases, fields with provenance, materials, tasks, events, licences, ratings

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:41:43.554328
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shuhui.core.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approval_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("domain", sa.String(length=32), nullable=False),
        sa.Column("scenario", sa.String(length=64), nullable=True),
        sa.Column("applicant_kind", sa.String(length=16), nullable=False),
        sa.Column("applicant_id", sa.String(length=32), nullable=False),
        sa.Column("applicant_name", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=32), nullable=True),
        sa.Column("mandate_code", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("process", sa.String(length=64), nullable=False),
        sa.Column("process_state", sa.JSON(), nullable=True),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("correction", sa.JSON(), nullable=True),
        sa.Column("correction_count", sa.Integer(), nullable=False),
        sa.Column("precheck_used", sa.Boolean(), nullable=False),
        sa.Column("first_pass", sa.Boolean(), nullable=True),
        sa.Column("created_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("issued_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("promised_due", sa.Date(), nullable=True),
        sa.Column("statutory_due", sa.Date(), nullable=True),
        sa.Column("paused_since", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_days", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("licence_no", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_cases")),
        sa.UniqueConstraint("code", name=op.f("uq_approval_cases_code")),
    )
    with op.batch_alter_table("approval_cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_approval_cases_applicant", ["applicant_id", "item_code"], unique=False
        )
        batch_op.create_index(
            "ix_approval_cases_department_state", ["department", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_approval_cases_domain"), ["domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_approval_cases_state"), ["state"], unique=False)

    op.create_table(
        "approval_case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("step", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["approval_cases.id"],
            name=op.f("fk_approval_case_events_case_id_approval_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_case_events")),
    )
    with op.batch_alter_table("approval_case_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_case_events_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "approval_case_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("fill", sa.String(length=16), nullable=False),
        sa.Column("filled_value", sa.JSON(), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=True),
        sa.Column("source_table", sa.String(length=64), nullable=True),
        sa.Column("source_version", sa.Integer(), nullable=True),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.Column("source_case", sa.String(length=32), nullable=True),
        sa.Column("source_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["approval_cases.id"],
            name=op.f("fk_approval_case_fields_case_id_approval_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_case_fields")),
        sa.UniqueConstraint("case_id", "field", name=op.f("uq_approval_case_fields_case_id_field")),
    )
    op.create_table(
        "approval_case_materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("material", sa.String(length=64), nullable=False),
        sa.Column("waived", sa.Boolean(), nullable=False),
        sa.Column("certificate_type", sa.String(length=64), nullable=True),
        sa.Column("certificate_no", sa.String(length=64), nullable=True),
        sa.Column("certificate_holder", sa.String(length=32), nullable=True),
        sa.Column("authorisation_code", sa.String(length=32), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("stored_as", sa.String(length=255), nullable=True),
        sa.Column("precheck", sa.JSON(), nullable=True),
        sa.Column("precheck_ok", sa.Boolean(), nullable=True),
        sa.Column("updated_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["approval_cases.id"],
            name=op.f("fk_approval_case_materials_case_id_approval_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_case_materials")),
        sa.UniqueConstraint(
            "case_id", "material", name=op.f("uq_approval_case_materials_case_id_material")
        ),
    )
    op.create_table(
        "approval_case_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("opened_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["approval_cases.id"],
            name=op.f("fk_approval_case_tasks_case_id_approval_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_case_tasks")),
    )
    with op.batch_alter_table("approval_case_tasks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_approval_case_tasks_queue", ["department", "role", "closed_at"], unique=False
        )

    op.create_table(
        "approval_licences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.String(length=64), nullable=False),
        sa.Column("certificate_type", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("holder_kind", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.String(length=32), nullable=False),
        sa.Column("holder_name", sa.String(length=128), nullable=False),
        sa.Column("issuer", sa.String(length=128), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("seal_code", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("stored_as", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("datacore_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["approval_cases.id"],
            name=op.f("fk_approval_licences_case_id_approval_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_licences")),
        sa.UniqueConstraint("case_id", name=op.f("uq_approval_licences_case_id")),
        sa.UniqueConstraint("certificate_no", name=op.f("uq_approval_licences_certificate_no")),
    )
    with op.batch_alter_table("approval_licences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_licences_holder_id"), ["holder_id"], unique=False
        )

    op.create_table(
        "approval_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=False),
        sa.Column("rated_by", sa.String(length=64), nullable=False),
        sa.Column("rated_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["approval_cases.id"],
            name=op.f("fk_approval_ratings_case_id_approval_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_ratings")),
        sa.UniqueConstraint("case_id", name=op.f("uq_approval_ratings_case_id")),
    )
    with op.batch_alter_table("approval_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_ratings_department"), ["department"], unique=False
        )

    op.create_table(
        "approval_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reply", sa.String(length=1000), nullable=True),
        sa.Column("closed_at", shuhui.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["approval_ratings.id"],
            name=op.f("fk_approval_followups_rating_id_approval_ratings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_followups")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_approval_followups_rating_id")),
    )
    with op.batch_alter_table("approval_followups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_followups_department"), ["department"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("approval_followups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_followups_department"))

    op.drop_table("approval_followups")
    with op.batch_alter_table("approval_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_ratings_department"))

    op.drop_table("approval_ratings")
    with op.batch_alter_table("approval_licences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_licences_holder_id"))

    op.drop_table("approval_licences")
    with op.batch_alter_table("approval_case_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_case_tasks_queue")

    op.drop_table("approval_case_tasks")
    op.drop_table("approval_case_materials")
    op.drop_table("approval_case_fields")
    with op.batch_alter_table("approval_case_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_case_events_case_id"))

    op.drop_table("approval_case_events")
    with op.batch_alter_table("approval_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_cases_state"))
        batch_op.drop_index(batch_op.f("ix_approval_cases_domain"))
        batch_op.drop_index("ix_approval_cases_department_state")
        batch_op.drop_index("ix_approval_cases_applicant")

    op.drop_table("approval_cases")

"""approval: the channel a case came through (online, agent, link, counter), for the online share

Cases made before the column say online, or agent where an agent filed them under a mandate:
the direct link and the counter filed no case before this revision. The metrics count the
channels in the query that counts the cases (one scan of the range's cases, grouped by item),
so no index is added.

Revision ID: 0034
Revises: 0033
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=16), server_default="online", nullable=False)
        )
    cases = sa.table("approval_cases", sa.column("agent_id"), sa.column("channel"))
    op.execute(cases.update().where(cases.c.agent_id.is_not(None)).values(channel="agent"))


def downgrade() -> None:
    with op.batch_alter_table("approval_cases", schema=None) as batch_op:
        batch_op.drop_column("channel")

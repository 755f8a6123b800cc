"""monitor.registry: no tables (the registry lives in the data core); keeps the chain

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0024"
# The registry reads the data core's infrastructure_assets; telemetry (0025) and alarms (0026)
# chain after this one.
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass

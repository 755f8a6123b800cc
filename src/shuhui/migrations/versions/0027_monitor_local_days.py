"""monitor: a day roll-up is Qingdao's day (from local midnight, 16:00 UTC), not the UTC day

The days the hour roll-ups still cover are made again from them, exactly; an older day, whose
hours retention has dropped, keeps its figures under its local date's midnight (it counted
08:00 to 08:00 in Qingdao).

Revision ID: 0027
Revises: 0026
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOUR = 3_600_000_000
DAY = 24 * HOUR
OFFSET = 8 * HOUR  # China keeps UTC+8 all year


def upgrade() -> None:
    bind = op.get_bind()
    shift = {"offset": OFFSET}
    bind.execute(sa.text("UPDATE monitor_rollup_day SET bucket = bucket - :offset"), shift)
    first_hour = bind.execute(sa.text("SELECT min(bucket) FROM monitor_rollup_hour")).scalar()
    if first_hour is None:
        return
    # The first local midnight whose whole day the hours cover.
    covered = first_hour - (first_hour + OFFSET) % DAY
    if covered < first_hour:
        covered += DAY
    window = {"offset": OFFSET, "day": DAY, "covered": covered}
    bind.execute(
        sa.text("DELETE FROM monitor_rollup_day WHERE bucket >= :covered"), {"covered": covered}
    )
    bind.execute(
        sa.text(
            "INSERT INTO monitor_rollup_day"
            " (device, metric, bucket, n, total, low, high, last_at, last_value)"
            # The local day holding each hour, as store.bucket_start computes it.
            " SELECT device, metric, bucket - (bucket + :offset) % :day, sum(n), sum(total),"
            " min(low), max(high), max(last_at), 0 FROM monitor_rollup_hour"
            " WHERE bucket >= :covered GROUP BY 1, 2, 3"
        ),
        window,
    )
    bind.execute(
        sa.text(
            "UPDATE monitor_rollup_day SET last_value = (SELECT h.last_value"
            " FROM monitor_rollup_hour h WHERE h.device = monitor_rollup_day.device"
            " AND h.metric = monitor_rollup_day.metric AND h.last_at = monitor_rollup_day.last_at"
            " ORDER BY h.bucket DESC LIMIT 1) WHERE bucket >= :covered"
        ),
        {"covered": covered},
    )


def downgrade() -> None:
    # Back to UTC days: the local days' figures under the UTC midnight that follows them.
    op.get_bind().execute(
        sa.text("UPDATE monitor_rollup_day SET bucket = bucket + :offset"), {"offset": OFFSET}
    )

"""How long telemetry is kept, and applying it.

Raw readings are kept ``raw_days`` (a whole day's table is dropped once all of it is older),
minute roll-ups ``minute_days``, hour roll-ups ``hour_days`` (a 30-day chart reads them), day
roll-ups and the rejection counts ``day_days``. A reading older than the raw retention is
refused at ingest (``time_out_of_range``): it would land in a table about to be dropped.

The defaults below suit a city's platform; an operator changes them with environment variables
(``SHUHUI_MONITOR_RAW_DAYS``, ``SHUHUI_MONITOR_MINUTE_DAYS``, ``SHUHUI_MONITOR_HOUR_DAYS``,
``SHUHUI_MONITOR_DAY_DAYS``), read when a consumer, the server or ``shuhui monitor retention``
starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from shuhui.monitor.telemetry import store
from shuhui.monitor.telemetry.models import Partition, Rejection

_BOUNDS = {
    "raw_days": (1, 366),
    "minute_days": (1, 366),
    "hour_days": (1, 3660),
    "day_days": (1, 36600),
}


@dataclass(frozen=True)
class Retention:
    raw_days: int = 14
    minute_days: int = 35
    hour_days: int = 400
    day_days: int = 3660

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Retention:
        env = os.environ if env is None else env
        given: dict[str, int] = {}
        for name, (low, high) in _BOUNDS.items():
            raw = env.get(f"SHUHUI_MONITOR_{name.upper()}")
            if raw is None:
                continue
            try:
                value = int(raw)
            except ValueError as exc:
                raise ValueError(f"SHUHUI_MONITOR_{name.upper()} must be a whole number") from exc
            if not low <= value <= high:
                raise ValueError(f"SHUHUI_MONITOR_{name.upper()} must be {low}–{high}")
            given[name] = value
        return cls(**given)

    def oldest_raw(self, now: datetime) -> datetime:
        """The oldest time a reading may carry: the start of the oldest day kept."""
        return datetime.combine(self.first_raw_day(now), datetime.min.time(), UTC)

    def first_raw_day(self, now: datetime) -> date:
        return now.astimezone(UTC).date() - timedelta(days=self.raw_days - 1)


@dataclass(frozen=True)
class Applied:
    dropped: list[str]
    minute_rows: int
    hour_rows: int
    day_rows: int
    rejection_rows: int


def _deleted(result: Any) -> int:
    return int(result.rowcount)


def apply(db: Session, retention: Retention, now: datetime) -> Applied:
    """Drops the raw day tables older than the raw retention and deletes the roll-ups past
    theirs, in the caller's transaction."""
    first = retention.first_raw_day(now)
    dropped: list[str] = []
    connection = db.connection()
    for day in db.scalars(select(Partition.day).where(Partition.day < first)).all():
        table = store.partition_table(day)
        table.drop(connection, checkfirst=True)
        db.execute(delete(Partition).where(Partition.day == day))
        dropped.append(table.name)
    store.forget_partitions()
    counts = []
    for resolution, days in (
        ("minute", retention.minute_days),
        ("hour", retention.hour_days),
        ("day", retention.day_days),
    ):
        _, table = store.ROLLUPS[resolution]
        cutoff = store.micros(
            datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), UTC)
            - timedelta(days=days - 1)
        )
        counts.append(_deleted(db.execute(delete(table).where(table.c.bucket < cutoff))))
    oldest_day = now.astimezone(UTC).date() - timedelta(days=retention.day_days - 1)
    rejections = _deleted(db.execute(delete(Rejection).where(Rejection.day < oldest_day)))
    return Applied(dropped, counts[0], counts[1], counts[2], rejections)

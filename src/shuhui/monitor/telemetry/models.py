"""The tables of telemetry, beside the raw readings' day partitions (``store.partition``).

Times are integer microseconds since the Unix epoch, UTC (``at``, ``bucket``): exact for any
timestamp a device sends, the same on SQLite and PostgreSQL, and a bucket is integer arithmetic
(``ts // 60_000_000 * 60_000_000`` is the minute), so a roll-up and the SQL over the raw rows it
summarises are compared exactly. The raw day tables (``monitor_readings_YYYYMMDD``) are made on
demand and listed in :class:`Partition`; they are not in the metadata (Alembic does not manage
what a day creates; migration 0025's downgrade drops them all).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shuhui.core.db import Base, UTCDateTime


class Partition(Base):
    """One day's table of raw readings, made when the first reading of that day arrived."""

    __tablename__ = "monitor_partitions"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class _Rollup:
    """A device's metric over one bucket: count, sum, min, max and the last value."""

    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # start, µs since epoch
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    last_at: Mapped[int] = mapped_column(BigInteger)
    last_value: Mapped[float] = mapped_column(Float)


class MinuteRollup(_Rollup, Base):
    __tablename__ = "monitor_rollup_minute"


class HourRollup(_Rollup, Base):
    __tablename__ = "monitor_rollup_hour"


class DayRollup(_Rollup, Base):
    __tablename__ = "monitor_rollup_day"


class Latest(Base):
    """A device's last value of each metric (the wall, the device list's "last seen")."""

    __tablename__ = "monitor_latest"

    device: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float)


class Rejection(Base):
    """How many messages were refused for a reason on a day (UTC)."""

    __tablename__ = "monitor_rejections"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)

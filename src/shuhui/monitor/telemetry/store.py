"""Where readings are kept and how they are read back.

**Raw readings** go to one table per UTC day, ``monitor_readings_YYYYMMDD`` (device, metric,
ts, value; primary key device+metric+ts), made on demand the first time a reading of that day
arrives and listed in ``monitor_partitions``. Separate tables rather than PostgreSQL's native
partitions so that SQLite and PostgreSQL share one code path; retention drops a whole day's
table, which costs the same however many rows it holds. A reading is inserted or ignored
(``ON CONFLICT DO NOTHING … RETURNING``), so a message delivered twice — a consumer killed
before it acknowledged, a device resending — is stored once, and :func:`write` returns only
the readings newly stored: the roll-ups and the evaluators (the alarm rules) see each once.

**Roll-ups** (minute, hour, day: count, sum, min, max, the last value and its time) are kept
incrementally from those newly stored readings, aggregated per batch in Python and upserted, so
a 30-day chart reads at most 720 hour rows of one device's metric, never the raw rows. A day
roll-up is Qingdao's day (from local midnight, 16:00 UTC; China keeps UTC+8 all year), as a
person reads "that day" on the chart.

**Latest values** per device and metric (the wall, "last seen") and **rejection counts** per
UTC day and reason sit beside them. Times are microseconds since the epoch (see ``models``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shuhui.core.clock import utcnow
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry.models import (
    DayRollup,
    HourRollup,
    Latest,
    MinuteRollup,
    Partition,
    Rejection,
)

Resolution = Literal["raw", "minute", "hour", "day"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_DAY = EPOCH.date()
ONE_US = timedelta(microseconds=1)
MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
ROLLUPS: dict[str, tuple[int, Any]] = {
    "minute": (MINUTE_US, MinuteRollup.__table__),
    "hour": (HOUR_US, HourRollup.__table__),
    "day": (DAY_US, DayRollup.__table__),
}
# Where each roll-up's buckets begin, past the epoch's boundaries: a day at Qingdao's midnight.
LOCAL_OFFSET_US = 8 * HOUR_US
OFFSETS: dict[str, int] = {"day": LOCAL_OFFSET_US}


def bucket_start(at: int, resolution: str) -> int:
    """The start of the roll-up bucket holding the moment ``at`` (µs since the epoch)."""
    width, _ = ROLLUPS[resolution]
    return at - (at + OFFSETS.get(resolution, 0)) % width


# A chart is drawn from at most about this many points (the design's "≤ ~1,500").
MAX_POINTS = 1_500
# Rows per INSERT statement: far below SQLite's 32,766 and PostgreSQL's 65,535 parameters.
CHUNK = 2_000

_raw_metadata = MetaData()
_tables: dict[str, Table] = {}
# The partitions known to exist, per database: checked once per process and day, not per batch.
_known: set[tuple[str, str]] = set()
_lock = threading.Lock()


def micros(ts: datetime) -> int:
    return (ts - EPOCH) // ONE_US


def from_micros(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def partition_name(day: date) -> str:
    return f"monitor_readings_{day:%Y%m%d}"


def partition_table(day: date) -> Table:
    name = partition_name(day)
    with _lock:
        table = _tables.get(name)
        if table is None:
            table = Table(
                name,
                _raw_metadata,
                Column("device", String(64), nullable=False),
                Column("metric", String(32), nullable=False),
                Column("ts", BigInteger, nullable=False),
                Column("value", Float, nullable=False),
                PrimaryKeyConstraint("device", "metric", "ts", name=f"pk_{name}"),
                # A clustered key: a device's series is one range of the table.
                sqlite_with_rowid=False,
            )
            _tables[name] = table
        return table


def _insert(db: Session, table: Any) -> Any:
    dialect = db.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _database(db: Session) -> str:
    return str(db.get_bind().engine.url)


def forget_partitions() -> None:
    """Forgets which partitions exist (after a rolled-back batch that may have made one)."""
    with _lock:
        _known.clear()


def ensure_partition(db: Session, day: date, now: datetime | None = None) -> Table:
    """The day's table, made in this transaction if it does not exist yet."""
    table = partition_table(day)
    key = (_database(db), table.name)
    if key in _known:
        return table
    connection = db.connection()
    if connection.dialect.name == "postgresql":
        # Two consumers making the same day's table at once: the second waits for the first's
        # commit (CREATE TABLE IF NOT EXISTS alone races on PostgreSQL's catalog).
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": 0x5E450000 + day.toordinal()}
        )
    table.create(connection, checkfirst=True)
    db.execute(
        _insert(db, Partition.__table__)
        .values(day=day, table_name=table.name, created_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["day"])
    )
    with _lock:
        _known.add(key)
    return table


def partition_days(db: Session) -> list[date]:
    return list(db.scalars(select(Partition.day).order_by(Partition.day)))


_PG_TYPES = {str: "varchar", int: "bigint", float: "float8"}


def _upsert(
    connection: Connection,
    head: str,
    types: Sequence[type],
    tail: str,
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """``head`` VALUES … ``tail`` for every row: on PostgreSQL one statement over arrays
    (``unnest``), on SQLite the driver's executemany. Each key appears once in ``rows``."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{_PG_TYPES[t]}[]" for t in types)
        columns = tuple(list(column) for column in zip(*rows, strict=True))
        connection.exec_driver_sql(
            f"{head} SELECT * FROM unnest({arrays}) {tail}",  # noqa: S608 - our own SQL
            columns,
        )
        return
    marks = ",".join("?" * len(types))
    connection.exec_driver_sql(f"{head} VALUES ({marks}) {tail}", list(rows))


def _upsert_rollups(connection: Connection, rows: Sequence[tuple[str, str, int, float]]) -> None:
    # Aggregated here, then one upsert per bucket: count and sum add up, min and max compare,
    # the last value is the one with the latest time. The driver's executemany with plain
    # tuples: SQLAlchemy's per-row parameter handling cost more than SQLite's work.
    for name, (width, table) in ROLLUPS.items():
        offset = OFFSETS.get(name, 0)
        buckets: dict[tuple[str, str, int], list[Any]] = {}
        for device, metric, at, value in rows:
            key = (device, metric, at - (at + offset) % width)
            b = buckets.get(key)
            if b is None:
                buckets[key] = [1, value, value, value, at, value]
                continue
            b[0] += 1
            b[1] += value
            if value < b[2]:
                b[2] = value
            if value > b[3]:
                b[3] = value
            if at >= b[4]:
                b[4], b[5] = at, value
        t = table.name
        head = f"INSERT INTO {t} (device, metric, bucket, n, total, low, high, last_at, last_value)"
        tail = (
            "ON CONFLICT (device, metric, bucket) DO UPDATE SET"
            f" n = {t}.n + excluded.n, total = {t}.total + excluded.total,"
            f" low = CASE WHEN excluded.low < {t}.low THEN excluded.low ELSE {t}.low END,"
            f" high = CASE WHEN excluded.high > {t}.high THEN excluded.high ELSE {t}.high END,"
            f" last_value = CASE WHEN excluded.last_at >= {t}.last_at"
            f" THEN excluded.last_value ELSE {t}.last_value END,"
            f" last_at = CASE WHEN excluded.last_at >= {t}.last_at"
            f" THEN excluded.last_at ELSE {t}.last_at END"
        )
        types = (str, str, int, int, float, float, float, int, float)
        _upsert(connection, head, types, tail, [(*k, *v) for k, v in buckets.items()])


def _upsert_latest(connection: Connection, rows: Sequence[tuple[str, str, int, float]]) -> None:
    newest: dict[tuple[str, str], tuple[int, float]] = {}
    for device, metric, at, value in rows:
        seen = newest.get((device, metric))
        if seen is None or at >= seen[0]:
            newest[(device, metric)] = (at, value)
    _upsert(
        connection,
        "INSERT INTO monitor_latest (device, metric, at, value)",
        (str, str, int, float),
        "ON CONFLICT (device, metric) DO UPDATE SET at = excluded.at, value = excluded.value"
        " WHERE excluded.at >= monitor_latest.at",
        [(*k, *v) for k, v in newest.items()],
    )


def _insert_new(
    connection: Connection, table: str, rows: Sequence[tuple[str, str, int, float]]
) -> list[tuple[str, str, int]]:
    # Written as the driver's SQL: SQLAlchemy compiling a 2,000-row VALUES clause took 90 % of
    # a batch's time. The table name is ours (partition_name), never a client's.
    if connection.dialect.name == "postgresql":
        sql = (
            f"INSERT INTO {table} (device, metric, ts, value) "  # noqa: S608
            "SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::bigint[], %s::float8[]) "
            "ON CONFLICT DO NOTHING RETURNING device, metric, ts"
        )
        columns = tuple(list(column) for column in zip(*rows, strict=True))
        return [tuple(r) for r in connection.exec_driver_sql(sql, columns)]
    sql = (
        f"INSERT INTO {table} (device, metric, ts, value) VALUES "  # noqa: S608
        + ",".join(["(?,?,?,?)"] * len(rows))
        + " ON CONFLICT DO NOTHING RETURNING device, metric, ts"
    )
    flat = tuple(value for row in rows for value in row)
    return [tuple(r) for r in connection.exec_driver_sql(sql, flat)]


def write(db: Session, readings: Iterable[Reading], now: datetime | None = None) -> list[Reading]:
    """Stores the readings not stored before, keeps the roll-ups and latest values, and
    returns the readings newly stored (in the caller's transaction)."""
    # Keyed by the UTC day's number since the epoch; a message's readings share one datetime,
    # so its microseconds are worked out once a message, not once a reading.
    by_day: dict[int, dict[tuple[str, str, int], Reading]] = {}
    last: datetime | None = None
    at = day = 0
    unique: dict[tuple[str, str, int], Reading] = {}
    for r in readings:
        if r.ts is not last:
            last = r.ts
            at = (last - EPOCH) // ONE_US
            if at // DAY_US != day or not by_day:
                day = at // DAY_US
                unique = by_day.setdefault(day, {})
        key = (r.device, r.metric, at)
        if key not in unique:
            unique[key] = r
    if not by_day:
        return []
    stored: list[Reading] = []
    rows: list[tuple[str, str, int, float]] = []
    connection = db.connection()
    try:
        for number, unique in sorted(by_day.items()):
            table = ensure_partition(db, EPOCH_DAY + timedelta(days=number), now)
            params = [(d, m, at, r.value) for (d, m, at), r in unique.items()]
            for start in range(0, len(params), CHUNK):
                chunk = params[start : start + CHUNK]
                new = _insert_new(connection, table.name, chunk)
                if len(new) == len(chunk):  # nothing stored before: the usual case
                    rows += chunk
                    stored += [unique[(d, m, at)] for d, m, at, _v in chunk]
                    continue
                for device, metric, at in new:
                    reading = unique[(device, metric, at)]
                    stored.append(reading)
                    rows.append((device, metric, at, reading.value))
        if rows:
            _upsert_rollups(connection, rows)
            _upsert_latest(connection, rows)
    except BaseException:
        forget_partitions()
        raise
    return stored


def count_rejections(db: Session, counts: Mapping[str, int], day: date) -> None:
    """Adds the day's rejections by reason."""
    params = [{"day": day, "reason": r, "count": n} for r, n in counts.items() if n > 0]
    if not params:
        return
    table = Rejection.__table__
    ins = _insert(db, table)
    db.execute(
        ins.on_conflict_do_update(
            index_elements=["day", "reason"], set_={"count": table.c.count + ins.excluded.count}
        ),
        params,
    )


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceLatest:
    """A device's last values: ``ts`` the newest of them (when it was last heard from)."""

    device: str
    ts: datetime
    values: dict[str, float] = field(default_factory=dict)
    times: dict[str, datetime] = field(default_factory=dict)


def latest(db: Session, devices: Sequence[str] | None = None) -> dict[str, DeviceLatest]:
    """The last value of each metric per device (every device heard from when ``None``)."""
    table = Latest.__table__
    query = select(table.c.device, table.c.metric, table.c.at, table.c.value)
    rows: list[Any] = []
    if devices is None:
        rows = list(db.execute(query))
    else:
        wanted = list(dict.fromkeys(devices))
        for start in range(0, len(wanted), 500):
            rows += db.execute(query.where(table.c.device.in_(wanted[start : start + 500]))).all()
    found: dict[str, DeviceLatest] = {}
    for device, metric, at, value in rows:
        ts = from_micros(at)
        entry = found.get(device)
        if entry is None:
            entry = found[device] = DeviceLatest(device, ts)
        elif ts > entry.ts:
            entry = found[device] = DeviceLatest(device, ts, entry.values, entry.times)
        entry.values[metric] = value
        entry.times[metric] = ts
    return found


def _raw_series(
    db: Session, device: str, metric: str, start: int, end: int
) -> list[tuple[int, float]]:
    first, last = from_micros(start).date(), from_micros(max(start, end - 1)).date()
    days = db.scalars(
        select(Partition.day).where(Partition.day >= first, Partition.day <= last)
    ).all()
    points: list[tuple[int, float]] = []
    for day in sorted(days):
        t = partition_table(day)
        points += [
            (at, value)
            for at, value in db.execute(
                select(t.c.ts, t.c.value)
                .where(t.c.device == device, t.c.metric == metric, t.c.ts >= start, t.c.ts < end)
                .order_by(t.c.ts)
            )
        ]
    return points


def _raw_count(db: Session, device: str, metric: str, start: int, end: int, cap: int) -> int:
    first, last = from_micros(start).date(), from_micros(max(start, end - 1)).date()
    total = 0
    for day in db.scalars(
        select(Partition.day).where(Partition.day >= first, Partition.day <= last)
    ):
        t = partition_table(day)
        inner = (
            select(t.c.ts)
            .where(t.c.device == device, t.c.metric == metric, t.c.ts >= start, t.c.ts < end)
            .limit(cap + 1)
            .subquery()
        )
        total += db.scalar(select(func.count()).select_from(inner)) or 0
        if total > cap:
            break
    return total


def pick_resolution(db: Session, device: str, metric: str, start: int, end: int) -> Resolution:
    """The finest resolution drawing ``start``–``end`` in at most about 1,500 points."""
    span = end - start
    if span <= 6 * HOUR_US and _raw_count(db, device, metric, start, end, MAX_POINTS) <= MAX_POINTS:
        return "raw"
    if span <= MAX_POINTS * MINUTE_US:
        return "minute"
    if span <= MAX_POINTS * HOUR_US:
        return "hour"
    return "day"


def series(
    db: Session,
    device: str,
    metric: str,
    start: datetime,
    end: datetime,
    resolution: Resolution | None = None,
) -> list[tuple[datetime, float]]:
    """A device's metric from ``start`` (included) to ``end`` (excluded): raw values, or each
    bucket's mean at its start time. ``None`` picks the resolution (:func:`pick_resolution`)."""
    lo, hi = micros(start), micros(end)
    if hi <= lo:
        return []
    chosen = resolution or pick_resolution(db, device, metric, lo, hi)
    if chosen == "raw":
        return [(from_micros(at), v) for at, v in _raw_series(db, device, metric, lo, hi)]
    _, table = ROLLUPS[chosen]
    c = table.c
    first = bucket_start(lo, chosen)
    rows = db.execute(
        select(c.bucket, c.total, c.n)
        .where(c.device == device, c.metric == metric, c.bucket >= first, c.bucket < hi)
        .order_by(c.bucket)
    )
    return [(from_micros(bucket), total / n) for bucket, total, n in rows]


def rejection_counts(db: Session, since: datetime | None = None) -> dict[str, int]:
    """Messages refused by reason, from the UTC day of ``since`` (all kept days when None)."""
    query = select(Rejection.reason, func.sum(Rejection.count)).group_by(Rejection.reason)
    if since is not None:
        query = query.where(Rejection.day >= since.astimezone(UTC).date())
    return {reason: int(n) for reason, n in db.execute(query)}


def rejections_by_day(db: Session, since: date) -> dict[date, dict[str, int]]:
    found: dict[date, dict[str, int]] = {}
    for day, reason, n in db.execute(
        select(Rejection.day, Rejection.reason, Rejection.count).where(Rejection.day >= since)
    ):
        found.setdefault(day, {})[reason] = int(n)
    return found

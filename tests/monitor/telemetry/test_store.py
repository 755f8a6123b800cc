"""The store: insert-or-ignore, roll-ups equal to SQL over the raw rows, latest values,
rejection counts, series and retention — on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.clock import SHANGHAI
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry import retention, store
from shuhui.monitor.telemetry.models import Partition

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)


@pytest.fixture
def factory(migrated: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated.sqlalchemy_url)
    store.forget_partitions()
    yield make_session_factory(engine)
    engine.dispose()


def readings(count: int, seed: int = 1) -> list[Reading]:
    rng = random.Random(seed)
    return [
        Reading(
            f"D{rng.randrange(5)}",
            NOW - timedelta(seconds=rng.randrange(3 * 86_400), microseconds=rng.randrange(10**6)),
            rng.choice(["smoke", "temperature"]),
            round(rng.uniform(-20, 80), 3),
        )
        for _ in range(count)
    ]


def test_readings_are_stored_once_and_only_new_ones_returned(
    factory: sessionmaker[Session],
) -> None:
    batch = readings(3_000)
    unique = {(r.device, r.metric, r.ts) for r in batch}
    with transaction(factory) as db:
        first = store.write(db, batch, NOW)
    assert len(first) == len(unique)
    with transaction(factory) as db:
        again = store.write(db, batch[:100] + readings(50, seed=2), NOW)
    assert {(r.device, r.metric, r.ts) for r in again}.isdisjoint(unique)
    assert len(again) == len({(r.device, r.metric, r.ts) for r in readings(50, seed=2)} - unique)
    with transaction(factory) as db:
        days = store.partition_days(db)
        assert len(days) in (3, 4)
        total = sum(
            db.scalar(text(f"SELECT count(*) FROM {store.partition_name(d)}")) or 0 for d in days
        )
    assert total == len(unique) + len(again)


def _raw_union(db: Session) -> str:
    return " UNION ALL ".join(
        f"SELECT device, metric, ts, value FROM {store.partition_name(d)}"
        for d in store.partition_days(db)
    )


def test_rollups_equal_sql_over_the_raw_rows(factory: sessionmaker[Session]) -> None:
    # In several batches, out of order, with repeats: the incremental roll-ups must agree.
    batch = readings(4_000, seed=3)
    with transaction(factory) as db:
        for start in range(0, len(batch), 700):
            store.write(db, batch[start : start + 700] + batch[:50], NOW)
    with transaction(factory) as db:
        raw = _raw_union(db)
        for name, (width, table) in store.ROLLUPS.items():
            offset = store.OFFSETS.get(name, 0)
            expected = {
                (d, m, b): (n, round(total, 6), low, high)
                for d, m, b, n, total, low, high in db.execute(
                    text(
                        f"SELECT device, metric, ts - (ts + {offset}) % {width} AS b, count(*),"
                        " sum(value),"
                        f" min(value), max(value) FROM ({raw}) r GROUP BY device, metric, b"
                    )
                )
            }
            got = {
                (r.device, r.metric, r.bucket): (r.n, round(r.total, 6), r.low, r.high)
                for r in db.execute(select(table))
            }
            assert got == expected, name
            for r in db.execute(select(table)):
                last = db.execute(
                    text(
                        f"SELECT ts, value FROM ({raw}) r WHERE device = :d AND metric = :m"
                        f" AND ts >= :b AND ts < :e ORDER BY ts DESC LIMIT 1"
                    ),
                    {"d": r.device, "m": r.metric, "b": r.bucket, "e": r.bucket + width},
                ).one()
                assert (r.last_at, r.last_value) == tuple(last)


def test_a_day_is_qingdaos_day_from_local_midnight(factory: sessionmaker[Session]) -> None:
    # 23:30 and 00:30 in Qingdao are 15:30 and 16:30 UTC: two days to a person, one in UTC.
    before = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)
    after = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)
    with transaction(factory) as db:
        store.write(
            db, [Reading("D1", before, "smoke", 1.0), Reading("D1", after, "smoke", 3.0)], NOW
        )
    with transaction(factory) as db:
        daily = store.series(db, "D1", "smoke", before - timedelta(days=1), NOW, "day")
    local = [(at.astimezone(SHANGHAI).isoformat(), value) for at, value in daily]
    assert local == [("2026-12-05T00:00:00+08:00", 1.0), ("2026-12-06T00:00:00+08:00", 3.0)]


def test_latest_series_and_rejections(factory: sessionmaker[Session]) -> None:
    t0 = NOW - timedelta(hours=2)
    batch = [Reading("D1", t0 + timedelta(minutes=i), "smoke", float(i)) for i in range(90)]
    with transaction(factory) as db:
        store.write(db, batch, NOW)
        store.write(db, [Reading("D1", t0, "temperature", 21.5)], NOW)
        store.count_rejections(db, {"malformed": 2, "unknown_device": 1}, NOW.date())
        store.count_rejections(db, {"malformed": 3}, NOW.date())
    with transaction(factory) as db:
        last = store.latest(db, ["D1", "D9"])
        assert set(last) == {"D1"}
        assert last["D1"].ts == t0 + timedelta(minutes=89)
        assert last["D1"].values == {"smoke": 89.0, "temperature": 21.5}
        raw = store.series(db, "D1", "smoke", t0, NOW)
        assert raw == [(r.ts, r.value) for r in batch]
        hourly = store.series(db, "D1", "smoke", t0, NOW, "hour")
        assert [v for _, v in hourly] == [14.5, 59.5]  # 06:30–06:59 and 07:00–07:59
        assert store.series(db, "D1", "smoke", NOW - timedelta(days=30), NOW)[0][1] == 14.5
        assert store.rejection_counts(db) == {"malformed": 5, "unknown_device": 1}
        assert store.rejection_counts(db, NOW + timedelta(days=1)) == {}


def test_retention_drops_old_day_tables_and_rollups(factory: sessionmaker[Session]) -> None:
    policy = retention.Retention(raw_days=2, minute_days=3, hour_days=10, day_days=100)
    old = [Reading("D1", NOW - timedelta(days=d), "smoke", 1.0) for d in range(6)]
    with transaction(factory) as db:
        store.write(db, old, NOW)
        assert len(store.partition_days(db)) == 6
    with transaction(factory) as db:
        applied = retention.apply(db, policy, NOW)
    assert len(applied.dropped) == 4 and applied.minute_rows == 3 and applied.hour_rows == 0
    with transaction(factory) as db:
        assert store.partition_days(db) == [NOW.date() - timedelta(days=1), NOW.date()]
        tables = set(inspect(db.connection()).get_table_names())
        assert {n for n in tables if n.startswith("monitor_readings_")} == {
            store.partition_name(d) for d in store.partition_days(db)
        }
        assert db.scalar(select(Partition.table_name).where(Partition.day == NOW.date()))
        # A new reading of a dropped day is refused at ingest; a recent one still stored.
        assert policy.oldest_raw(NOW) == datetime(2026, 12, 6, tzinfo=UTC)
        assert len(store.write(db, [Reading("D2", NOW, "smoke", 2.0)], NOW)) == 1

"""The alarm engine's speed: readings/s through ``alarms.engine.evaluate`` with the city's full
rule set over a directory of 10,000 devices, and the time from a triggering reading's arrival
in ``evaluate`` to its alarm committed.

    .venv/bin/python bench/bench_alarms.py [--devices 10000] [--messages 200000] [--batch 200]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A migrated scratch database (SQLite in a temporary folder by default). The stream is every
device reporting its metrics at normal values (one message = every metric of one device, as an
MQTT payload carries them), in batches of ``--batch`` messages, each batch one transaction as
the consumer runs it (evaluate, then commit). Phase 1 warms the cache (every condition key read
once, every device's first heartbeat written) and is reported apart; phase 2 is the steady
state. Then 200 single triggering readings (a smoke detector over 4 %obs/m, each on a device
not alarmed yet), each inside a normal batch: the time from entering ``evaluate`` to the
commit returning, p50 and p99. Prints the machine and the figures.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_merkle import machine, peak_rss_mib

from shuhui.core.content import DEFAULT_DIR
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.migrate import upgrade
from shuhui.monitor.alarms.engine import Engine
from shuhui.monitor.alarms.models import Alarm
from shuhui.monitor.alarms.rules import load_rules, load_units
from shuhui.monitor.devices import Device, Directory, sensor_types
from shuhui.monitor.readings import Reading

NORMAL = {
    "smoke": 0.3,
    "temperature": 22.0,
    "water_pressure": 0.35,
    "tilt": 0.02,
    "strain": 120.0,
    "humidity": 55.0,
    "wind_speed": 3.0,
    "gas_lel": 0.5,
    "pressure": 0.8,
    "level": 60.0,
}
MIX = [
    ("smoke-detector", 0.45),
    ("fire-water-pressure", 0.08),
    ("structure-monitor", 0.07),
    ("forest-station", 0.1),
    ("gas-detector", 0.22),
    ("tank-monitor", 0.08),
]


def directory(n: int, seed: int) -> Directory:
    types = sensor_types(DEFAULT_DIR, "qingdao")
    rng = random.Random(seed)
    devices = []
    for i in range(n):
        code = rng.choices([t for t, _ in MIX], [w for _, w in MIX])[0]
        site = f"SITE-370211-{i // 12:04d}"
        lon = 120.0 + (i // 12) % 100 * 0.01 + rng.random() * 0.001
        lat = 36.0 + (i // 1200) * 0.01 + rng.random() * 0.001
        devices.append(Device(f"SNS-370211-{i:06d}", types[code], site, "370211", lon, lat))
    return Directory.of(devices, types)


def messages(d: Directory, count: int, start: datetime, seed: int) -> list[list[Reading]]:
    rng = random.Random(seed)
    ids = list(d.devices)
    out = []
    for i in range(count):
        device = d.devices[ids[i % len(ids)]]
        ts = start + timedelta(seconds=i // len(ids) * 60, microseconds=i % 1000)
        out.append(
            [
                Reading(device.id, ts, m, NORMAL[m] * (0.9 + 0.2 * rng.random()))
                for m in device.sensor_type.metrics
            ]
        )
    return out


def run(url: str, args: argparse.Namespace) -> None:
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    d = directory(args.devices, args.seed)
    types = sensor_types(DEFAULT_DIR, "qingdao")
    alarms = Engine(load_rules(DEFAULT_DIR, "qingdao", types), load_units(DEFAULT_DIR, "qingdao"))
    start = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    stream = messages(d, args.messages, start, args.seed)
    warm, steady = stream[: args.devices], stream[args.devices :]

    def through(batches: list[list[Reading]]) -> tuple[float, int]:
        readings = 0
        began = time.perf_counter()
        for i in range(0, len(batches), args.batch):
            batch = [r for m in batches[i : i + args.batch] for r in m]
            readings += len(batch)
            with transaction(factory) as db:
                alarms.evaluate(db, d, batch, batch[-1].ts)
        return time.perf_counter() - began, readings

    spent, n = through(warm)
    print(
        f"warm-up ({len(warm):,} messages, {n:,} readings): {spent:6.2f} s  "
        f"{n / spent:>9,.0f} readings/s"
    )
    spent, n = through(steady)
    msgs = len(steady)
    print(
        f"steady ({msgs:,} messages, {n:,} readings, batches of {args.batch}): {spent:6.2f} s  "
        f"{n / spent:>9,.0f} readings/s  {msgs / spent:>9,.0f} messages/s"
    )
    # Evaluate alone (no commit), the steady stream again one hour later: the engine's own cost.
    later = [
        [Reading(r.device, r.ts + timedelta(hours=1), r.metric, r.value) for r in m] for m in steady
    ]
    began = time.perf_counter()
    with factory() as db:
        for i in range(0, len(later), args.batch):
            batch = [r for m in later[i : i + args.batch] for r in m]
            alarms.evaluate(db, d, batch, batch[-1].ts)
        db.rollback()
    spent = time.perf_counter() - began
    print(f"evaluate alone, no transaction per batch: {n / spent:>9,.0f} readings/s")

    smokes = [x for x in d.devices.values() if x.sensor_type.code == "smoke-detector"]
    rng = random.Random(args.seed)
    chosen = rng.sample(smokes, 200)
    base = stream[-1][0].ts + timedelta(hours=2)
    filler = stream[: args.batch - 1]
    samples = []
    for k, device in enumerate(chosen):
        at = base + timedelta(seconds=k)
        batch = [Reading(r.device, at, r.metric, r.value) for m in filler for r in m]
        batch.append(Reading(device.id, at, "smoke", 6.0))
        began = time.perf_counter_ns()
        with transaction(factory) as db:
            alarms.evaluate(db, d, batch, at)
        samples.append(time.perf_counter_ns() - began)
    with factory() as db:
        raised = int(
            db.scalar(select(func.count()).select_from(Alarm).where(Alarm.rule == "hr-smoke")) or 0
        )
    ms = sorted(s / 1e6 for s in samples)
    print(
        f"triggering reading → alarm committed (in a batch of {args.batch} messages): "
        f"p50 {ms[len(ms) // 2]:.1f} ms  p99 {ms[int(len(ms) * 0.99) - 1]:.1f} ms  "
        f"max {ms[-1]:.1f} ms "
        f"({raised} alarms raised of {len(chosen)})"
    )
    print(f"peak RSS {peak_rss_mib():.0f} MiB")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--postgres", help="a server URL; a scratch database is made and dropped")
    args = parser.parse_args()
    for line in machine():
        print(line)
    folder = Path(tempfile.mkdtemp(prefix="bench-alarms-"))
    scratch = None
    try:
        if args.postgres:
            scratch = f"bench_alarms_{int(time.time())}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{scratch}"'))
            url = args.postgres.rsplit("/", 1)[0] + f"/{scratch}"
        else:
            url = f"sqlite:///{folder / 'shuhui.db'}"
        print(f"database: {url.split('://')[0]}, {args.devices:,} devices\n")
        run(url, args)
    finally:
        if scratch is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE "{scratch}" WITH (FORCE)'))
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

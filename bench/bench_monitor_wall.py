"""The monitoring wall and a sensor's 30-day chart over a month of 10,000 sensors.

    .venv/bin/python bench/bench_monitor_wall.py [--devices 10000] [--days 30] [--requests 200]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

A migrated scratch database (SQLite in a temporary folder by default) holding what a month of
the sensors leaves: the hour roll-ups of every device's every metric for ``--days`` days
(written straight into telemetry's hour table in bulk — the fastest faithful way: the rows
``store.write`` would have kept, without the month of raw readings retention drops anyway),
each device's latest values (one reading per device through ``store.write``, so the
``monitor_latest`` rows are telemetry's own), and 300 open alarms raised by the alarm engine.
Then, through the app (FastAPI's TestClient, logged in as the monitoring centre's ``duty``):
the wall snapshot ``GET /api/v1/monitor/wall``, the same with every device as a point, the
wall page ``/monitor``, a random sensor's 30-day series ``GET
/api/v1/monitor/devices/{id}/series`` and its page ``/monitor/devices/{id}``: p50 and p99 over
``--requests`` requests each. Prints the machine and the figures.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_alarms import NORMAL
from bench_alarms import directory as bench_directory
from bench_merkle import machine, peak_rss_mib
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from shuhui.core.content import DEFAULT_DIR
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.migrate import upgrade
from shuhui.core.settings import Settings
from shuhui.monitor.alarms.engine import Engine
from shuhui.monitor.alarms.rules import load_rules, load_units
from shuhui.monitor.devices import Directory, sensor_types
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry import store
from shuhui.monitor.telemetry.models import HourRollup
from shuhui.monitor.telemetry.service import DirectoryCache
from shuhui.trust.identity.demo import DEMO_PASSWORD, demo_accounts, ensure_demo_accounts
from shuhui.web.app import create_app


def fill(url: str, d: Directory, days: int, now: datetime) -> int:
    """The month of hour roll-ups, the latest values, 300 alarms. Returns the roll-up rows."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    hour_us = store.HOUR_US
    end = store.micros(now) - store.micros(now) % hour_us
    buckets = [end - k * hour_us for k in range(days * 24, 0, -1)]
    table = HourRollup.__table__
    rows = 0
    batch: list[dict[str, object]] = []
    with engine.begin() as connection:
        for device in d.devices.values():
            for metric in device.sensor_type.metrics:
                base = NORMAL[metric]
                for bucket in buckets:
                    v = base * (1 + 0.05 * ((bucket // hour_us) % 24 - 12) / 12)
                    batch.append(
                        {
                            "device": device.id,
                            "metric": metric,
                            "bucket": bucket,
                            "n": 60,
                            "total": v * 60,
                            "low": v * 0.98,
                            "high": v * 1.02,
                            "last_at": bucket + hour_us - 1,
                            "last_value": v,
                        }
                    )
                if len(batch) >= 50_000:
                    connection.execute(table.insert(), batch)
                    rows += len(batch)
                    batch = []
        if batch:
            connection.execute(table.insert(), batch)
            rows += len(batch)
    readings = [
        Reading(dev.id, now - timedelta(seconds=random.random() * 60), m, NORMAL[m])
        for dev in d.devices.values()
        for m in dev.sensor_type.metrics
    ]
    with transaction(factory) as db:
        store.write(db, readings, now)
    types = sensor_types(DEFAULT_DIR, "qingdao")
    alarms = Engine(load_rules(DEFAULT_DIR, "qingdao", types), load_units(DEFAULT_DIR, "qingdao"))
    smoke = [dev for dev in d.devices.values() if dev.sensor_type.code == "smoke-detector"][:300]
    with transaction(factory) as db:
        alarms.evaluate(db, d, [Reading(s.id, now, "smoke", 8.0) for s in smoke], now)
    engine.dispose()
    return rows


def log_in(client: TestClient, username: str) -> None:
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    client.headers["x-csrf-token"] = answer.headers["x-csrf-token"]


def timed(client: TestClient, paths: list[str]) -> tuple[float, float, int]:
    spent: list[float] = []
    size = 0
    for path in paths:
        t = time.perf_counter()
        answer = client.get(path)
        spent.append((time.perf_counter() - t) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        size = len(answer.content)
    spent.sort()
    return spent[len(spent) // 2], spent[min(len(spent) - 1, int(len(spent) * 0.99))], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default=None)
    args = parser.parse_args()
    for line in machine():
        print(line)
    folder = Path(tempfile.mkdtemp(prefix="bench-wall-"))
    try:
        if args.postgres:
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text("DROP DATABASE IF EXISTS bench_wall"))
                c.execute(text("CREATE DATABASE bench_wall"))
            admin.dispose()
            url = args.postgres.rsplit("/", 1)[0] + "/bench_wall"
        else:
            url = f"sqlite:///{folder / 'shuhui.db'}"
        upgrade(url)
        settings = Settings(
            data_dir=folder / "var",
            database_url=url,
            secret_key="bench",
            cookie_secure=False,  # TestClient speaks plain http
            log_level="WARNING",
        )
        engine = make_engine(url)
        with transaction(make_session_factory(engine)) as db:
            ensure_demo_accounts(db, demo_accounts(settings.city_content))
        engine.dispose()
        d = bench_directory(args.devices, 7)
        now = datetime.now(UTC)
        t = time.perf_counter()
        rows = fill(url, d, args.days, now)
        print(
            f"database: {url.split('://')[0]}, {args.devices:,} devices, {args.days} days: "
            f"{rows:,} hour roll-ups written in {time.perf_counter() - t:.0f} s\n"
        )
        app = create_app(settings)
        app.state.monitor_directory = DirectoryCache(lambda: d, ttl=1e9)
        rng = random.Random(3)
        ids = sorted(d.devices)
        with TestClient(app) as client:
            log_in(client, "duty")
            client.get("/api/v1/monitor/wall?points=true")  # the places made once per directory
            charts = []
            pages = []
            for _ in range(args.requests):
                dev = d.devices[rng.choice(ids)]
                metric = next(iter(dev.sensor_type.metrics))
                charts.append(f"/api/v1/monitor/devices/{dev.id}/series?metric={metric}")
                pages.append(f"/monitor/devices/{dev.id}")
            cases = {
                "wall snapshot  GET /api/v1/monitor/wall": ["/api/v1/monitor/wall"] * args.requests,
                "wall + points  GET /api/v1/monitor/wall?points=true": [
                    "/api/v1/monitor/wall?points=true"
                ]
                * args.requests,
                "wall page      GET /monitor": ["/monitor"] * args.requests,
                "30-day chart   GET /api/v1/monitor/devices/{id}/series": charts,
                "device page    GET /monitor/devices/{id}": pages,
            }
            for name, paths in cases.items():
                p50, p99, size = timed(client, paths)
                print(f"{name:<58} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  ({size / 1024:,.0f} KiB)")
        print(f"\npeak RSS {peak_rss_mib():.0f} MiB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: sustained MQTT ingest, a bare paho subscriber against the telemetry consumer.

    .venv/bin/python bench/bench_mqtt_ingest.py [--messages 200000] [--devices 10000]
        [--chart-devices 1000]

In one run, on one private Mosquitto (a free port, the configuration the demo uses):

1. **bare**: a paho 2 subscriber (QoS 0) that only counts, while a paho publisher process sends
   --messages QoS 0 messages as fast as it can (smoke detectors: two metrics a message, every
   message at its own time, over --devices devices); its rate is messages received over the time
   from the first to the last;
2. **consumer**: ``shuhui.monitor.telemetry.consumer.Consumer`` on a fresh SQLite database,
   subscribing at QoS 0, with a trivial evaluator standing for the alarm rules (it counts the
   readings it is given), the same publisher again; its rate is messages stored (committed)
   over the time from the first message received to the last commit;
3. **chart**: a device's 30-day chart (``service.chart``: the hour roll-ups of each metric)
   over hour roll-ups of --chart-devices devices × 2 metrics × 30 days, median and p99 of 200.

Prints the machine, the rates, their ratio (target ≥ 80 %) and the chart times (< 200 ms).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def directory(devices: int):  # type: ignore[no-untyped-def]
    from shuhui.core.content import DEFAULT_DIR
    from shuhui.monitor.devices import Device, Directory, sensor_types

    types = sensor_types(DEFAULT_DIR, "qingdao")
    smoke = types["smoke-detector"]
    return Directory.of(
        (
            Device(f"SNS-370202-{i:06d}", smoke, "SITE-1", "370202", 120.3, 36.0)
            for i in range(devices)
        ),
        types,
    )


def payloads(count: int, devices: int) -> list[tuple[str, bytes]]:
    base = datetime.now(UTC) - timedelta(hours=3)
    rng = random.Random(7)
    out = []
    for i in range(count):
        ts = (base + timedelta(microseconds=i * 50)).isoformat()
        body = {"ts": ts, "values": {"smoke": round(rng.uniform(0, 5), 2), "temperature": 21.5}}
        out.append((f"shuhui/SNS-370202-{i % devices:06d}/telemetry", json.dumps(body).encode()))
    return out


def publisher(port: int, count: int, devices: int, ready: mp.Event, go: mp.Event) -> None:  # type: ignore[type-arg]
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    messages = payloads(count, devices)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.set()
    go.wait()
    for topic, body in messages:
        client.publish(topic, body, qos=0)
    last = client.publish("bench/done", b"", qos=1)
    last.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()


def bare(port: int, count: int, result: mp.Queue, ready: mp.Event) -> None:  # type: ignore[type-arg]
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    seen = {"n": 0, "first": 0.0, "last": 0.0}

    def on_message(_c: object, _u: object, message: object) -> None:
        now = time.perf_counter()
        if seen["n"] == 0:
            seen["first"] = now
        seen["n"] += 1
        seen["last"] = now

    def on_connect(client: mqtt.Client, *_: object) -> None:
        client.subscribe("shuhui/+/telemetry", qos=0)

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv311
    )
    client.on_message = on_message
    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    time.sleep(0.5)
    ready.set()
    idle_since = time.monotonic()
    last_n = 0
    while seen["n"] < count and time.monotonic() - idle_since < 5:
        time.sleep(0.05)
        if seen["n"] != last_n:
            last_n, idle_since = seen["n"], time.monotonic()
    client.disconnect()
    client.loop_stop()
    result.put((seen["n"], seen["last"] - seen["first"]))


def consumer(
    port: int, count: int, devices: int, url: str, result: mp.Queue, ready: mp.Event
) -> None:  # type: ignore[type-arg]
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.monitor.telemetry.consumer import Config, Consumer

    given = {"readings": 0}

    def evaluator(_db: object, _d: object, readings: list[object], _now: object) -> None:
        given["readings"] += len(readings)

    found = directory(devices)
    engine = make_engine(url)
    c = Consumer(
        make_session_factory(engine),
        lambda: found,
        Config(url=f"mqtt://127.0.0.1:{port}", client_id="bench-consumer", qos=0),
        evaluators=[evaluator],
    )
    c.start()
    time.sleep(0.5)
    ready.set()
    first = last = 0.0
    idle_since = time.monotonic()
    done = 0
    while done < count and time.monotonic() - idle_since < 10:
        time.sleep(0.01)
        now = time.perf_counter()
        if c.stats.received and not first:
            first = now
        n = c.stats.messages_stored + sum(c.stats.rejected.values())
        if n != done:
            done, last, idle_since = n, now, time.monotonic()
    c.stop()
    engine.dispose()
    result.put((c.stats.messages_stored, last - first, given["readings"], dict(c.stats.rejected)))


def run_phase(target, args: tuple, port: int, count: int, devices: int) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    ctx = mp.get_context("spawn")
    result: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    ready, pub_ready, go = ctx.Event(), ctx.Event(), ctx.Event()
    sub = ctx.Process(target=target, args=(*args, result, ready))
    pub = ctx.Process(target=publisher, args=(port, count, devices, pub_ready, go))
    sub.start()
    pub.start()
    ready.wait(120)
    pub_ready.wait(300)
    go.set()
    pub.join()
    out = result.get(timeout=600)
    sub.join()
    return out  # type: ignore[no-any-return]


def chart_times(url: str, devices: int) -> tuple[float, float, int]:
    from sqlalchemy import text

    from shuhui.core.db import make_engine, make_session_factory, transaction
    from shuhui.monitor.telemetry import service, store

    engine = make_engine(url)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    first_hour = (
        store.micros(now.replace(minute=0, second=0, microsecond=0)) - 30 * 24 * store.HOUR_US
    )
    with transaction(factory) as db:
        con = db.connection()
        rows = []
        for d in range(devices):
            for metric in ("smoke", "temperature"):
                for h in range(30 * 24 + 1):
                    b = first_hour + h * store.HOUR_US
                    rows.append((f"SNS-370202-{d:06d}", metric, b, 60, 60.0, 0.5, 1.5, b, 1.0))
            if len(rows) > 100_000:
                con.exec_driver_sql(
                    "INSERT OR IGNORE INTO monitor_rollup_hour VALUES (?,?,?,?,?,?,?,?,?)", rows
                )
                rows = []
        if rows:
            con.exec_driver_sql(
                "INSERT OR IGNORE INTO monitor_rollup_hour VALUES (?,?,?,?,?,?,?,?,?)", rows
            )
        total = db.scalar(text("SELECT count(*) FROM monitor_rollup_hour")) or 0
    found = directory(devices)
    times = []
    rng = random.Random(1)
    for _ in range(200):
        device = found.devices[f"SNS-370202-{rng.randrange(devices):06d}"]
        t = time.perf_counter()
        with transaction(factory) as db:
            chart = service.chart(db, device, now)
        times.append((time.perf_counter() - t) * 1000)
        assert len(chart["metrics"][0]["points"]) >= 720
    engine.dispose()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], int(total)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--chart-devices", type=int, default=1_000)
    args = parser.parse_args()

    from shuhui.core.migrate import upgrade
    from shuhui.monitor.telemetry import broker

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {datetime.now():%Y-%m-%d}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        started = broker.start(Path(tmp) / "mosquitto", broker.free_port(), persist=False)
        try:
            n, seconds = run_phase(
                bare, (started.port, args.messages), started.port, args.messages, args.devices
            )
            bare_rate = n / seconds if seconds else 0.0
            print(
                f"bare paho subscriber: {n:,} of {args.messages:,} messages in {seconds:.2f} s"
                f" = {bare_rate:,.0f} msg/s"
            )
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            stored, seconds, given, rejected = run_phase(
                consumer,
                (started.port, args.messages, args.devices, url),
                started.port,
                args.messages,
                args.devices,
            )
            rate = stored / seconds if seconds else 0.0
            print(
                f"consumer (SQLite, evaluator hook): {stored:,} messages stored ({given:,} "
                f"readings "
                f"evaluated, rejected {rejected}) in {seconds:.2f} s = {rate:,.0f} msg/s"
            )
            print(
                f"ratio: {rate / bare_rate:.0%} of bare (target >= 80 %)"
                if bare_rate
                else "no bare rate"
            )
        finally:
            started.stop()
        median, p99, rows = chart_times(f"sqlite:///{tmp}/bench.db", args.chart_devices)
        print(
            f"30-day chart (hour roll-ups, {rows:,} rows): median {median:.1f} ms, p99 {p99:.1f} ms"
        )


if __name__ == "__main__":
    main()

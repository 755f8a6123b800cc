"""Benchmark: sustained MQTT ingest with the alarm rules on, against a bare paho subscriber.

    .venv/bin/python bench/bench_mqtt_ingest.py [--messages 200000] [--devices 10000]
        [--chart-devices 1000] [--batch-size 10000] [--batch-ms 100]

In one run, on one private Mosquitto (a free port, the configuration the demo uses), a paho
publisher process sends --messages QoS 0 messages as fast as it can, once to each of:

1. **bare**: a paho 2 subscriber (QoS 0) that only counts; its rate is messages received over
   the time from the first to the last;
2. **consumer**: ``shuhui.monitor.telemetry.consumer.Consumer`` (its receiving process and its
   storing process) on a fresh SQLite database, subscribing at QoS 0, with the city's full alarm
   rule set as evaluator and ticker (``alarms.engine``, 20 rules) over a directory of
   --devices devices of the six sensor types (``bench_alarms.directory``); its rate is messages
   stored (committed) over the time from the first message received to the last commit;
3. **bare** again (the machine is shared: the anchor is taken before and after, the higher one
   counts);
4. **chart**: a device's 30-day chart (``service.chart``: the hour roll-ups of each metric)
   over hour roll-ups of --chart-devices devices × 2 metrics × 30 days, median and p99 of 200.

Each message carries every metric of its device at a quiet value (±0.5 %), device after device,
each round of the devices 10 s of sensor time after the one before (so rate rules see their
normal gaps, and no rule fires). Prints the machine, the rates, their ratio (target ≥ 80 %),
where the storing process's time went (parse, store, evaluate, commit), the CPU seconds of
each process, and the chart times (< 200 ms).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SEED = 2026


def mixed_directory(devices: int):  # type: ignore[no-untyped-def]
    from bench_alarms import directory

    return directory(devices, SEED)


def smoke_directory(devices: int):  # type: ignore[no-untyped-def]
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


def payloads(count: int, devices: int, start: datetime) -> list[tuple[str, bytes]]:
    """Quiet messages of every device in turn, a round every 10 s of sensor time."""
    from bench_alarms import NORMAL

    found = mixed_directory(devices)
    ids = list(found.devices)
    rng = random.Random(SEED)
    out = []
    for i in range(count):
        device = found.devices[ids[i % len(ids)]]
        ts = (
            start + timedelta(seconds=10 * (i // len(ids)), microseconds=i % len(ids))
        ).isoformat()
        values = {
            m: round(NORMAL[m] * (0.995 + 0.01 * rng.random()), 4)
            for m in device.sensor_type.metrics
        }
        out.append((f"shuhui/{device.id}/telemetry", json.dumps({"ts": ts, "values": values})))
    return [(t, b.encode()) for t, b in out]


def publisher(
    port: int,
    count: int,
    devices: int,
    ready: Any,
    go: Any,
    result: Any,
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    # The last round is at most ~4 minutes ahead of now (5 are tolerated).
    rounds = max(1, count // devices)
    start = datetime.now(UTC) - timedelta(seconds=10 * rounds) + timedelta(minutes=4)
    messages = payloads(count, devices, start)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", port)
    client.loop_start()
    ready.set()
    go.wait()
    cpu = time.process_time()
    for topic, body in messages:
        client.publish(topic, body, qos=0)
    last = client.publish("bench/done", b"", qos=1)
    last.wait_for_publish(120)
    client.disconnect()
    client.loop_stop()
    result.put(time.process_time() - cpu)


def bare(port: int, count: int, result: Any, ready: Any) -> None:
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
    cpu = time.process_time()
    idle_since = time.monotonic()
    last_n = 0
    # Idle for 5 s once messages flow (up to 300 s before the first: the publisher prepares).
    while seen["n"] < count and time.monotonic() - idle_since < (5 if seen["n"] else 300):
        time.sleep(0.05)
        if seen["n"] != last_n:
            last_n, idle_since = seen["n"], time.monotonic()
    client.disconnect()
    client.loop_stop()
    result.put(
        {
            "n": seen["n"],
            "seconds": seen["last"] - seen["first"],
            "cpu": {"bare subscriber": time.process_time() - cpu},
        }
    )


def rules_engine():  # type: ignore[no-untyped-def]
    from shuhui.core.content import DEFAULT_DIR
    from shuhui.monitor.alarms.engine import Engine
    from shuhui.monitor.alarms.rules import load_rules, load_units
    from shuhui.monitor.devices import sensor_types

    types = sensor_types(DEFAULT_DIR, "qingdao")
    return Engine(load_rules(DEFAULT_DIR, "qingdao", types), load_units(DEFAULT_DIR, "qingdao"))


def consumer(
    port: int,
    count: int,
    devices: int,
    url: str,
    batch: tuple[int, int],
    rules: bool,
    result: Any,
    ready: Any,
) -> None:
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.monitor.telemetry.consumer import Config, Consumer

    found = mixed_directory(devices)
    given = {"readings": 0}

    def hook(_db: object, _d: object, readings: list[object], _now: object) -> None:
        given["readings"] += len(readings)

    alarms = rules_engine() if rules else None
    engine = make_engine(url)
    c = Consumer(
        make_session_factory(engine),
        lambda: found,
        Config(
            url=f"mqtt://127.0.0.1:{port}",
            client_id="bench-consumer",
            qos=0,
            batch_size=batch[0],
            batch_ms=batch[1],
        ),
        evaluators=[alarms.evaluate] if alarms else [hook],  # type: ignore[list-item]
        tickers=[alarms.tick] if alarms else [],
    )
    c.start()
    while not c.stats.connected:
        time.sleep(0.05)
    time.sleep(0.5)
    ready.set()
    cpu = time.process_time()
    first = last = 0.0
    idle_since = time.monotonic()
    done = 0
    while done < count and time.monotonic() - idle_since < (10 if c.stats.received else 300):
        time.sleep(0.01)
        now = time.perf_counter()
        if c.stats.received and not first:
            first = now
        n = c.stats.messages_stored + sum(c.stats.rejected.values())
        if n != done:
            done, last, idle_since = n, now, time.monotonic()
    worker_cpu = time.process_time() - cpu
    c.stop()
    engine.dispose()
    result.put(
        {
            "n": c.stats.messages_stored,
            "seconds": last - first,
            "readings": c.stats.readings_stored,
            "rejected": dict(c.stats.rejected),
            "batches": c.stats.batches,
            "stages": dict(c.stats.seconds),
            "cpu": {"storing process": worker_cpu, "receiving process": c.stats.receiver_cpu},
        }
    )


def run_phase(target, args: tuple, port: int, count: int, devices: int) -> dict[str, Any]:  # type: ignore[no-untyped-def, type-arg]
    ctx = mp.get_context("spawn")
    result: Any = ctx.Queue()
    published: Any = ctx.Queue()
    ready, pub_ready, go = ctx.Event(), ctx.Event(), ctx.Event()
    sub = ctx.Process(target=target, args=(*args, result, ready))
    pub = ctx.Process(target=publisher, args=(port, count, devices, pub_ready, go, published))
    sub.start()
    pub.start()
    ready.wait(120)
    pub_ready.wait(300)
    go.set()
    publisher_cpu = published.get(timeout=600)
    pub.join()
    out: dict[str, Any] = result.get(timeout=900)
    sub.join()
    out["cpu"]["publisher"] = publisher_cpu
    return out


def broker_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    found = smoke_directory(devices)
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


def show_cpu(label: str, out: dict[str, Any], broker_seconds: float) -> None:
    cpu = {**out["cpu"], "mosquitto": broker_seconds}
    parts = ", ".join(
        f"{name} {seconds:.1f} s ({seconds / out['n'] * 1e6:.0f} µs/msg)"
        for name, seconds in cpu.items()
    )
    print(f"  CPU during {label}: {parts}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--chart-devices", type=int, default=1_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--batch-ms", type=int, default=100)
    parser.add_argument(
        "--no-rules", action="store_true", help="a counting hook instead of the alarm rules"
    )
    args = parser.parse_args()

    from bench_merkle import machine

    from shuhui.core.migrate import upgrade
    from shuhui.monitor.telemetry import broker

    for line in machine():
        print(line)
    print(f"{datetime.now():%Y-%m-%d %H:%M}, {args.messages:,} messages, {args.devices:,} devices")
    with tempfile.TemporaryDirectory() as tmp:
        started = broker.start(Path(tmp) / "mosquitto", broker.free_port(), persist=False)
        port, n = started.port, args.messages
        pid = started.process.pid
        try:
            bares = []
            for label in ("before", "after"):
                if label == "after":
                    url = f"sqlite:///{tmp}/bench.db"
                    upgrade(url)
                    cpu0 = broker_cpu(pid)
                    out = run_phase(
                        consumer,
                        (
                            port,
                            n,
                            args.devices,
                            url,
                            (args.batch_size, args.batch_ms),
                            not args.no_rules,
                        ),
                        port,
                        n,
                        args.devices,
                    )
                    rate = out["n"] / out["seconds"] if out["seconds"] else 0.0
                    rules = "a counting hook" if args.no_rules else "20 alarm rules"
                    print(
                        f"consumer (SQLite, {rules}): {out['n']:,} messages stored "
                        f"({out['readings']:,} readings, {out['batches']:,} batches, rejected "
                        f"{out['rejected']}) in {out['seconds']:.2f} s = {rate:,.0f} msg/s"
                    )
                    stages = out["stages"]
                    print(
                        "  storing process by stage: "
                        + ", ".join(
                            f"{k} {v:.1f} s ({v / max(out['n'], 1) * 1e6:.0f} µs/msg)"
                            for k, v in stages.items()
                        )
                    )
                    show_cpu("the consumer", out, broker_cpu(pid) - cpu0)
                cpu0 = broker_cpu(pid)
                b = run_phase(bare, (port, n), port, n, args.devices)
                bare_rate = b["n"] / b["seconds"] if b["seconds"] else 0.0
                bares.append(bare_rate)
                print(
                    f"bare paho subscriber ({label}): {b['n']:,} of {n:,} messages in "
                    f"{b['seconds']:.2f} s = {bare_rate:,.0f} msg/s"
                )
                show_cpu(f"bare ({label})", b, broker_cpu(pid) - cpu0)
            anchor = max(bares)
            print(
                f"ratio: {rate / anchor:.0%} of the higher bare rate (target >= 80 %)"
                if anchor
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

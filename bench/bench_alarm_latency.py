"""Benchmark: from a triggering MQTT message to its alarm committed, under sustained load.

    .venv/bin/python bench/bench_alarm_latency.py [--rate 3000] [--seconds 60] [--triggers 200]
        [--warm 15] [--devices 10000] [--batch-size 10000] [--batch-ms 100]

One private Mosquitto, a fresh migrated SQLite database, and the telemetry consumer (its
receiving and storing processes, QoS 0) with the city's full alarm rule set as evaluator and
ticker over a directory of --devices devices of the six sensor types (``bench_alarms``). Then,
side by side:

- **load**: a paho publisher process sends quiet messages (every metric of a device, ±0.5 %
  of a normal value, time = now) device after device at --rate messages/s, paced every 10 ms,
  for --seconds;
- **triggers**: another publisher process, after --warm s of load (default 15: the consumer's
  first sight of every device, which reads each rule's condition once, is over), sends
  --triggers messages spread evenly over the rest, each from a distinct smoke detector left
  out of the load, with smoke at 6 %obs/m (rule ``hr-smoke``: ≥ 4), noting the wall time
  just before each publish;
- **watch**: this process reads ``monitor_alarms`` (another connection, as the wall would)
  every 5 ms and notes when each trigger's alarm first shows — committed and visible.

The latency of a trigger is seen − published (the same machine's clock; the 5 ms poll makes
each figure at most 5 ms late). Prints p50, p99, max, the alarms seen of those sent, the alarms
raised for any other rule (false alarms from the quiet load: expected 0) and the consumer's rate.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_mqtt_ingest import SEED, mixed_directory, rules_engine  # noqa: E402

TRIGGER_SMOKE = 6.0


def split_devices(devices: int, triggers: int) -> tuple[list[str], list[str]]:
    """The load's devices and the triggering smoke detectors (kept out of the load)."""
    found = mixed_directory(devices)
    smokes = [d.id for d in found.devices.values() if d.sensor_type.code == "smoke-detector"]
    chosen = random.Random(SEED).sample(smokes, triggers)
    left_out = set(chosen)
    return [d for d in found.devices if d not in left_out], chosen


def load(port: int, devices: int, triggers: int, rate: int, seconds: float, go: Any) -> None:
    import paho.mqtt.client as mqtt
    from bench_alarms import NORMAL
    from paho.mqtt.enums import CallbackAPIVersion

    found = mixed_directory(devices)
    ids, _ = split_devices(devices, triggers)
    metrics = {d: tuple(found.devices[d].sensor_type.metrics) for d in ids}
    rng = random.Random(SEED)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", port)
    client.loop_start()
    go.wait()
    began = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - began) < seconds:
        due = int(elapsed * rate)
        if sent >= due:
            time.sleep(0.01)
            continue
        ts = datetime.now(UTC).isoformat()
        for _ in range(due - sent):
            device = ids[sent % len(ids)]
            values = {
                m: round(NORMAL[m] * (0.995 + 0.01 * rng.random()), 4) for m in metrics[device]
            }
            body = json.dumps({"ts": ts, "values": values}).encode()
            client.publish(f"shuhui/{device}/telemetry", body, qos=0)
            sent += 1
    client.disconnect()
    client.loop_stop()


def fire(
    port: int, devices: int, triggers: int, seconds: float, warm: float, go: Any, result: Any
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    _, chosen = split_devices(devices, triggers)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
    client.connect("127.0.0.1", port)
    client.loop_start()
    go.wait()
    time.sleep(warm)
    every = (seconds - warm - 1.0) / triggers
    began = time.monotonic()
    sent: dict[str, float] = {}
    for k, device in enumerate(chosen):
        time.sleep(max(0.0, began + k * every - time.monotonic()))
        body = json.dumps(
            {"ts": datetime.now(UTC).isoformat(), "values": {"smoke": TRIGGER_SMOKE}}
        ).encode()
        sent[device] = time.time()
        client.publish(f"shuhui/{device}/telemetry", body, qos=0)
    client.disconnect()
    client.loop_stop()
    result.put(sent)


def consume(
    port: int, devices: int, url: str, batch: tuple[int, int], ready: Any, stop: Any, result: Any
) -> None:
    from shuhui.core.db import make_engine, make_session_factory
    from shuhui.monitor.telemetry.consumer import Config, Consumer

    found = mixed_directory(devices)
    alarms = rules_engine()
    engine = make_engine(url)
    c = Consumer(
        make_session_factory(engine),
        lambda: found,
        Config(
            url=f"mqtt://127.0.0.1:{port}",
            client_id="bench-latency",
            qos=0,
            batch_size=batch[0],
            batch_ms=batch[1],
        ),
        evaluators=[alarms.evaluate],
        tickers=[alarms.tick],
    )
    c.start()
    while not c.stats.connected:
        time.sleep(0.05)
    time.sleep(0.5)
    ready.set()
    stop.wait()
    c.stop()
    engine.dispose()
    out = c.stats.as_json()
    out["ticks"] = c.stats.ticks
    result.put(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=3_000, help="load, messages/s")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--triggers", type=int, default=200)
    parser.add_argument(
        "--warm", type=float, default=15.0, help="seconds of load before the first trigger"
    )
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--batch-ms", type=int, default=100)
    args = parser.parse_args()

    from bench_merkle import machine

    from shuhui.core.db import make_engine
    from shuhui.core.migrate import upgrade
    from shuhui.monitor.telemetry import broker

    for line in machine():
        print(line)
    print(
        f"{datetime.now():%Y-%m-%d %H:%M}: load {args.rate:,} msg/s for {args.seconds:.0f} s over "
        f"{args.devices:,} devices, {args.triggers} triggers"
    )
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        started = broker.start(Path(tmp) / "mosquitto", broker.free_port(), persist=False)
        port = started.port
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        ready, stop, go = ctx.Event(), ctx.Event(), ctx.Event()
        stats: Any = ctx.Queue()
        sent_q: Any = ctx.Queue()
        consumer = ctx.Process(
            target=consume,
            args=(port, args.devices, url, (args.batch_size, args.batch_ms), ready, stop, stats),
        )
        loader = ctx.Process(
            target=load,
            args=(port, args.devices, args.triggers, args.rate, args.seconds, go),
        )
        firer = ctx.Process(
            target=fire,
            args=(port, args.devices, args.triggers, args.seconds, args.warm, go, sent_q),
        )
        try:
            consumer.start()
            loader.start()
            firer.start()
            ready.wait(180)
            time.sleep(2.0)  # the publishers connected and their payload code imported
            watcher = make_engine(url)
            seen: dict[str, float] = {}
            others = 0
            go.set()
            deadline = time.monotonic() + args.seconds + 10
            with watcher.connect() as con:
                while time.monotonic() < deadline:
                    rows = con.exec_driver_sql("SELECT rule, source FROM monitor_alarms").all()
                    now = time.time()
                    con.commit()
                    others = 0
                    for rule, source in rows:
                        if rule == "hr-smoke":
                            seen.setdefault(source, now)
                        else:
                            others += 1
                    if len(seen) >= args.triggers:
                        break
                    time.sleep(0.005)
            sent: dict[str, float] = sent_q.get(timeout=120)
            loader.join()
            firer.join()
            time.sleep(1.0)
            stop.set()
            consumer_stats = stats.get(timeout=120)
            consumer.join()
            watcher.dispose()
        finally:
            for p in (consumer, loader, firer):
                if p.is_alive():
                    p.kill()
            started.stop()
    latencies = sorted((seen[d] - t) * 1000 for d, t in sent.items() if d in seen)
    if not latencies:
        print("no alarm seen")
        return
    p = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]  # noqa: E731
    print(
        f"trigger → alarm committed and visible: p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, "
        f"max {latencies[-1]:.0f} ms ({len(latencies)} of {len(sent)} alarms seen; "
        f"{others} alarms of other rules)"
    )
    first = min(sent.values())
    worst = sorted(((seen[d] - t) * 1000, t - first) for d, t in sent.items() if d in seen)[-5:]
    print(
        "slowest (ms, at s after the first trigger): "
        + ", ".join(f"{ms:.0f} at {at:.1f}" for ms, at in reversed(worst))
    )
    received = consumer_stats["received"]
    print(
        f"consumer: {received:,} messages received, {consumer_stats['readings_stored']:,} "
        f"readings stored in {consumer_stats['batches']:,} batches "
        f"(~{received / consumer_stats['batches']:.0f} messages a batch), rejected "
        f"{consumer_stats['rejected']}; worker seconds by stage {consumer_stats['seconds']}"
    )
    ticks = sorted(consumer_stats["ticks"])
    if ticks:
        print(
            f"ticks: {len(ticks)}, longest {ticks[-1] * 1000:.0f} ms, median "
            f"{ticks[len(ticks) // 2] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()

"""The MQTT consumer against a private Mosquitto: QoS 0 and 1 stored, bad messages counted
while it keeps running, a consumer killed mid-burst losing and doubling nothing, two consumers
of a shared subscription storing each message once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.monitor.devices import Directory
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry import store
from shuhui.monitor.telemetry.broker import Broker
from shuhui.monitor.telemetry.consumer import Config, Consumer
from shuhui.monitor.telemetry.models import MinuteRollup
from tests.monitor.broker import publish, wait_for
from tests.monitor.telemetry.conftest import small_directory

pytestmark = pytest.mark.both_backends

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def factory(migrated: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated.sqlalchemy_url)
    store.forget_partitions()
    yield make_session_factory(engine)
    engine.dispose()


def message(ts: datetime, **values: float) -> str:
    return json.dumps({"ts": ts.isoformat(), "values": values})


def stored(factory: sessionmaker[Session]) -> int:
    """Readings stored, counted by the minute roll-ups: a reading stored twice, or rolled up
    twice, would show here."""
    with transaction(factory) as db:
        return int(db.scalar(select(func.coalesce(func.sum(MinuteRollup.n), 0))) or 0)


def raw_rows(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as db:
        return sum(
            len(
                store.series(
                    db,
                    d,
                    m,
                    datetime(2000, 1, 1, tzinfo=UTC),
                    datetime(2100, 1, 1, tzinfo=UTC),
                    "raw",
                )
            )
            for d in small_directory().devices
            for m in ("smoke", "temperature", "gas_lel")
        )


class Publisher:
    def __init__(self, broker: Broker) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(1_000)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, topic: str, payload: str, qos: int) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=qos)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_readings_over_qos_0_and_1_and_rejections(
    mqtt_broker: Broker, factory: sessionmaker[Session]
) -> None:
    evaluated: list[Reading] = []

    def evaluator(db: Session, directory: Directory, readings: object, now: datetime) -> None:
        evaluated.extend(readings)  # type: ignore[arg-type]

    consumer = Consumer(
        factory,
        small_directory,
        Config(url=mqtt_broker.url, client_id="t-qos", batch_ms=20),
        evaluators=[evaluator],
    )
    consumer.start()
    try:
        assert wait_for(lambda: consumer.stats.connected)
        time.sleep(0.2)  # the subscription made
        now = datetime.now(UTC).replace(microsecond=0)
        topic = "shuhui/SNS-370202-000001/telemetry"
        publish(mqtt_broker.port, topic, message(now, smoke=1.5, temperature=21.0), qos=0)
        publish(mqtt_broker.port, topic, message(now + timedelta(seconds=1), smoke=2.5), qos=1)
        # The same message again (a device resending): stored once, evaluated once.
        publish(mqtt_broker.port, topic, message(now + timedelta(seconds=1), smoke=2.5), qos=1)
        for bad_topic, payload in (
            (topic, "{not json"),
            ("shuhui/NOBODY/telemetry", message(now, smoke=1)),
            (topic, message(now, gas_lel=1)),
            (
                topic,
                json.dumps(
                    {"ts": now.isoformat(), "values": {"smoke": 5}, "units": {"smoke": "ppm"}}
                ),
            ),
            (topic, message(now, smoke=1e9)),
            (topic, message(now + timedelta(hours=1), smoke=1)),
        ):
            publish(mqtt_broker.port, bad_topic, payload, qos=1)
        publisher = Publisher(mqtt_broker)
        publisher.send("shuhui/GAS-1/telemetry", message(now, gas_lel=7.0), 1).wait_for_publish(5)
        publisher.close()
        assert wait_for(lambda: consumer.stats.received >= 10)
        assert wait_for(lambda: stored(factory) == 4)
    finally:
        consumer.stop()
    assert consumer.stats.rejected == {
        "malformed": 1,
        "unknown_device": 1,
        "unknown_metric": 1,
        "unit_mismatch": 1,
        "value_out_of_range": 1,
        "time_out_of_range": 1,
    }
    assert sorted((r.device, r.metric, r.value) for r in evaluated) == [
        ("GAS-1", "gas_lel", 7.0),
        ("SNS-370202-000001", "smoke", 1.5),
        ("SNS-370202-000001", "smoke", 2.5),
        ("SNS-370202-000001", "temperature", 21.0),
    ]
    with transaction(factory) as db:
        assert store.rejection_counts(db) == dict(consumer.stats.rejected)
        assert store.latest(db, ["SNS-370202-000001"])["SNS-370202-000001"].values == {
            "smoke": 2.5,
            "temperature": 21.0,
        }


def start_consumer(
    url: str, broker: Broker, client_id: str, group: str = "-"
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.monitor.telemetry.consumer_process",
            url,
            broker.url,
            client_id,
            group,
            "1",
        ],
        cwd=ROOT,
        env=env,
    )


def burst(broker: Broker, start: int, count: int, base: datetime) -> None:
    """``count`` QoS 1 messages, one reading each, every one at its own time."""
    publisher = Publisher(broker)
    infos = []
    for i in range(start, start + count):
        device = f"SNS-370202-{i % 20:06d}"
        ts = base + timedelta(milliseconds=i)
        infos.append(publisher.send(f"shuhui/{device}/telemetry", message(ts, smoke=i % 100), 1))
    for info in infos:
        info.wait_for_publish(30)
    publisher.close()


def warm_up(broker: Broker, factory: sessionmaker[Session], base: datetime) -> None:
    """Until the consumer's session and subscription exist, a message may find nobody."""
    tick = 0

    def seen() -> bool:
        nonlocal tick
        tick += 1
        publish(
            broker.port,
            "shuhui/GAS-1/telemetry",
            message(base + timedelta(seconds=tick), gas_lel=1),
            qos=1,
        )
        time.sleep(0.2)
        return stored(factory) > 0

    assert wait_for(seen, timeout=30)


def test_a_consumer_killed_mid_burst_loses_and_doubles_nothing(
    mqtt_broker: Broker, factory: sessionmaker[Session], migrated: Settings
) -> None:
    base = datetime.now(UTC) - timedelta(hours=1)
    consumer = start_consumer(migrated.sqlalchemy_url, mqtt_broker, "t-crash")
    try:
        warm_up(mqtt_broker, factory, base - timedelta(minutes=5))
        warm = stored(factory)
        burst(mqtt_broker, 0, 1_000, base)
        assert wait_for(lambda: stored(factory) > warm + 100)
        consumer.send_signal(signal.SIGKILL)
        consumer.wait(10)
        burst(mqtt_broker, 1_000, 1_000, base)  # while it is down: queued by the broker
        consumer = start_consumer(migrated.sqlalchemy_url, mqtt_broker, "t-crash")
        assert wait_for(lambda: stored(factory) >= warm + 2_000, timeout=60)
        time.sleep(1.0)  # anything delivered twice has had time to arrive
        assert stored(factory) == warm + 2_000
        assert raw_rows(factory) == warm + 2_000
    finally:
        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(30) == 0


def test_two_consumers_of_a_shared_subscription_store_each_message_once(
    mqtt_broker: Broker, factory: sessionmaker[Session], migrated: Settings
) -> None:
    base = datetime.now(UTC) - timedelta(hours=2)
    consumers = [
        start_consumer(migrated.sqlalchemy_url, mqtt_broker, f"t-share-{n}", "ingest")
        for n in (1, 2)
    ]
    try:
        warm_up(mqtt_broker, factory, base - timedelta(minutes=5))
        time.sleep(1.0)  # both subscribed
        warm = stored(factory)
        burst(mqtt_broker, 0, 2_000, base)
        assert wait_for(lambda: stored(factory) >= warm + 2_000, timeout=60)
        time.sleep(1.0)
        assert stored(factory) == warm + 2_000
        assert raw_rows(factory) == warm + 2_000
    finally:
        for c in consumers:
            c.send_signal(signal.SIGTERM)
        assert [c.wait(30) for c in consumers] == [0, 0]

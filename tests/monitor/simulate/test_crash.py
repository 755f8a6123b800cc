"""Killing the consumer (SIGKILL) in the middle of a burst that crosses alarm thresholds, then
starting it again: every alarm the burst should raise is raised, and none twice — the broker
delivers again what was not acknowledged, the store keeps each reading once, the engine sees
only readings newly stored, and the database holds one open alarm per rule and source."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.db import make_engine, make_session_factory
from shuhui.core.settings import Settings
from shuhui.monitor.alarms.models import Alarm
from shuhui.monitor.simulate.runner import Sender
from shuhui.monitor.telemetry import store
from shuhui.monitor.telemetry.broker import Broker
from tests.monitor.broker import private_broker, wait_for
from tests.monitor.simulate.conftest import small_city

pytestmark = pytest.mark.both_backends

BURST = 4_000
STEP = timedelta(milliseconds=20)


@pytest.fixture(scope="module")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with private_broker(tmp_path_factory.mktemp("mosquitto-crash")) as started:
        yield started


@pytest.fixture
def factory(migrated: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated.sqlalchemy_url)
    yield make_session_factory(engine)
    engine.dispose()


def _consumer(url: str, broker: Broker) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.monitor.simulate.consumer_process", url, broker.url]
    )


def _newest(factory: sessionmaker[Session]) -> datetime | None:
    with factory() as db:
        heard = store.latest(db)
    return max((d.ts for d in heard.values()), default=None)


def test_a_consumer_killed_mid_burst_loses_no_alarm_and_raises_none_twice(
    mqtt_broker: Broker, factory: sessionmaker[Session], migrated: Settings
) -> None:
    city = small_city()
    devices = sorted(city.devices.values(), key=lambda d: d.id)
    gas = [d for d in devices if d.sensor_type.code == "gas-detector"]
    smoke = [d for d in devices if d.sensor_type.code == "smoke-detector"]
    # Whole milliseconds: what a message's time holds.
    start = datetime.now(UTC).replace(microsecond=0) - BURST * STEP
    # Each device crosses its threshold at its own point, from a quarter to three quarters of
    # the burst: the consumer is killed half way, with alarms raised and alarms to come.
    crossing = {d.id: BURST // 4 + k * (BURST // 2) // len(devices) for k, d in enumerate(devices)}
    messages: list[tuple[str, datetime, dict[str, float]]] = []
    for i in range(BURST):
        d = devices[i % len(devices)]
        high = i >= crossing[d.id]
        if d.sensor_type.code == "gas-detector":
            values = {"gas_lel": 30.0 if high else 0.5}
        elif d.sensor_type.code == "smoke-detector":
            values = {"smoke": 6.0 if high else 0.1, "temperature": 22.0}
        else:
            continue
        messages.append((d.id, start + i * STEP, values))

    first = _consumer(migrated.sqlalchemy_url, mqtt_broker)
    sender = Sender(mqtt_broker.url, 1, "crash-burst")
    try:
        probe = smoke[0].id

        def subscribed() -> bool:
            # Sent again until stored: one sent before the subscription is not kept for it.
            sender.send(probe, start - timedelta(seconds=1), {"smoke": 0.1, "temperature": 22.0})
            return _newest(factory) is not None

        assert wait_for(subscribed, timeout=60, every=0.5)

        def burst() -> None:
            # The second half at a pace a consumer cannot outrun, so the kill at half way lands
            # with alarms still to come however fast the machine (at full speed the consumer
            # could store the rest between two looks at its progress).
            for n, (device, ts, values) in enumerate(messages):
                sender.send(device, ts, values)
                if n >= len(messages) // 2:
                    time.sleep(0.001)

        thread = threading.Thread(target=burst)
        thread.start()
        half = start + (BURST // 2) * STEP
        assert wait_for(lambda: (_newest(factory) or start) >= half, timeout=120)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        thread.join(120)
        with factory() as db:
            before = len(db.scalars(select(Alarm.id)).all())
        second = _consumer(migrated.sqlalchemy_url, mqtt_broker)
        try:
            last = messages[-1][1]
            assert wait_for(lambda: (_newest(factory) or start) >= last, timeout=120), (
                _newest(factory),
                last,
            )
            expected = {("hz-gas-first", d.id) for d in gas} | {("hr-smoke", d.id) for d in smoke}

            def raised() -> set[tuple[str, str]]:
                with factory() as db:
                    return {(r, s) for r, s in db.execute(select(Alarm.rule, Alarm.source))}

            assert wait_for(lambda: expected <= raised(), timeout=60), expected - raised()
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    finally:
        sender.close()
        if first.poll() is None:  # a failure before the kill: never left running
            first.kill()
            first.wait(10)
    with factory() as db:
        alarms = db.execute(select(Alarm.rule, Alarm.source, Alarm.state)).all()
    counts = Counter((rule, source) for rule, source, _ in alarms)
    assert [k for k, n in counts.items() if n > 1] == []
    assert 0 < before < len(alarms), (before, len(alarms))  # killed with alarms still to come

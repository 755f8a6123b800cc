"""The simulator end to end: a run of a small city published to a private Mosquitto, a real
consumer with the alarm engine on the run's clock, and the score: every injected incident
detected, no duplicate, the near-misses raising nothing."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.db import make_engine, make_session_factory
from shuhui.core.settings import Settings
from shuhui.monitor.alarms import engine as alarms_engine
from shuhui.monitor.simulate import evaluate, incidents, runner
from shuhui.monitor.simulate.streams import CST, Baseline
from shuhui.monitor.telemetry.broker import Broker
from shuhui.monitor.telemetry.consumer import Config, Consumer
from tests.monitor.broker import private_broker
from tests.monitor.simulate.conftest import small_city

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with private_broker(tmp_path_factory.mktemp("mosquitto")) as started:
        yield started


@pytest.fixture
def factory(migrated: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated.sqlalchemy_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_quiet_streams_stay_in_range_and_follow_the_day() -> None:
    city = small_city()
    for device in city.devices.values():
        quiet = Baseline(device, 7)
        for hour in range(0, 48, 3):
            values = quiet.values(T0 + timedelta(hours=hour))
            assert set(values) == set(device.sensor_type.metrics)
            for name, value in values.items():
                m = device.sensor_type.metrics[name]
                assert m.low <= value <= m.high
    station = next(d for d in city.devices.values() if d.sensor_type.code == "forest-station")
    quiet = Baseline(station, 7)
    dawn = quiet.values(datetime(2026, 3, 2, 5, 0, tzinfo=CST))["temperature"]
    afternoon = quiet.values(datetime(2026, 3, 2, 15, 0, tzinfo=CST))
    assert afternoon["temperature"] > dawn + 6 and afternoon["humidity"] < 60


def test_the_plan_takes_whole_sites_and_never_two_incidents_at_one_site() -> None:
    city = small_city()
    made = incidents.plan(
        city, start=T0, minutes=80, devices=0, incidents=6, near_misses=5, seed=1, run_id="R"
    )
    assert not made.skipped
    assert sorted(i.kind for i in made.incidents) == sorted(
        [*incidents.INCIDENTS, *incidents.NEAR_MISSES]
    )
    for a in made.incidents:
        assert made.start + incidents.WARMUP <= a.start and a.end <= made.end - incidents.MARGIN
        for b in made.incidents:
            if a is not b and a.site == b.site:
                assert a.end <= b.start or b.end <= a.start
    some = incidents.pick_devices(city, 20, random.Random(1))
    sites = {d.site for d in some}
    assert {d.id for d in some} == {d.id for d in city.devices.values() if d.site in sites}
    assert len({d.sensor_type.scenario for d in some}) == 3


def test_a_run_detects_every_incident_without_duplicates(
    mqtt_broker: Broker, factory: sessionmaker[Session], migrated: Settings, tmp_path: Path
) -> None:
    city = small_city()
    speed, minutes = 300.0, 80.0
    now = datetime.now(UTC)
    start = now - timedelta(minutes=minutes * (1 - 1 / speed))
    made = incidents.plan(
        city, start=start, minutes=minutes, devices=0, incidents=6, near_misses=5, seed=3,
        run_id="SIM-T",
    )  # fmt: skip
    clock = runner.SimClock(start, speed)
    alarms_engine.forget_all()
    consumer = Consumer(
        factory,
        lambda: city,
        Config(url=mqtt_broker.url, client_id="sim-test", batch_ms=50, tick_seconds=0.15),
        evaluators=[alarms_engine.evaluate],
        tickers=[alarms_engine.tick],
        clock=clock.now,
    )
    truth = runner.truth_path(tmp_path, "SIM-T")
    done = runner.run(
        made, run_id="SIM-T", truth=truth, mqtt_url=mqtt_broker.url, speed=speed, seed=3,
        consumer=consumer, clock=clock,
    )  # fmt: skip
    assert done.published.messages > 1000 and done.published.silenced > 0
    assert done.consumed is not None and done.consumed["rejected"] == {}
    # The truth is a file of its own: the run line, each incident labelled, the end.
    lines = [json.loads(x) for x in truth.read_text().splitlines()]
    assert lines[0]["type"] == "run" and lines[-1]["type"] == "end"
    assert {x["near_miss"] for x in lines if x["type"] == "incident"} == {True, False}
    with factory() as db:
        got = evaluate.score(db, evaluate.read_truth(truth))
    result = got.as_json()
    assert result["incidents"] == 6 and result["detected"] == 6, result
    assert result["missed"] == 0 and result["duplicates"] == 0, result
    assert result["near_misses"] == 5 and result["near_miss_alarms"] == 0, result
    assert result["false_alarms"] == 0, result
    assert result["time_to_alarm_s"]["max"] is not None

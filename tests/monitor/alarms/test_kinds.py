"""Each kind of rule raises at the right reading and not before, once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.monitor.alarms.conftest import (
    GAS,
    GAS_FAR,
    GAS_NEAR,
    SITE,
    SMOKE,
    SMOKE2,
    STATION,
    STATION2,
    STRUCTURE,
    T0,
    TANK,
    WATER,
    Feed,
    reading,
)

pytestmark = pytest.mark.both_backends


def test_threshold_raises_at_the_crossing_reading(feed: Feed) -> None:
    feed(reading(SMOKE, "smoke", 1.0), reading(SMOKE, "smoke", 3.9, 1))
    assert feed.count("hr-smoke") == 0
    feed(reading(SMOKE, "smoke", 4.0, 2))
    (alarm,) = feed.alarms("hr-smoke")
    assert alarm.level == 3 and alarm.state == "raised" and alarm.source == SMOKE
    assert [(r.device, r.metric, r.value) for r in alarm.readings] == [(SMOKE, "smoke", 4.0)]
    assert alarm.readings[0].ts == T0 + timedelta(minutes=2)
    feed(reading(SMOKE, "smoke", 9.0, 3), reading(SMOKE, "smoke", 12.0, 4))
    assert feed.count("hr-smoke") == 1


def test_absolute_threshold_takes_either_sign(feed: Feed) -> None:
    feed(reading(STRUCTURE, "strain", -1499.0))
    assert feed.count("hr-strain") == 0
    feed(reading(STRUCTURE, "strain", -1500.0, 10))
    assert feed.count("hr-strain") == 1


def test_rate_of_change_between_consecutive_readings(feed: Feed) -> None:
    # +6 °C a minute: under the 8 °C/min rate of rise; then +9 in one minute.
    feed(reading(SMOKE, "temperature", 20.0), reading(SMOKE, "temperature", 26.0, 1))
    assert feed.count("hr-heat-rise") == 0
    feed(reading(SMOKE, "temperature", 35.0, 2))
    (alarm,) = feed.alarms("hr-heat-rise")
    assert [r.value for r in alarm.readings] == [26.0, 35.0]
    # A reading after a long gap is a new baseline, not a rate.
    feed(reading(GAS, "gas_lel", 0.0), reading(GAS, "gas_lel", 20.0, 30))
    assert feed.count("hr-gas-rise") == 0


def test_gas_rising_fast(feed: Feed) -> None:
    feed(reading(GAS, "gas_lel", 2.0), reading(GAS, "gas_lel", 4.0, 0.5))
    assert feed.count("hz-gas-rise") == 0  # 4 %LEL a minute
    feed(reading(GAS, "gas_lel", 7.0, 1.0))  # 6 %LEL a minute
    assert feed.count("hz-gas-rise") == 1


def test_duration_raises_after_the_minutes_and_restarts_on_a_break(feed: Feed) -> None:
    low = [reading(WATER, "water_pressure", 0.05, m) for m in range(0, 10, 5)]
    feed(*low)
    assert feed.count("hr-water-pressure-low") == 0
    feed(reading(WATER, "water_pressure", 0.30, 9.5))  # a break: the run starts again
    feed(reading(WATER, "water_pressure", 0.05, 10))
    feed(reading(WATER, "water_pressure", 0.05, 15))
    assert feed.count("hr-water-pressure-low") == 0
    feed(reading(WATER, "water_pressure", 0.06, 20))
    (alarm,) = feed.alarms("hr-water-pressure-low")
    assert [r.value for r in alarm.readings] == [0.05, 0.06]
    assert alarm.readings[0].ts == T0 + timedelta(minutes=10)


def test_silence_is_raised_by_tick_and_cleared_by_the_next_reading(feed: Feed) -> None:
    feed(reading(SMOKE, "smoke", 0.5))
    # smoke-detector: every 60 s; silent after 5 intervals.
    assert feed.tick(T0 + timedelta(minutes=4)) == 0
    assert feed.tick(T0 + timedelta(minutes=5)) == 1
    assert feed.tick(T0 + timedelta(minutes=6)) == 0
    (alarm,) = feed.alarms("hr-detector-silent")
    assert alarm.level == 4 and alarm.device == SMOKE
    feed(reading(SMOKE, "smoke", 0.5, 7), now=T0 + timedelta(minutes=7))
    feed.tick(T0 + timedelta(minutes=7, seconds=5))
    (alarm,) = feed.alarms("hr-detector-silent")
    assert alarm.state == "closed" and alarm.open_key is None
    # A device never heard is never called silent.
    assert feed.count("hz-detector-silent") == 0


def test_correlation_at_one_site(feed: Feed) -> None:
    feed(reading(SMOKE, "smoke", 5.0))
    assert feed.count("hr-fire-confirmed") == 0
    feed(reading(SMOKE2, "temperature", 60.0, 1))
    (alarm,) = feed.alarms("hr-fire-confirmed")
    assert alarm.source == SITE and alarm.level == 1 and alarm.device is None
    assert {(r.device, r.metric) for r in alarm.readings} == {
        (SMOKE, "smoke"),
        (SMOKE2, "temperature"),
    }
    feed(reading(SMOKE2, "smoke", 6.0, 2))
    assert feed.count("hr-fire-confirmed") == 1


def test_correlation_outside_its_window_does_not_raise(feed: Feed) -> None:
    feed(reading(SMOKE, "smoke", 5.0), reading(SMOKE, "smoke", 0.0, 1))
    feed(reading(SMOKE2, "temperature", 60.0, 10))  # the smoke cleared 9 minutes before
    assert feed.count("hr-fire-confirmed") == 0


def test_correlation_within_a_distance(feed: Feed) -> None:
    feed(reading(GAS, "gas_lel", 12.0), reading(GAS_FAR, "gas_lel", 12.0, 0.5))
    assert feed.count("hz-gas-cluster") == 0  # 2.7 km apart
    feed(reading(GAS_NEAR, "gas_lel", 11.0, 1))
    (alarm,) = feed.alarms("hz-gas-cluster")
    assert {r.device for r in alarm.readings} == {GAS, GAS_NEAR}
    feed(reading(STATION, "smoke", 6.0), reading(STATION2, "temperature", 45.0, 1))
    assert feed.count("fo-fire-suspect") == 1


def test_tank_rules(feed: Feed) -> None:
    feed(reading(TANK, "pressure", 1.7), reading(TANK, "pressure", 1.7, 1.5))
    assert feed.count("hz-tank-pressure") == 0
    feed(reading(TANK, "pressure", 1.8, 2))
    assert feed.count("hz-tank-pressure") == 1
    feed(reading(TANK, "level", 91.0, 2), reading(TANK, "temperature", 56.0, 2))
    assert feed.count("hz-tank-level") == 1 and feed.count("hz-tank-temperature") == 1

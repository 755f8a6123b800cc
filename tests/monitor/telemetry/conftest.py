"""Telemetry fixtures: a private Mosquitto for the session, and a small device directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shuhui.core.content import DEFAULT_DIR
from shuhui.monitor.devices import Device, Directory, sensor_types
from shuhui.monitor.telemetry.broker import Broker
from tests.monitor.broker import private_broker

TYPES = sensor_types(DEFAULT_DIR, "qingdao")


def small_directory(count: int = 20) -> Directory:
    """Smoke detectors SNS-370202-000000…, and one gas detector GAS-1."""
    devices = [
        Device(
            f"SNS-370202-{i:06d}",
            TYPES["smoke-detector"],
            "SITE-370202-0001",
            "370202",
            120.38,
            36.07,
        )
        for i in range(count)
    ]
    devices.append(
        Device("GAS-1", TYPES["gas-detector"], "SITE-370211-0042", "370211", 120.2, 35.96)
    )
    return Directory.of(devices, TYPES)


@pytest.fixture(scope="session")
def mqtt_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with private_broker(tmp_path_factory.mktemp("mosquitto")) as started:
        yield started


@pytest.fixture
def directory() -> Directory:
    return small_directory()

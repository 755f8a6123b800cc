"""A private Mosquitto for the monitor tests: on a free port, configured by the test (no
persistence, QoS 1 at rate), never the machine's broker on 1883."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shuhui.monitor.telemetry import broker


@contextmanager
def private_broker(folder: Path) -> Iterator[broker.Broker]:
    started = broker.start(folder, broker.free_port(), persist=False)
    try:
        yield started
    finally:
        started.stop()


def publish(
    url_port: int, topic: str, payload: str | bytes, *, qos: int = 0, host: str = "127.0.0.1"
) -> None:
    """One message through the ``mosquitto_pub`` command, as a device or an operator would."""
    data = payload if isinstance(payload, bytes) else payload.encode()
    subprocess.run(
        ["mosquitto_pub", "-h", host, "-p", str(url_port), "-q", str(qos), "-t", topic, "-s"],
        input=data,
        check=True,
        timeout=10,
    )


def wait_for(predicate: object, timeout: float = 20.0, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(every)
    return False

"""A consumer in a process of its own, over the test directory: what the crash and shared
subscription tests start, kill and restart. Arguments: database URL, broker URL, client id,
group (or "-"), QoS."""

from __future__ import annotations

import logging
import sys

from shuhui.core.db import make_engine, make_session_factory
from shuhui.monitor.telemetry.consumer import Config, Consumer
from tests.monitor.telemetry.conftest import small_directory


def main() -> None:
    url, mqtt_url, client_id, group, qos = sys.argv[1:6]
    logging.basicConfig(level=logging.WARNING)
    engine = make_engine(url)
    consumer = Consumer(
        make_session_factory(engine),
        small_directory,
        Config(
            url=mqtt_url,
            client_id=client_id,
            group=None if group == "-" else group,
            qos=int(qos),
            batch_size=200,
            batch_ms=50,
        ),
    )
    consumer.run()
    engine.dispose()


if __name__ == "__main__":
    main()

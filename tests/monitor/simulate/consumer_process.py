"""A consumer with the alarm rules in a process of its own, over the simulator tests' small
city: what the crash test starts, kills and restarts. Arguments: database URL, broker URL."""

from __future__ import annotations

import logging
import sys

from shuhui.core.db import make_engine, make_session_factory
from shuhui.monitor.alarms import engine as alarms_engine
from shuhui.monitor.telemetry.consumer import Config, Consumer
from tests.monitor.simulate.conftest import small_city


def main() -> None:
    url, mqtt_url = sys.argv[1:3]
    logging.basicConfig(level=logging.WARNING)
    engine = make_engine(url)
    city = small_city()
    consumer = Consumer(
        make_session_factory(engine),
        lambda: city,
        Config(url=mqtt_url, client_id="crash-test", qos=1, batch_size=200, batch_ms=50),
        evaluators=[alarms_engine.evaluate],
        tickers=[alarms_engine.tick],
    )
    consumer.run()
    engine.dispose()


if __name__ == "__main__":
    main()

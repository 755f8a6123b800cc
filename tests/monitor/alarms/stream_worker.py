"""A consumer process for test_once: evaluates every other reading of a fixed stream (its
half), batch by batch, each batch in a transaction, against the database given. A batch that
PostgreSQL aborts to break a deadlock with the other process is tried again, as the consumer
tries again any batch the database refused (``telemetry.consumer``)."""

from __future__ import annotations

import sys
from datetime import timedelta

from sqlalchemy.exc import DBAPIError

from shuhui.core.db import make_engine, make_session_factory, transaction
from tests.monitor.alarms.conftest import (
    DIRECTORY,
    GAS,
    SMOKE,
    SMOKE2,
    TANK,
    new_engine,
    reading,
)


def stream() -> list:  # type: ignore[type-arg]
    out = []
    for i in range(400):
        minutes = i * 0.01  # 0.6 s apart: four minutes in all
        out += [
            reading(SMOKE, "smoke", 9.0, minutes),
            reading(SMOKE2, "smoke", 6.0, minutes),
            reading(SMOKE2, "temperature", 70.0, minutes),
            reading(GAS, "gas_lel", 30.0, minutes),
            reading(TANK, "pressure", 1.8, minutes),
        ]
    return out


def main(url: str, half: int, of: int) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    alarms = new_engine()
    mine = stream()[half::of]
    for start in range(0, len(mine), 20):
        batch = mine[start : start + 20]
        for attempt in range(5):
            try:
                with transaction(factory) as db:
                    alarms.evaluate(db, DIRECTORY, batch, batch[-1].ts + timedelta(seconds=1))
                break
            except DBAPIError as e:
                if getattr(e.orig, "sqlstate", None) != "40P01" or attempt == 4:
                    raise
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))

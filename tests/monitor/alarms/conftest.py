"""The alarms' tests: a small directory of devices of every type, an engine over the city's
rules, and readings made to order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.content import DEFAULT_DIR
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.monitor.alarms.engine import Engine
from shuhui.monitor.alarms.models import Alarm
from shuhui.monitor.alarms.rules import load_rules, load_units
from shuhui.monitor.devices import Device, Directory, sensor_types
from shuhui.monitor.readings import Reading

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
TYPES = sensor_types(DEFAULT_DIR, "qingdao")
SITE = "SITE-370202-0001"
PLANT = "SITE-370211-0042"
FOREST = "SITE-370212-0007"


def _device(id_: str, type_: str, site: str, lon: float, lat: float) -> Device:
    return Device(id_, TYPES[type_], site, site[5:11], lon, lat, id_)


DEVICES = [
    _device("SNS-370202-000001", "smoke-detector", SITE, 120.3800, 36.0660),
    _device("SNS-370202-000002", "smoke-detector", SITE, 120.3801, 36.0661),
    _device("SNS-370202-000003", "fire-water-pressure", SITE, 120.3802, 36.0660),
    _device("SNS-370202-000004", "structure-monitor", SITE, 120.3803, 36.0660),
    _device("SNS-370211-000001", "gas-detector", PLANT, 120.1500, 35.9600),
    _device("SNS-370211-000002", "gas-detector", PLANT, 120.1505, 35.9602),  # ~50 m away
    _device("SNS-370211-000003", "gas-detector", PLANT, 120.1800, 35.9600),  # ~2.7 km away
    _device("SNS-370211-000004", "tank-monitor", PLANT, 120.1501, 35.9601),
    _device("SNS-370212-000001", "forest-station", FOREST, 120.6000, 36.2000),
    _device("SNS-370212-000002", "forest-station", FOREST, 120.6050, 36.2010),  # ~460 m
]
DIRECTORY = Directory.of(DEVICES, TYPES)
SMOKE, SMOKE2, WATER, STRUCTURE = (d.id for d in DEVICES[:4])
GAS, GAS_NEAR, GAS_FAR, TANK = (d.id for d in DEVICES[4:8])
STATION, STATION2 = DEVICES[8].id, DEVICES[9].id


def reading(device: str, metric: str, value: float, minutes: float = 0.0) -> Reading:
    return Reading(device, T0 + timedelta(minutes=minutes), metric, value)


def new_engine() -> Engine:
    return Engine(load_rules(DEFAULT_DIR, "qingdao", TYPES), load_units(DEFAULT_DIR, "qingdao"))


@pytest.fixture
def factory(migrated: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated.sqlalchemy_url)
    yield make_session_factory(engine)
    engine.dispose()


class Feed:
    """Readings through one engine, each batch in a transaction of its own; ``now`` the last
    reading's time unless given."""

    def __init__(self, factory: sessionmaker[Session], engine: Engine | None = None) -> None:
        self.factory = factory
        self.engine = engine or new_engine()

    def __call__(self, *readings: Reading, now: datetime | None = None) -> int:
        at = now or max((r.ts for r in readings), default=T0)
        with transaction(self.factory) as db:
            return self.engine.evaluate(db, DIRECTORY, readings, at)

    def tick(self, now: datetime) -> int:
        with transaction(self.factory) as db:
            return self.engine.tick(db, DIRECTORY, now)

    def alarms(self, rule: str | None = None) -> list[Alarm]:
        with self.factory() as db:
            query = select(Alarm).order_by(Alarm.id)
            if rule is not None:
                query = query.where(Alarm.rule == rule)
            found = list(db.scalars(query))
            for a in found:
                _ = a.events, a.readings
            db.expunge_all()
            return found

    def count(self, rule: str | None = None) -> int:
        with self.factory() as db:
            query = select(func.count()).select_from(Alarm)
            if rule is not None:
                query = query.where(Alarm.rule == rule)
            return int(db.scalar(query) or 0)


@pytest.fixture
def feed(factory: sessionmaker[Session]) -> Feed:
    return Feed(factory)

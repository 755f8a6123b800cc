"""One alarm per condition and source: bursts in one batch and across batches, two OS
processes fed interleaved halves of one stream, a restart mid-stream; escalation and
de-escalation by ``tick``."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.settings import Settings
from tests.monitor.alarms.conftest import (
    DIRECTORY,
    GAS,
    SMOKE,
    SMOKE2,
    T0,
    TANK,
    Feed,
    reading,
)

pytestmark = pytest.mark.both_backends


def test_a_burst_in_one_batch_and_across_batches_is_one_alarm(feed: Feed) -> None:
    burst = [reading(SMOKE, "smoke", 9.0, i / 60_000) for i in range(1_000)]
    # Three writes: the condition's start, the alarm, and the start of the smoke member of the
    # smoke-and-heat correlation.
    assert feed(*burst) == 3
    assert feed.count("hr-smoke") == 1
    for start in range(0, 1_000, 100):
        feed(*[reading(SMOKE2, "smoke", 9.0, (start + i) / 60_000) for i in range(100)])
    assert feed.count("hr-smoke") == 2
    assert feed(*burst) == 0  # the same again: nothing written


def test_a_restart_mid_stream_raises_no_duplicate(factory: sessionmaker[Session]) -> None:
    first = Feed(factory)
    first(*[reading(GAS, "gas_lel", 30.0, i / 60) for i in range(5)])
    second = Feed(factory)  # a new process: nothing cached
    second(*[reading(GAS, "gas_lel", 30.0, (5 + i) / 60) for i in range(5)])
    assert second.count("hz-gas-first") == 1
    # A duration run begun before the restart is continued, not restarted.
    first(reading(TANK, "pressure", 1.7, 0))
    third = Feed(factory)
    third(reading(TANK, "pressure", 1.7, 1), reading(TANK, "pressure", 1.7, 2))
    assert third.count("hz-tank-pressure") == 1


def test_a_rolled_back_batch_leaves_nothing_cached(factory: sessionmaker[Session]) -> None:
    feed = Feed(factory)
    with factory() as db:
        feed.engine.evaluate(db, DIRECTORY, [reading(SMOKE, "smoke", 9.0)], T0)
        db.rollback()
    assert feed.count("hr-smoke") == 0
    feed(reading(SMOKE, "smoke", 9.0, 1))
    assert feed.count("hr-smoke") == 1


ROOT = Path(__file__).resolve().parents[3]


def test_two_processes_on_interleaved_halves_raise_one_alarm_each(migrated: Settings) -> None:
    url = migrated.sqlalchemy_url
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.monitor.alarms.stream_worker", url, str(half), "2"],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for half in (0, 1)
    ]
    ended = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _out, err in ended]
    from shuhui.core.db import make_engine, make_session_factory

    engine = make_engine(url)
    try:
        feed = Feed(make_session_factory(engine))
        # The stream: smoke over the threshold on both detectors (two sources), the gas
        # detector over 25 %LEL, the tank's pressure held for 3 minutes, smoke with heat.
        assert feed.count("hr-smoke") == 2
        assert feed.count("hz-gas-first") == 1
        assert feed.count("hz-tank-pressure") == 1
        assert feed.count("hr-fire-confirmed") == 1
    finally:
        engine.dispose()


def test_escalation_when_not_acknowledged(feed: Feed) -> None:
    feed(reading(SMOKE, "smoke", 9.0))
    (alarm,) = feed.alarms("hr-smoke")
    assert alarm.level == 3
    # 三级: the centre's deadline is 15 minutes (hr-smoke names none of its own).
    feed.tick(T0 + timedelta(minutes=14))
    assert feed.alarms("hr-smoke")[0].level == 3
    feed.tick(T0 + timedelta(minutes=15))
    assert feed.alarms("hr-smoke")[0].level == 2
    feed.tick(T0 + timedelta(minutes=19))
    assert feed.alarms("hr-smoke")[0].level == 2
    feed.tick(T0 + timedelta(minutes=20))  # 二级: 5 minutes
    feed.tick(T0 + timedelta(minutes=60))
    alarm = feed.alarms("hr-smoke")[0]
    assert alarm.level == 1 and alarm.escalate_at is None
    assert [e.action for e in alarm.events] == ["raise", "escalate", "escalate"]


def test_a_cleared_condition_closes_or_deescalates(feed: Feed) -> None:
    # hr-smoke: clear for 5 minutes → closed.
    feed(reading(SMOKE, "smoke", 9.0), reading(SMOKE, "smoke", 1.0, 1))
    feed.tick(T0 + timedelta(minutes=5))
    assert feed.alarms("hr-smoke")[0].state == "raised"
    feed.tick(T0 + timedelta(minutes=6))
    assert feed.alarms("hr-smoke")[0].state == "closed"
    # A new run of the condition is a new alarm.
    feed(reading(SMOKE, "smoke", 9.0, 7))
    assert feed.count("hr-smoke") == 2
    # hz-gas-first (二级): clear for 5 minutes → 三级, 5 more → 四级, then closed.
    feed(reading(GAS, "gas_lel", 30.0), reading(GAS, "gas_lel", 3.0, 1))
    for minute, level in ((6, 3), (8, 3), (11, 4)):
        feed.tick(T0 + timedelta(minutes=minute))
        assert feed.alarms("hz-gas-first")[0].level == level
    feed.tick(T0 + timedelta(minutes=16))
    gas = feed.alarms("hz-gas-first")[0]
    assert gas.state == "closed"
    assert [e.action for e in gas.events] == ["raise", "deescalate", "deescalate", "auto_close"]

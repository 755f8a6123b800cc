"""``shuhui monitor devices --json``, ``retention --json`` and ``consume`` from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry import store
from shuhui.monitor.telemetry.broker import Broker


def env_of(settings: Settings, **more: str) -> dict[str, str]:
    return {
        **os.environ,
        "SHUHUI_DATA_DIR": str(settings.data_dir),
        "SHUHUI_DATABASE_URL": settings.sqlalchemy_url,
        **more,
    }


def shuhui(settings: Settings, *args: str, **more: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", "monitor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env_of(settings, **more),
        check=False,
    )


def test_devices_and_retention(migrated: Settings) -> None:
    listed = shuhui(migrated, "devices", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []  # no registry in this data core
    engine = make_engine(migrated.sqlalchemy_url)
    store.forget_partitions()
    with transaction(make_session_factory(engine)) as db:
        store.write(db, [Reading("D1", datetime(2020, 1, 1, tzinfo=UTC), "smoke", 1.0)])
    engine.dispose()
    applied = shuhui(migrated, "retention", "--json", SHUHUI_MONITOR_RAW_DAYS="3")
    assert applied.returncode == 0, applied.stderr
    result = json.loads(applied.stdout)
    assert result["dropped"] == ["monitor_readings_20200101"]
    assert result["retention_days"]["raw_days"] == 3


def test_consume_stops_on_sigterm(migrated: Settings, mqtt_broker: Broker) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shuhui.cli",
            "monitor",
            "consume",
            "--client-id",
            "t-cli",
            "--quiet",
        ],
        env=env_of(migrated, SHUHUI_MQTT_URL=mqtt_broker.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    said = process.stderr.readline()  # the subscription, just before it starts
    assert "shuhui/+/telemetry" in said
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["received"] == 0

"""``shuhui monitor alarms [--open] [--json]`` (the Typer app telemetry mounts)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from shuhui.core.settings import Settings, get_settings
from shuhui.monitor.alarms.cli import app
from tests.monitor.alarms.conftest import GAS, SMOKE, Feed, reading


@pytest.fixture
def runner(migrated: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(migrated.data_dir))
    monkeypatch.setenv("SHUHUI_DATABASE_URL", migrated.sqlalchemy_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_alarms_as_json_open_only(runner: CliRunner, factory: sessionmaker[Session]) -> None:
    feed = Feed(factory)
    feed(reading(SMOKE, "smoke", 9.0), reading(GAS, "gas_lel", 60.0))
    feed(reading(SMOKE, "smoke", 0.0, 1))
    feed.tick(feed.alarms("hr-smoke")[0].raised_at.replace(minute=30))  # hr-smoke closes
    everything = json.loads(runner.invoke(app, ["--json"]).stdout)
    listed = json.loads(runner.invoke(app, ["--open", "--json"]).stdout)
    assert {a["rule"] for a in everything} >= {"hr-smoke", "hz-gas-second", "hz-gas-first"}
    assert "hr-smoke" not in {a["rule"] for a in listed}
    assert listed[0]["level"] == 1 and listed[0]["state"] == "raised"
    assert set(listed[0]) >= {"code", "rule", "level", "state", "source", "raised_at"}
    table = runner.invoke(app, [])
    assert table.exit_code == 0 and "hz-gas-second" in table.stdout

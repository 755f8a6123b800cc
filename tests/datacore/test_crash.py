"""Publishing survives kill -9 at every named step (``core.crash``), and recovery repairs it.

The real commands run as subprocesses with ``SHUHUI_CRASH_AT`` naming a step; they die there by
SIGKILL. Then the start-up recovery runs (``shuhui data recover``, what every load and the server
run first) and the state must hold: every served version has its ``data.loaded`` entry, data and
truth come from one publish, the catalog describes the served versions, no staging folder is
left, and the ledger verifies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from functools import cache
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from shuhui.catalog import publishing
from shuhui.catalog.service import CityCatalog, city_catalog
from shuhui.core.db import make_engine, make_session_factory
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.trust.crypto.sm import sm3_hex
from shuhui.trust.ledger.keys import platform_key
from shuhui.trust.ledger.service import verify_ledger
from tests.datacore.test_store import PEOPLE, as_table, people_rows
from tests.trust.test_keys import ledger_entries

LOAD_STEPS = (
    "datacore.staged",
    "datacore.after_rename",
    "datacore.after_manifest",
    "datacore.after_switch",
    "publish.after_ledger",
)
# A city build is the same publish with 25 tables: the steps around its one switch.
SYNTH_STEPS = ("datacore.after_manifest", "datacore.after_switch", "publish.after_ledger")


def shuhui(
    data_dir: Path, *args: str, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHUHUI_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("SHUHUI_CRASH_AT", None)
    if crash_at is not None:
        env["SHUHUI_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


def core_of(data_dir: Path) -> DataCore:
    return DataCore(data_dir / "datacore", data_dir / "truth", truth=True)


@cache
def _catalog(content: Path) -> CityCatalog:
    return city_catalog(content)


def recover(settings: Settings) -> publishing.Recovery:
    """What the server runs as it starts (``create_served_app``) and every load first (the
    CLI's ``prepare``); without the quality assessment, which the catalog's tests cover."""
    engine = make_engine(settings.sqlalchemy_url)
    try:
        return publishing.recover(
            make_session_factory(engine),
            DataCore.from_settings(settings),
            _catalog(settings.city_content),
            assess_quality=False,
        )
    finally:
        engine.dispose()


def assert_consistent(settings: Settings) -> None:
    data_dir = settings.data_dir
    core = core_of(data_dir)
    recorded = {
        (e["subject"], e["detail"]["manifest_sm3"])
        for e in ledger_entries(settings.sqlalchemy_url, "data.loaded")
    }
    for version in core.published():
        digest = sm3_hex(version.manifest.read_bytes())
        assert (f"table:{version.table}", digest) in recorded, version
    assert core.disagreements() == []
    assert not list(data_dir.rglob(".staging-*"))
    assert not list((data_dir / "datacore" / "publishing").glob("*.json"))
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with make_session_factory(engine)() as db:
            public = platform_key(data_dir).public_key
            assert list(verify_ledger(db, public)) == []
    finally:
        engine.dispose()


@pytest.fixture
def people_dir(migrated: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("SHUHUI_DATABASE_URL", migrated.sqlalchemy_url)
    data_dir = migrated.data_dir
    DataCore.from_settings(migrated).load(PEOPLE, as_table(people_rows(30)), source="fixture")
    pq.write_table(as_table(people_rows(12, seed=3)), data_dir / "next.parquet")
    return migrated


@pytest.mark.parametrize("step", LOAD_STEPS)
def test_a_load_killed_at_each_step_is_recovered(people_dir: Settings, step: str) -> None:
    data_dir = people_dir.data_dir
    killed = shuhui(
        data_dir, "data", "load", "people", str(data_dir / "next.parquet"), crash_at=step
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    switched = step in ("datacore.after_switch", "publish.after_ledger")
    core = core_of(data_dir)
    assert core.table("people").version == (2 if switched else 1)

    done = recover(people_dir)
    assert_consistent(people_dir)
    entries = ledger_entries(people_dir.sqlalchemy_url, "data.loaded")
    # Version 1 was published by the fixture, not the CLI: the load's own start recovered it.
    # Version 2 is the load's entry once its ledger step ran; before that, recovery's.
    assert (entries[0]["detail"]["version"], entries[0]["actor"]) == (1, "system")
    assert [e["detail"]["version"] for e in entries] == ([1, 2] if switched else [1])
    assert done.recorded == (["people v2"] if step == "datacore.after_switch" else [])
    assert all("recovered" in e["detail"] for e in entries if e["actor"] == "system")
    # Nothing of an unswitched version is left to be mistaken for a published one, and the next
    # load names its version as if nothing had happened.
    assert core.main.versions("people") == ([1, 2] if switched else [1])
    assert core.load(PEOPLE, as_table(people_rows(5))).version == (3 if switched else 2)
    # Recovery is idempotent: run again (the next load's start), it records only the new load.
    assert recover(people_dir).recorded == [f"people v{3 if switched else 2}"]
    assert not recover(people_dir).changed


@pytest.mark.parametrize("step", SYNTH_STEPS)
def test_a_city_build_killed_at_each_step_switches_data_and_truth_together(
    synced_city_app: FastAPI, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    settings: Settings = synced_city_app.state.settings
    monkeypatch.setenv("SHUHUI_DATABASE_URL", settings.sqlalchemy_url)
    data_dir = settings.data_dir
    (before,) = generations(data_dir)
    killed = shuhui(data_dir, "synth", "--residents", "300", "--seed", "9", crash_at=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after = generations(data_dir)
    # All 25 tables, data and truth, from one build: the old one before the switch, else the new.
    assert len(after) == 1
    new = step != "datacore.after_manifest"
    assert (after != {before}) == new
    assert next(iter(after)).startswith("seed9-") == new

    recover(settings)
    assert_consistent(settings)
    core = core_of(data_dir)
    served = {v.table: v.version for v in core.published() if v.current and not v.truth}
    assert catalogued_versions(settings.sqlalchemy_url) == served
    assert set(served.values()) == {2 if new else 1}
    residents = core.sql("SELECT count(*) AS n FROM residents").column("n")[0].as_py()
    assert (residents == 300) == new


def generations(data_dir: Path) -> set[str]:
    return {
        json.loads(v.manifest.read_text())["generation"]
        for v in core_of(data_dir).published()
        if v.current
    }


def catalogued_versions(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT table_name, version FROM catalog_datasets"))
            return {str(name): int(version) for name, version in rows}
    finally:
        engine.dispose()


@pytest.mark.both_backends
def test_the_server_recovers_as_it_starts(people_dir: Settings) -> None:
    data_dir = people_dir.data_dir
    step = "datacore.after_switch"
    killed = shuhui(
        data_dir, "data", "load", "people", str(data_dir / "next.parquet"), crash_at=step
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # What each worker of `shuhui serve` runs as it starts.
    script = "from shuhui.web.app import create_served_app; create_served_app()"
    env = {**os.environ, "SHUHUI_DATA_DIR": str(data_dir), "SHUHUI_SECRET_KEY": "test-secret"}
    started = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert started.returncode == 0, started.stderr
    assert_consistent(people_dir)
    entries = ledger_entries(people_dir.sqlalchemy_url, "data.loaded")
    assert [(e["detail"]["version"], e["actor"]) for e in entries] == [(1, "system"), (2, "system")]


def test_data_recover_records_a_version_published_without_its_entry(people_dir: Settings) -> None:
    data_dir = people_dir.data_dir
    first = shuhui(data_dir, "data", "recover")
    assert first.returncode == 0, first.stderr
    assert "recovered into the audit ledger: people v1" in " ".join(first.stderr.split())
    assert "数据底座已核对" in first.stdout
    second = shuhui(data_dir, "data", "recover")
    assert second.returncode == 0 and "recovered" not in second.stderr
    (entry,) = ledger_entries(people_dir.sqlalchemy_url, "data.loaded")
    assert (entry["actor"], entry["detail"]["version"]) == ("system", 1)
    assert entry["detail"]["source"] == {"label": "fixture"}
    assert_consistent(people_dir)

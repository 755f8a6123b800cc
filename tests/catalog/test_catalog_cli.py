"""The catalog follows the data core: ``shuhui data load`` registers the new version and
assesses its quality; ``shuhui catalog search`` finds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, text

from shuhui.datacore.store import DataCore
from shuhui.standard import TABLES
from shuhui.synth import CityConfig
from shuhui.synth.cli import build_city


def shuhui(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "SHUHUI_DATA_DIR": str(data_dir), "COLUMNS": "200"},
    )


def test_a_data_load_updates_the_catalog_and_its_quality(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHUHUI_DATABASE_URL", database_url)
    core = DataCore(tmp_path / "datacore", tmp_path / "truth")
    build_city(core, CityConfig(residents=800, seed=4, chunk=800), show_progress=False)
    synced = shuhui(tmp_path, "catalog", "sync", "--json")
    assert synced.returncode == 0, synced.stderr
    assert len(json.loads(synced.stdout)["registered"]) == len(TABLES)

    pq.write_table(
        core.sql("SELECT * FROM enterprise_electricity LIMIT 100"), tmp_path / "e.parquet"
    )
    loaded = shuhui(tmp_path, "data", "load", "enterprise_electricity", str(tmp_path / "e.parquet"))
    assert loaded.returncode == 0, loaded.stderr
    assert "catalog: enterprise_electricity registered" in " ".join(loaded.stderr.split())
    engine = create_engine(database_url)
    with engine.connect() as conn:
        version, rows, score = conn.execute(
            text(
                "SELECT version, rows, quality_score FROM catalog_datasets "
                "WHERE name = 'enterprise_electricity'"
            )
        ).one()
    engine.dispose()
    assert (version, rows) == (2, 100) and score is not None

    found = json.loads(shuhui(tmp_path, "catalog", "search", "用电", "--json").stdout)
    assert "enterprise_electricity" in {r["name"] for r in found["results"]}


def test_catalog_generate_shows_a_bar_for_each_stage(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHUHUI_DATABASE_URL", database_url)
    made = shuhui(tmp_path, "catalog", "generate", "--classes", "30", "--datasets", "200")
    assert made.returncode == 0, made.stderr
    lines = made.stderr.splitlines()
    for stage, done in (("编制资源类", "30/30"), ("编制数据集", "200/200")):
        assert any(stage in line and done in line for line in lines), made.stderr
    # Every class, data item, dataset and distribution written: the last bar is full.
    writing = next(line for line in lines if "写入数据库" in line)
    done, total = writing.split()[-2].split("/")
    assert done == total and int(total) > 230
    assert "generated 30 classes, 200 datasets" in made.stderr

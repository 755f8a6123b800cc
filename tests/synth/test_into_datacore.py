"""The synthetic city as `shuhui synth` builds it: into the data core, truth kept apart."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shuhui.core import ids
from shuhui.datacore.errors import QueryRefused
from shuhui.datacore.store import DataCore
from shuhui.synth import TABLES, TRUTH_TABLES, CityConfig
from shuhui.synth.cli import build_city

CITY = CityConfig(residents=2_500, seed=5, chunk=1_000)


def built(root: Path, config: CityConfig = CITY) -> DataCore:
    core = DataCore(root / "datacore", root / "truth")
    build_city(core, config, show_progress=False)
    return core


def fingerprint(root: Path) -> dict[str, str]:
    """SHA-256 of every Parquet part, by its path inside the data directory."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def test_same_seed_gives_byte_identical_tables(tmp_path: Path) -> None:
    built(tmp_path / "a")
    built(tmp_path / "b")
    a, b = fingerprint(tmp_path / "a"), fingerprint(tmp_path / "b")
    assert len(a) == len(TABLES) + len(TRUTH_TABLES)
    assert a == b


def test_different_seed_gives_a_different_city(tmp_path: Path) -> None:
    one = built(tmp_path / "a")
    other = built(tmp_path / "b", CityConfig(residents=2_500, seed=6, chunk=1_000))
    query = "SELECT citizen_id FROM residents ORDER BY citizen_id LIMIT 50"
    assert one.sql(query) != other.sql(query)
    assert fingerprint(tmp_path / "a") != fingerprint(tmp_path / "b")


def test_all_tables_published_and_truth_kept_apart(tmp_path: Path) -> None:
    core = built(tmp_path)
    assert {t.name for t in core.tables()} == {s.name for s in TABLES}
    for spec in TRUTH_TABLES:
        with pytest.raises(QueryRefused):
            core.sql(f"SELECT count(*) FROM {spec.name}")
        with pytest.raises(QueryRefused):
            core.sql(f"SELECT count(*) FROM truth.{spec.name}")
    part = next((tmp_path / "truth").rglob("*.parquet"))
    with pytest.raises(QueryRefused):
        core.sql(f"SELECT * FROM read_parquet('{part}')")
    opened = DataCore(tmp_path / "datacore", tmp_path / "truth", truth=True)
    names = {t.name for t in opened.tables()}
    assert {s.name for s in TRUTH_TABLES} <= names
    total = opened.sql("SELECT count(*) AS n FROM truth.truth_no_record").column("n")[0].as_py()
    assert total > 0


def test_every_identifier_in_the_city_validates(tmp_path: Path) -> None:
    core = built(tmp_path)
    checked = 0
    for spec in TABLES:
        for column in spec.columns:
            if column.check not in ("citizen_id", "credit_code"):
                continue
            values = core.sql(f'SELECT DISTINCT "{column.name}" AS v FROM {spec.name}')
            for value in values.column("v").to_pylist():
                if value is None:
                    continue
                result = ids.check(value)
                assert result.valid and result.kind == column.check, (spec.name, value, result)
                checked += 1
    assert checked > 2_500


def test_rebuilding_makes_new_versions_of_every_table(tmp_path: Path) -> None:
    core = built(tmp_path)
    build_city(core, CITY, show_progress=False)
    assert {t.version for t in core.tables()} == {2}


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "SHUHUI_DATA_DIR": str(data_dir)},
    )


def test_synth_command(tmp_path: Path) -> None:
    result = run(tmp_path, "synth", "--residents", "1500", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "居民 residents" in result.stderr
    listed = json.loads(run(tmp_path, "data", "ls", "--json").stdout)
    assert len(listed) == len(TABLES)
    assert next(t for t in listed if t["name"] == "residents")["rows"] == 1500
    bad = run(tmp_path, "synth", "--residents", "10", "--as-of", "2026-02-30")
    assert bad.returncode == 2
    assert "--as-of" in bad.stderr

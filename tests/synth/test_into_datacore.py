"""The synthetic city as `shuhui synth` builds it: into the data core, truth kept apart."""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from shuhui.core import ids
from shuhui.core.settings import Settings
from shuhui.datacore.errors import LoadError, QueryRefused
from shuhui.datacore.schema import TableSpec
from shuhui.datacore.store import DataCore, LoadResult
from shuhui.standard import TABLES
from shuhui.synth import TRUTH_TABLES, CityConfig
from shuhui.synth import cli as synth_cli
from shuhui.synth import generate as synth_generate
from shuhui.synth.cli import build_city
from tests.trust.test_keys import ledger_entries

CITY = CityConfig(residents=2_500, seed=5, chunk=1_000)


def built(root: Path, config: CityConfig = CITY) -> DataCore:
    core = DataCore(root / "datacore", root / "truth")
    build_city(core, config, show_progress=False)
    return core


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``CITY`` built once for the module's tests that only read it (a build is seconds)."""
    root = tmp_path_factory.mktemp("city")
    built(root)
    return root


def fingerprint(root: Path) -> dict[str, str]:
    """SHA-256 of every Parquet part, by its path inside the data directory."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def test_same_seed_gives_byte_identical_tables(city: Path, tmp_path: Path) -> None:
    built(tmp_path)
    a, b = fingerprint(city), fingerprint(tmp_path)
    assert len(a) == len(TABLES) + len(TRUTH_TABLES)
    assert a == b


def test_different_seed_gives_a_different_city(city: Path, tmp_path: Path) -> None:
    one = DataCore(city / "datacore", city / "truth")
    other = built(tmp_path, CityConfig(residents=2_500, seed=6, chunk=1_000))
    query = "SELECT citizen_id FROM residents ORDER BY citizen_id LIMIT 50"
    assert one.sql(query) != other.sql(query)
    assert fingerprint(city) != fingerprint(tmp_path)


def test_all_tables_published_and_truth_kept_apart(city: Path) -> None:
    core = DataCore(city / "datacore", city / "truth")
    assert {t.name for t in core.tables()} == {s.name for s in TABLES}
    for spec in TRUTH_TABLES:
        with pytest.raises(QueryRefused):
            core.sql(f"SELECT count(*) FROM {spec.name}")
        with pytest.raises(QueryRefused):
            core.sql(f"SELECT count(*) FROM truth.{spec.name}")
    part = next((city / "truth").rglob("*.parquet"))
    with pytest.raises(QueryRefused):
        core.sql(f"SELECT * FROM read_parquet('{part}')")
    opened = DataCore(city / "datacore", city / "truth", truth=True)
    names = {t.name for t in opened.tables()}
    assert {s.name for s in TRUTH_TABLES} <= names
    total = opened.sql("SELECT count(*) AS n FROM truth.truth_no_record").column("n")[0].as_py()
    assert total > 0


def test_every_identifier_in_the_city_validates(city: Path) -> None:
    core = DataCore(city / "datacore", city / "truth")
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
    # The database was migrated on the way, and every table version published is in the ledger,
    # ground truth included, after the platform key's issuance.
    url = Settings(data_dir=tmp_path).sqlalchemy_url
    assert ledger_entries(url)[0]["action"] == "key.issued"
    loaded = ledger_entries(url, "data.loaded")
    everything = {*TABLES, *TRUTH_TABLES}
    assert sorted(e["subject"] for e in loaded) == sorted(f"table:{s.name}" for s in everything)
    assert {e["actor"] for e in loaded} == {f"cli:{getpass.getuser()}"}
    residents = next(e for e in loaded if e["subject"] == "table:residents")["detail"]
    assert (residents["version"], residents["rows"], residents["truth"]) == (1, 1500, False)
    assert residents["source"] == {
        "kind": "synth",
        "label": "synth residents=1500 seed=3 as_of=2026-10-31",
        "residents": 1500,
        "seed": 3,
        "as_of": "2026-10-31",
        "months": 12,
        "chunk": 100_000,
    }
    truth = [e for e in loaded if e["subject"].startswith("table:truth_")]
    assert len(truth) == len(TRUTH_TABLES) and all(e["detail"]["truth"] for e in truth)
    bad = run(tmp_path, "synth", "--residents", "10", "--as-of", "2026-02-30")
    assert bad.returncode == 2
    assert "--as-of" in bad.stderr
    assert len(ledger_entries(url, "data.loaded")) == len(everything)


class RecordingLedger:
    def __init__(self) -> None:
        self.recorded: list[tuple[list[tuple[str, int, int]], dict[str, str | int]]] = []
        self.followed: list[list[str]] = []
        self.live: set[tuple[str, int]] = set()

    def prepare(self) -> None:
        pass

    def record(
        self,
        core: DataCore,
        loaded: Sequence[tuple[TableSpec, LoadResult]],
        source: Mapping[str, str | int],
    ) -> None:
        self.recorded.append(([(spec.name, r.version, r.rows) for spec, r in loaded], dict(source)))
        self.live = core.catalog.live_publishes()[0]

    def follow(self, core: DataCore, loaded: Sequence[tuple[TableSpec, LoadResult]]) -> None:
        self.followed.append([spec.name for spec, _ in loaded])


def test_build_city_records_one_entry_per_table_version(tmp_path: Path) -> None:
    core = DataCore(tmp_path / "datacore", tmp_path / "truth", truth=True)
    ledger = RecordingLedger()
    results = build_city(core, CITY, show_progress=False, ledger=ledger)
    ((loaded, source),) = ledger.recorded
    assert loaded == sorted((name, r.version, r.rows) for name, r in results.items())
    assert {name for name, _, _ in loaded} == {s.name for s in (*TABLES, *TRUTH_TABLES)}
    assert {(t.name, t.version, t.rows) for t in core.tables()} == set(loaded)
    assert source == synth_cli.source_detail(CITY)
    # Recorded while the publish was marked live (a recovery meanwhile leaves it alone), then
    # the catalog followed.
    assert ledger.live == {(name, 1) for name, _, _ in loaded}
    assert ledger.followed == [[name for name, _, _ in loaded]]
    # Data and truth switched in one catalog.json, their manifests naming the same build.
    generations = {
        core.storage_for(spec).read_manifest(spec.name, 1).generation
        for spec in (*TABLES, *TRUTH_TABLES)
    }
    assert len(generations) == 1 and next(iter(generations)).startswith("seed5-")
    assert core.disagreements() == []
    assert not core.catalog.live_publishes()[0]


def test_a_failed_build_records_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: object) -> None:
        raise LoadError("residents", [], "refused")

    # build_city reads the generator from its module when it runs (the CLI starts without it).
    monkeypatch.setattr(synth_generate, "generate_city", refused)
    core = DataCore(tmp_path / "datacore", tmp_path / "truth")
    ledger = RecordingLedger()
    with pytest.raises(LoadError):
        build_city(core, CITY, show_progress=False, ledger=ledger)
    assert ledger.recorded == []
    assert core.tables() == []


def test_the_source_names_a_pensioner_share_only_when_set() -> None:
    assert "no_record_pensioner_share" not in synth_cli.source_detail(CITY)
    quieter = dataclasses.replace(CITY, no_record_pensioner_share=0.05)
    assert synth_cli.source_detail(quieter)["no_record_pensioner_share"] == "0.05"


def test_the_command_refuses_a_share_outside_zero_to_one() -> None:
    from typer.testing import CliRunner

    from shuhui.cli import app

    result = CliRunner().invoke(
        app, ["synth", "--residents", "10", "--no-record-pensioner-share", "1.5"]
    )
    assert result.exit_code == 2
    assert "no-record-pensioner-share" in result.output

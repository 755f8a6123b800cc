"""Fixtures: small synthetic cities generated once per session, and SQL over their files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from shuhui.datacore.schema import TableSpec
from shuhui.standard import TABLES
from shuhui.synth import TRUTH_TABLES, CityConfig, ParquetSink, generate_city


@dataclass(frozen=True)
class City:
    config: CityConfig
    directory: Path
    rows: dict[str, int]

    def path(self, table: str) -> Path:
        return self.directory / f"{table}.parquet"

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        for spec in (*TABLES, *TRUTH_TABLES):
            con.execute(
                f"CREATE VIEW {spec.name} AS SELECT * FROM read_parquet('{self.path(spec.name)}')"
            )
        return con


def build(directory: Path, config: CityConfig) -> City:
    with ParquetSink(directory) as sink:
        rows = generate_city(sink, config)
    return City(config, directory, rows)


# Several chunks, so that whatever crosses chunk boundaries is exercised.
SMALL = CityConfig(residents=3_000, seed=11, chunk=1_000)
# The demo city of `shuhui synth --residents 20000`.
DEMO = CityConfig(residents=20_000, seed=2026)


@pytest.fixture(scope="session")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return build(tmp_path_factory.mktemp("small"), SMALL)


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> City:
    return build(tmp_path_factory.mktemp("demo"), DEMO)


@pytest.fixture(scope="session")
def demo_db(demo_city: City) -> Iterator[duckdb.DuckDBPyConnection]:
    con = demo_city.connect()
    yield con
    con.close()


class RecordingSink:
    """Keeps every batch, in order."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, pa.RecordBatch]] = []

    def write(self, spec: TableSpec, batch: pa.RecordBatch) -> None:
        self.batches.append((spec.name, batch))

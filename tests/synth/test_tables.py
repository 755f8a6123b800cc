"""The table declarations, and the generated files' agreement with them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from shuhui.datacore.schema import TableSpec
from shuhui.standard import TABLES
from shuhui.standard import tables as t
from shuhui.synth import TRUTH_TABLES, CityConfig, CountingSink, ParquetSink, generate_city, truth
from tests.synth.conftest import City

CJK = re.compile(r"[\u4e00-\u9fff]")
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def test_every_table_is_declared_once() -> None:
    names = [spec.name for spec in (*TABLES, *TRUTH_TABLES)]
    assert len(names) == len(set(names))
    assert all(SNAKE.match(name) for name in names)
    assert all(not spec.truth and not spec.name.startswith("truth_") for spec in TABLES)
    assert all(spec.truth and spec.name.startswith("truth_") for spec in TRUTH_TABLES)


def test_module_constants_are_the_tables() -> None:
    constants = {
        value.name
        for name, value in {**vars(t), **vars(truth)}.items()
        if name.isupper() and isinstance(value, TableSpec)
    }
    assert constants == {spec.name for spec in (*TABLES, *TRUTH_TABLES)}


@pytest.mark.parametrize("spec", [*TABLES, *TRUTH_TABLES], ids=lambda s: s.name)
def test_declarations_are_complete(spec: TableSpec) -> None:
    assert CJK.search(spec.title) and CJK.search(spec.department)
    names = [c.name for c in spec.columns]
    assert len(names) == len(set(names))
    assert set(spec.primary_key) <= set(names)
    for column in spec.columns:
        assert SNAKE.match(column.name)
        assert CJK.search(column.title), column.name
        if column.name.endswith("citizen_id"):
            assert column.check == "citizen_id" and column.personal
        if column.name.endswith("credit_code"):
            assert column.check == "credit_code"
        if column.name == "district_code":
            assert column.check == "division"
        if column.name.endswith("_fen"):
            assert column.type in ("int32", "int64")


def test_the_data_hides_the_truth() -> None:
    # A detector reading data tables must find anomalies from behaviour, not from a label.
    words = ("truth", "anomal", "fraud", "distress", "cheat", "fake", "injected")
    for spec in TABLES:
        for column in spec.columns:
            assert not any(w in column.name for w in words), (spec.name, column.name)


def test_files_match_the_declared_schemas(small_city: City) -> None:
    for spec in (*TABLES, *TRUTH_TABLES):
        schema = pq.read_schema(small_city.path(spec.name))
        assert schema.remove_metadata().equals(spec.arrow_schema), spec.name
        assert pq.read_metadata(small_city.path(spec.name)).num_rows == small_city.rows[spec.name]


def test_required_columns_have_no_nulls(small_city: City) -> None:
    for spec in (*TABLES, *TRUTH_TABLES):
        table = pq.read_table(small_city.path(spec.name))
        for column in spec.columns:
            if column.required:
                assert table.column(column.name).null_count == 0, (spec.name, column.name)


def test_closed_vocabularies_hold(small_city: City) -> None:
    for spec in TABLES:
        table = pq.read_table(small_city.path(spec.name))
        for column in spec.columns:
            if column.values is not None:
                seen = set(table.column(column.name).drop_null().unique().to_pylist())
                assert seen <= set(column.values), (spec.name, column.name, seen)


def test_primary_keys_are_unique(small_city: City) -> None:
    con = small_city.connect()
    for spec in (*TABLES, *TRUTH_TABLES):
        if spec.primary_key:
            key = ", ".join(spec.primary_key)
            duplicates = con.execute(
                f"SELECT count(*) FROM"
                f" (SELECT {key} FROM {spec.name} GROUP BY ALL HAVING count(*) > 1)"
            ).fetchone()
            assert duplicates == (0,), spec.name


def test_every_table_is_produced(small_city: City) -> None:
    for spec in TABLES:
        assert small_city.rows[spec.name] > 0, spec.name
    assert small_city.rows["residents"] == small_city.config.residents


def test_empty_tables_still_get_a_file(tmp_path: Path) -> None:
    config = CityConfig(
        residents=50,
        seed=3,
        pension_after_death=0,
        double_pension=0,
        unemployment_while_employed=0,
        enterprise_distress=0,
        no_record_share=0,
        no_record_pensioner_share=0,
        shared_account=0,
        early_retirement=0,
        low_contribution_base=0,
    )
    with ParquetSink(tmp_path) as sink:
        rows = generate_city(sink, config)
    for spec in TRUTH_TABLES:
        assert rows[spec.name] == 0
        assert pq.read_table(tmp_path / f"{spec.name}.parquet").num_rows == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"residents": 0},
        {"chunk": 0},
        {"months": 0},
        {"months": 121},
        {"seed": -1},
        {"double_pension": 1.5},
        {"no_record_share": -0.1},
        {"no_record_pensioner_share": 1.01},
        {"shared_account": -0.5},
        {"early_retirement": 2},
        {"low_contribution_base": -1},
    ],
)
def test_config_rejects_nonsense(bad: dict[str, int | float]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(CityConfig(residents=10, seed=1), **bad)


def test_counting_sink_agrees_with_the_returned_counts() -> None:
    sink = CountingSink()
    rows = generate_city(sink, CityConfig(residents=500, seed=5, chunk=200))
    assert set(sink.rows) == set(rows)  # every table gets a batch, even an empty one
    assert rows == sink.rows
    assert sink.batches["residents"] == 3

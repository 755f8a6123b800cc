"""Hosted tables (数据托管): loaded and checked like any table, kept in a tree and a catalog
section of their own, seen by no listing or query of the city's tables, reached by name only,
tidied and recovered like the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shuhui.datacore.errors import LoadError, QueryRefused, TableNotFound
from shuhui.datacore.schema import Column, TableSpec
from shuhui.datacore.sources import csv_upload
from shuhui.datacore.store import DataCore
from tests.datacore.test_store import PEOPLE, as_table, people_rows

HOSTED = TableSpec(
    name="hosted_91370202ma3c4d5e6t_orders",
    title="订单",
    department="青岛海湾示范科技有限公司",
    columns=(
        Column("region", "string", "区域代码"),
        Column("orders", "int64", "订单数", required=False),
    ),
)
CSV = "region,orders\n370202,12\n370203,7\n"


@pytest.fixture
def core(tmp_path: Path) -> DataCore:
    core = DataCore(tmp_path / "datacore", tmp_path / "truth", truth=True)
    core.load(PEOPLE, as_table(people_rows(5)))
    return core


def test_a_hosted_table_is_kept_apart_and_reached_by_name_only(core: DataCore) -> None:
    loaded = core.load(
        HOSTED, csv_upload(CSV.encode(), HOSTED, max_rows=10, max_chars=20), header_rows=1
    )
    assert (loaded.version, loaded.rows) == (1, 2)
    catalog = json.loads(core.catalog.path.read_text())
    assert catalog["hosted"] == {HOSTED.name: 1} and HOSTED.name not in catalog["tables"]
    assert core.hosted_store.manifest_path(HOSTED.name, 1).is_file()
    assert not core.main.table_dir(HOSTED.name).exists()
    # Not listed, not described, not queried with the city's tables — not even by its path.
    assert {t.name for t in core.tables()} == {"people"}
    with pytest.raises(TableNotFound):
        core.spec(HOSTED.name)
    folder = core.hosted_store.table_dir(HOSTED.name)
    for query in (
        f'SELECT * FROM "{HOSTED.name}"',
        f'SELECT * FROM hosted."{HOSTED.name}"',
        f"SELECT * FROM read_parquet('{folder}/v000001/*.parquet')",
    ):
        with pytest.raises(QueryRefused):
            core.sql(query)
    # By name: alone, as hosted."<name>".
    assert core.hosted_table(HOSTED.name).rows == 2
    con = core.connect(tables=(), hosted=[HOSTED.name])
    try:
        rows = con.execute(f'SELECT * FROM hosted."{HOSTED.name}" ORDER BY region').fetchall()
        assert rows == [("370202", 12), ("370203", 7)]
        assert con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone() == (
            1,
        )
    finally:
        con.close()
    with pytest.raises(TableNotFound):
        core.connect(hosted=["hosted_91370202ma3c4d5e6t_other"])
    # Recovery sees its versions like any other's.
    assert (HOSTED.name, 1) in [(v.table, v.version) for v in core.settle().published]
    assert core.disagreements() == []


def test_a_bad_row_names_its_row_and_column_in_both_languages_and_publishes_nothing(
    core: DataCore,
) -> None:
    bad = "region,orders\n370202,12\n370203,七\n".encode()
    with pytest.raises(LoadError) as caught:
        core.load(HOSTED, csv_upload(bad, HOSTED, max_rows=10, max_chars=20), header_rows=1)
    (error,) = caught.value.errors
    assert (error.row, error.column) == (3, "orders")
    assert error.said == "不是有效的整数" and error.said.en == "not a valid int64"
    assert "hosted" not in json.loads(core.catalog.path.read_text())
    assert core.hosted_store.versions(HOSTED.name) == []


@pytest.mark.parametrize(
    ("data", "row", "zh"),
    [
        (b"region,orders\n370202,1,2\n", 2, "这一行有 3 个值，表头有 2 列"),
        (b"region,orders\n370202,1\n\n370203,2\n", 3, "表格中间有空行"),
        (b"region,orders\n370202,1\n" * 1 + b"370203," + b"9" * 30 + b"\n", 3, "超过 20 个字"),
        (b"region,region\n1,2\n", 1, "表头中出现了两次"),
        (b"region,\n1,2\n", 1, "表头第 2 列没有名称"),
        (b'region,orders\n"370202,1\n', 2, "不是有效的 CSV"),
        (b"\xff\xfe\x00", None, "不是 UTF-8 或 GB18030"),
        (b"", None, "文件是空的"),
    ],
)
def test_a_file_that_is_not_a_table_is_refused_where_it_goes_wrong(
    data: bytes, row: int | None, zh: str
) -> None:
    with pytest.raises(LoadError) as caught:
        csv_upload(data, HOSTED, max_rows=10, max_chars=20)
    first = caught.value.errors[0]
    assert first.row == row and zh in first.said, (first, zh)


def test_more_rows_than_allowed_are_refused_and_a_gb18030_file_is_read() -> None:
    many = ("region,orders\n" + "370202,1\n" * 11).encode()
    with pytest.raises(LoadError) as caught:
        csv_upload(many, HOSTED, max_rows=10, max_chars=20)
    assert "超过 10 行" in caught.value.errors[0].said
    table = csv_upload(
        "region,orders\n崂山,1\n".encode("gb18030"), HOSTED, max_rows=10, max_chars=20
    )
    assert table.column("region").to_pylist() == ["崂山"]

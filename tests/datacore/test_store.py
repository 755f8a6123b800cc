"""The data core as its users meet it: loads that are all-or-nothing, versions, safe SQL."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import tempfile
import threading
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuhui.core import ids
from shuhui.datacore.errors import LoadError, QueryRefused, TableNotFound
from shuhui.datacore.schema import Column, TableSpec
from shuhui.datacore.store import CLUSTER_ROW_GROUP, DataCore

TODAY = date(2026, 11, 29)

PEOPLE = TableSpec(
    name="people",
    title="人员",
    department="测试局",
    columns=(
        Column("citizen_id", "string", "身份证号", personal=True, check="citizen_id"),
        Column("name", "string", "姓名", personal=True),
        Column("district", "string", "区划", check="division"),
        Column("born", "date", "出生日期"),
        Column("wage_fen", "int64", "月工资（分）", required=False),
        Column("sex", "string", "性别", values=("M", "F")),
    ),
    primary_key=("citizen_id",),
)
VISITS = TableSpec(
    name="visits",
    title="就诊",
    department="测试局",
    kind="event",
    columns=(
        Column("citizen_id", "string", "身份证号", personal=True, check="citizen_id"),
        Column("day", "date", "日期"),
    ),
)
TRUTH = TableSpec(
    name="truth_secret",
    title="真值",
    department="测试",
    truth=True,
    columns=(Column("citizen_id", "string", "身份证号", check="citizen_id"),),
)


def people_rows(n: int, seed: int = 1) -> list[dict[str, object]]:
    import random

    rng = random.Random(seed)
    out = []
    for cid in ids.generate_citizen_ids(rng, n, born_to=date(2000, 1, 1)):
        parsed = ids.parse_citizen_id(cid)
        out.append(
            {
                "citizen_id": cid,
                "name": "张三",
                "district": cid[:6],
                "born": parsed.birth_date,
                "wage_fen": 800_000,
                "sex": parsed.sex,
            }
        )
    return out


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def as_table(rows: list[dict[str, object]], spec: TableSpec = PEOPLE) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=spec.arrow_schema)


@pytest.fixture
def core(tmp_path: Path) -> DataCore:
    return DataCore(tmp_path / "datacore", tmp_path / "truth")


def test_load_then_query(core: DataCore) -> None:
    result = core.load(PEOPLE, as_table(people_rows(100)), source="unit", today=TODAY)
    assert (result.version, result.rows, result.written) == (1, 100, 100)
    assert core.sql("SELECT count(*) AS n FROM people").to_pylist() == [{"n": 100}]
    info = core.table("people")
    assert (info.title, info.department, info.rows, info.version, info.source) == (
        "人员",
        "测试局",
        100,
        1,
        "unit",
    )
    assert info.columns[0].personal and info.columns[0].check == "citizen_id"


def test_csv_with_a_bad_row_in_the_middle_fails_with_its_row_and_keeps_the_old_version(
    core: DataCore, tmp_path: Path
) -> None:
    core.load(PEOPLE, as_table(people_rows(10)), today=TODAY)
    rows = people_rows(50, seed=2)
    bad = dict(rows[24])
    good_id = str(bad["citizen_id"])
    bad["citizen_id"] = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    rows[24] = bad
    path = write_csv(tmp_path / "people.csv", rows)
    with pytest.raises(LoadError) as caught:
        core.load(PEOPLE, path, today=TODAY)
    error = caught.value.errors[0]
    # The 25th data row is row 26 as a spreadsheet shows the file, under its header.
    assert (error.row, error.column) == (26, "citizen_id")
    # Said in Chinese for people (a page, an API answer), in English for the command line.
    assert "校验位" in error.said and "check character" in error.said.en
    assert "row 26" in str(caught.value)
    # The previous version is still the one served, untouched.
    assert core.table("people").version == 1
    assert core.sql("SELECT count(*) AS n FROM people").to_pylist() == [{"n": 10}]
    assert not list((core.main.table_dir("people")).glob(".staging-*"))


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"born": "2020-02-30"}, "born", "not a valid date"),
        ({"wage_fen": "12.5元"}, "wage_fen", "not a valid int64"),
        ({"name": ""}, "name", "required value is missing"),
        ({"sex": "X"}, "sex", "not one of M, F"),
        ({"district": "990000"}, "district", "division code"),
    ],
)
def test_each_kind_of_bad_value_is_named(
    core: DataCore, tmp_path: Path, change: dict[str, str], column: str, reason: str
) -> None:
    rows = [{k: str(v) for k, v in r.items()} for r in people_rows(5)]
    rows[3].update(change)
    path = write_csv(tmp_path / "p.csv", rows)
    with pytest.raises(LoadError) as caught:
        core.load(PEOPLE, path, today=TODAY)
    first = caught.value.errors[0]
    assert (first.row, first.column) == (5, column)
    assert reason in first.reason
    with pytest.raises(TableNotFound):
        core.table("people")


def test_missing_and_unknown_columns(core: DataCore) -> None:
    table = as_table(people_rows(3)).drop_columns(["born"])
    table = table.append_column("extra", pa.array([1, 2, 3]))
    with pytest.raises(LoadError) as caught:
        core.load(PEOPLE, table, today=TODAY)
    assert {(e.column, e.reason.split(" ")[0]) for e in caught.value.errors} == {
        ("born", "missing"),
        ("extra", "unknown"),
    }


def test_duplicate_keys_are_refused(core: DataCore) -> None:
    rows = people_rows(5)
    rows.append(dict(rows[0]))
    with pytest.raises(LoadError, match="duplicate key"):
        core.load(PEOPLE, as_table(rows), today=TODAY)


def test_versions_and_history(core: DataCore) -> None:
    for n in (3, 4, 5, 6):
        core.load(PEOPLE, as_table(people_rows(n, seed=n)), today=TODAY)
    assert core.table("people").version == 4
    assert [h.rows for h in core.history("people")][-3:] == [4, 5, 6]
    # Older versions are collected; the last three stay.
    assert len(core.history("people")) == 3


def test_event_tables_take_atomic_appends(core: DataCore) -> None:
    cid = people_rows(1)[0]["citizen_id"]
    batch = as_table([{"citizen_id": cid, "day": date(2026, 1, d)} for d in range(1, 4)], VISITS)
    core.load(VISITS, batch, today=TODAY)
    result = core.load(VISITS, batch, append=True, today=TODAY)
    assert (result.rows, result.written, result.operation) == (6, 3, "append")
    bad = as_table([{"citizen_id": "123", "day": date(2026, 1, 9)}], VISITS)
    with pytest.raises(LoadError):
        core.load(VISITS, batch.to_batches() + bad.to_batches(), append=True, today=TODAY)
    assert core.sql("SELECT count(*) AS n FROM visits").to_pylist() == [{"n": 6}]


def test_appends_only_to_event_tables(core: DataCore) -> None:
    with pytest.raises(LoadError, match="not an event table"):
        core.load(PEOPLE, as_table(people_rows(2)), append=True, today=TODAY)


def test_parquet_and_arrow_files_load(core: DataCore, tmp_path: Path) -> None:
    table = as_table(people_rows(20))
    pq.write_table(table, tmp_path / "p.parquet")
    assert core.load(PEOPLE, tmp_path / "p.parquet", today=TODAY).rows == 20
    sink = pa.OSFile(str(tmp_path / "p.arrow"), "wb")
    with sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    assert core.load(PEOPLE, tmp_path / "p.arrow", today=TODAY).version == 2
    with pytest.raises(LoadError, match="unsupported file type"):
        core.load(PEOPLE, tmp_path / "p.xlsx", today=TODAY)


@pytest.mark.parametrize(
    "query",
    [
        "DROP VIEW people",
        "SELECT 1; SELECT 2",
        "COPY (SELECT 1) TO 'x.csv'",
        "CREATE TABLE t AS SELECT 1",
        "SET enable_external_access = true",
        "PRAGMA version",
        "ATTACH 'x.db'",
        "INSTALL httpfs",
        "SELEC 1",
    ],
)
def test_only_single_selects_run(core: DataCore, query: str) -> None:
    core.load(PEOPLE, as_table(people_rows(2)), today=TODAY)
    with pytest.raises(QueryRefused):
        core.sql(query)


def test_select_cannot_read_other_files_or_the_truth(core: DataCore, tmp_path: Path) -> None:
    core.load(PEOPLE, as_table(people_rows(2)), today=TODAY)
    core.load(TRUTH, pa.table({"citizen_id": [people_rows(1)[0]["citizen_id"]]}), today=TODAY)
    assert [t.name for t in core.tables()] == ["people"]
    truth_files = list((tmp_path / "truth").rglob("*.parquet"))
    assert truth_files
    for query in (
        "SELECT * FROM truth_secret",
        "SELECT * FROM truth.truth_secret",
        f"SELECT * FROM read_parquet('{truth_files[0]}')",
        f"SELECT * FROM '{truth_files[0]}'",
        "SELECT * FROM read_csv('/etc/passwd')",
    ):
        with pytest.raises(QueryRefused):
            core.sql(query)
    opened = DataCore(tmp_path / "datacore", tmp_path / "truth", truth=True)
    assert opened.sql("SELECT count(*) AS n FROM truth.truth_secret").to_pylist() == [{"n": 1}]
    assert {t.name for t in opened.tables()} == {"people", "truth_secret"}


def test_readers_never_see_a_half_loaded_table(core: DataCore) -> None:
    core.load(PEOPLE, as_table(people_rows(200, seed=1)), today=TODAY)
    seen: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(core.sql("SELECT count(*) AS n FROM people").column("n")[0].as_py())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(5):
            core.load(PEOPLE, as_table(people_rows(300 + i, seed=i + 2)), today=TODAY)
    finally:
        stop.set()
        reader.join()
    assert seen <= {200, 300, 301, 302, 303, 304}


def test_empty_load_publishes_an_empty_table(core: DataCore) -> None:
    core.load(PEOPLE, PEOPLE.arrow_schema.empty_table(), today=TODAY)
    assert core.sql("SELECT count(*) AS n FROM people").to_pylist() == [{"n": 0}]


def test_duplicate_keys_are_found_when_the_check_runs_in_passes(
    core: DataCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shuhui.datacore.store as store

    # Big tables check their keys a slice of the hash space at a time; make 50 rows "big".
    monkeypatch.setattr(store, "KEY_CHECK_ROWS_PER_PASS", 7)
    rows = people_rows(50)
    assert core.load(PEOPLE, as_table(rows), today=TODAY).rows == 50
    rows.append(dict(rows[31]))
    with pytest.raises(LoadError, match=f"duplicate key \\('{rows[31]['citizen_id']}',\\)"):
        core.load(PEOPLE, as_table(rows), today=TODAY)
    assert core.table("people").rows == 50


def test_entity_tables_are_stored_sorted_by_key_in_small_row_groups(core: DataCore) -> None:
    """So one person's row is found by reading one row group (Parquet min/max), not the table."""
    unique = {r["citizen_id"]: r for r in people_rows(CLUSTER_ROW_GROUP * 2 + 500, seed=5)}
    rows = list(unique.values())[: CLUSTER_ROW_GROUP * 2 + 123]
    batches = [as_table(rows[i : i + 7_000]).to_batches()[0] for i in range(0, len(rows), 7_000)]
    core.load(PEOPLE, batches, source="unit", today=TODAY)
    info = core.table("people")
    folder = core.main.table_dir("people")
    manifest = core._manifest(core.main, "people", info.version)
    (only,) = manifest.files
    meta = pq.ParquetFile(folder / only).metadata
    assert meta.num_rows == len(rows) and meta.num_row_groups == 3
    stored = pq.read_table(folder / only)
    keys = stored.column("citizen_id").to_pylist()
    assert keys == sorted(r["citizen_id"] for r in rows)  # every row, in key order
    assert stored.schema.equals(PEOPLE.arrow_schema, check_metadata=False)
    # Each row group holds a disjoint key range, so a lookup reads one of them.
    bounds = [
        (meta.row_group(g).column(0).statistics.min, meta.row_group(g).column(0).statistics.max)
        for g in range(meta.num_row_groups)
    ]
    assert all(a[1] < b[0] for a, b in itertools.pairwise(bounds))
    one = rows[777]
    found = core.sql(f"SELECT name, born FROM people WHERE citizen_id = '{one['citizen_id']}'")
    assert found.to_pylist() == [{"name": one["name"], "born": one["born"]}]


def _stored_keys(core: DataCore, spec: TableSpec) -> list[list[str]]:
    """The citizen ids of each file of the table's current version, in stored order."""
    manifest = core._manifest(core.main, spec.name, core.table(spec.name).version)
    folder = core.main.table_dir(spec.name)
    return [pq.read_table(folder / f).column("citizen_id").to_pylist() for f in manifest.files]


def test_event_tables_are_sorted_at_a_full_load_up_to_a_size_and_appends_keep_their_order(
    core: DataCore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shuhui.datacore.store as store

    keyed = dataclasses.replace(VISITS, name="deaths", primary_key=("citizen_id",))
    people = list({r["citizen_id"]: r for r in people_rows(CLUSTER_ROW_GROUP + 900, seed=9)})
    ids = people[: CLUSTER_ROW_GROUP + 600]

    def events(these: list[str]) -> pa.Table:
        return as_table([{"citizen_id": i, "day": TODAY} for i in these], keyed)

    core.load(keyed, events(ids[:-100]), source="unit", today=TODAY)
    assert _stored_keys(core, keyed) == [sorted(ids[:-100])]  # one file, sorted
    # An append is a new part in arrival order; the sorted part is untouched.
    core.load(keyed, events(ids[-100:]), source="unit", append=True, today=TODAY)
    assert _stored_keys(core, keyed) == [sorted(ids[:-100]), ids[-100:]]
    found = core.sql(f"SELECT count(*) AS n FROM deaths WHERE citizen_id = '{ids[-1]}'")
    assert found.to_pylist() == [{"n": 1}]
    # Past the bound, a full load keeps arrival order (several parts, as they came).
    monkeypatch.setattr(store, "CLUSTER_EVENT_MAX_ROWS", CLUSTER_ROW_GROUP)
    core.load(keyed, events(ids), source="unit", today=TODAY)
    assert [k for part in _stored_keys(core, keyed) for k in part] == ids
    # Without a primary key there is nothing to sort by.
    core.load(VISITS, events(ids[: CLUSTER_ROW_GROUP + 50]), source="unit", today=TODAY)
    stored = [k for part in _stored_keys(core, VISITS) for k in part]
    assert stored == ids[: CLUSTER_ROW_GROUP + 50]


def test_a_connection_for_some_tables_sees_only_them(core: DataCore, tmp_path: Path) -> None:
    rows = people_rows(20)
    core.load(PEOPLE, as_table(rows), source="unit", today=TODAY)
    core.load(
        VISITS,
        as_table([{"citizen_id": r["citizen_id"], "day": TODAY} for r in rows], VISITS),
        source="unit",
        today=TODAY,
    )
    con = core.connect(tables=["visits"])
    try:
        assert con.execute("SELECT count(*) FROM visits").fetchall() == [(20,)]
        with pytest.raises(duckdb.CatalogException, match="people"):
            con.execute("SELECT count(*) FROM people")
        with pytest.raises(duckdb.PermissionException):  # and no file outside the data core
            con.execute(f"SELECT * FROM read_csv('{tmp_path}/x.csv')")
    finally:
        con.close()


def test_arrow_rows_are_numbered_from_one_and_csv_rows_under_the_header(
    core: DataCore, tmp_path: Path
) -> None:
    rows = people_rows(6, seed=4)
    rows[2]["sex"] = "X"
    with pytest.raises(LoadError) as from_arrow:
        core.load(PEOPLE, as_table(rows), today=TODAY)
    assert (from_arrow.value.errors[0].row, from_arrow.value.errors[0].column) == (3, "sex")
    pq.write_table(as_table(rows), tmp_path / "p.parquet")
    with pytest.raises(LoadError) as from_parquet:
        core.load(PEOPLE, tmp_path / "p.parquet", today=TODAY)
    assert from_parquet.value.errors[0].row == 3
    with pytest.raises(LoadError) as from_csv:
        core.load(PEOPLE, write_csv(tmp_path / "p.csv", rows), today=TODAY)
    assert from_csv.value.errors[0].row == 4


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(min_value=1, max_value=40),
    bad=st.data(),
    fields=st.sampled_from([1, 3, 5, 7, 9]),
)
def test_a_ragged_csv_row_is_named_whatever_its_place(
    tmp_path: Path, rows: int, bad: st.DataObject, fields: int
) -> None:
    at = bad.draw(st.integers(min_value=0, max_value=rows - 1))
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # one per example: the fixture is shared
    path = write_csv(
        folder / "p.csv", [{k: str(v) for k, v in r.items()} for r in people_rows(rows)]
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[at + 1] = ",".join(["1"] * fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    core = DataCore(folder / "datacore", folder / "truth")
    with pytest.raises(LoadError) as caught:
        core.load(PEOPLE, path, today=TODAY)
    (error,) = caught.value.errors
    assert error.row == at + 2  # the header is row 1
    assert f"{fields} fields where the header has 6" in error.reason
    assert error.column == ([c.name for c in PEOPLE.columns][fields] if fields < 6 else None)
    with pytest.raises(TableNotFound):
        core.table("people")


def test_a_load_reports_the_rows_read_as_it_goes(core: DataCore) -> None:
    table = as_table(people_rows(30))
    seen: list[int] = []
    core.load(PEOPLE, table.to_batches(max_chunksize=10), today=TODAY, progress=seen.append)
    assert seen == [10, 20, 30]

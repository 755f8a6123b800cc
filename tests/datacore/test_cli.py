"""``shuhui data …`` as an operator runs it, and the home page's view of the data core."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.datacore.schema import Column, TableSpec
from shuhui.datacore.store import DataCore
from shuhui.trust.crypto.sm import sm3_hex
from tests.datacore.test_store import PEOPLE, as_table, people_rows, write_csv
from tests.trust.test_keys import ledger_entries


def shuhui(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **os.environ,
            "SHUHUI_DATA_DIR": str(data_dir),
            "COLUMNS": "200",
            "SHUHUI_DEFAULT_LOCALE": "zh-CN",
            **(env or {}),
        },
    )


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data core holding one table, and an operational database not yet created (or, on
    PostgreSQL, an empty schema): ``data load`` migrates it, and records what it loads."""
    monkeypatch.setenv("SHUHUI_DATABASE_URL", database_url)
    core = DataCore(tmp_path / "datacore", tmp_path / "truth")
    core.load(PEOPLE, as_table(people_rows(30)), source="fixture")
    return tmp_path


def test_ls_and_show(data_dir: Path) -> None:
    listed = json.loads(shuhui(data_dir, "data", "ls", "--json").stdout)
    assert [(t["name"], t["rows"], t["version"]) for t in listed] == [("people", 30, 1)]
    shown = json.loads(shuhui(data_dir, "data", "show", "people", "--json").stdout)
    assert shown["columns"][0] == {
        "name": "citizen_id",
        "type": "string",
        "title": "身份证号",
        "required": True,
        "personal": True,
        "check": "citizen_id",
        "values": None,
    }
    assert shown["history"][0]["source"] == "fixture"
    human = shuhui(data_dir, "data", "ls").stdout
    assert "people" in human and "人员" in human
    assert shuhui(data_dir, "data", "show", "nothing").returncode == 1


def test_load_bad_file_keeps_previous_version(data_dir: Path, database_url: str) -> None:
    rows = [{k: str(v) for k, v in r.items()} for r in people_rows(40, seed=7)]
    rows[19]["born"] = "1990-13-01"
    path = write_csv(data_dir / "in.csv", rows)
    result = shuhui(data_dir, "data", "load", "people", str(path))
    assert result.returncode == 1
    # Row 21 as a spreadsheet shows the file: the header is row 1.
    assert "row 21, column born: not a valid date" in result.stderr
    assert "加载被拒绝：people 仍使用原版本" in result.stderr
    count = shuhui(data_dir, "data", "sql", "SELECT count(*) AS n FROM people", "--json")
    assert json.loads(count.stdout) == [{"n": 30}]
    # A refused load is no act: the ledger says nothing of it. The platform key was issued when
    # the database was readied, and the version the fixture published without the CLI (so without
    # its entry) was recovered before the load began, by the system, saying so.
    entries = ledger_entries(database_url)
    assert [e["action"] for e in entries] == ["key.issued", "data.loaded"]
    assert entries[1]["actor"] == "system" and entries[1]["detail"]["version"] == 1
    assert "recovered" in entries[1]["detail"]


def test_load_good_file_makes_a_new_version(data_dir: Path, database_url: str) -> None:
    pq.write_table(as_table(people_rows(12, seed=3)), data_dir / "ok.parquet")
    result = shuhui(data_dir, "data", "load", "people", str(data_dir / "ok.parquet"))
    assert result.returncode == 0, result.stderr
    assert "version 2" in result.stdout
    assert json.loads(shuhui(data_dir, "data", "ls", "--json").stdout)[0]["rows"] == 12
    # On a fresh data directory the database was migrated, the key issued, the fixture's version
    # recovered (it was published without an entry), the load recorded.
    assert [e["action"] for e in ledger_entries(database_url)] == [
        "key.issued",
        "data.loaded",
        "data.loaded",
    ]
    recovered, entry = ledger_entries(database_url, "data.loaded")
    assert (recovered["actor"], recovered["detail"]["version"]) == ("system", 1)
    assert (entry["actor"], entry["subject"]) == (f"cli:{getpass.getuser()}", "table:people")
    manifest = data_dir / "datacore" / "tables" / "people" / "v000002.json"
    assert entry["detail"] == {
        "version": 2,
        "rows": 12,
        "written": 12,
        "operation": "load",
        "truth": False,
        "manifest_sm3": sm3_hex(manifest.read_bytes()),
        "source": {
            "kind": "file",
            "format": "parquet",
            "path": str((data_dir / "ok.parquet").resolve()),
            "label": "ok.parquet",
        },
    }


def test_each_load_is_its_own_entry(data_dir: Path, database_url: str) -> None:
    rows = [{k: str(v) for k, v in r.items()} for r in people_rows(5, seed=9)]
    path = write_csv(data_dir / "five.csv", rows)
    for _ in range(2):
        loaded = shuhui(data_dir, "data", "load", "people", str(path), "--source", "户籍科 2026-11")
        assert loaded.returncode == 0, loaded.stderr
    recovered, *entries = ledger_entries(database_url, "data.loaded")
    assert (recovered["detail"]["version"], recovered["actor"]) == (1, "system")
    assert [(e["detail"]["version"], e["detail"]["rows"]) for e in entries] == [(2, 5), (3, 5)]
    assert {e["detail"]["source"]["format"] for e in entries} == {"csv"}
    assert {e["detail"]["source"]["label"] for e in entries} == {"户籍科 2026-11"}


def test_sql_refuses_writes_with_a_clear_error(data_dir: Path) -> None:
    result = shuhui(data_dir, "data", "sql", "DELETE FROM people")
    assert result.returncode == 2
    assert "only a SELECT" in result.stderr
    rows = json.loads(
        shuhui(
            data_dir,
            "data",
            "sql",
            "WITH a AS (SELECT sex FROM people) SELECT count(*) AS n FROM a",
            "--json",
        ).stdout
    )
    assert rows == [{"n": 30}]


def test_home_page_shows_the_data_core(client: TestClient, app: FastAPI) -> None:
    empty = client.get("/").text
    assert 'id="table-count">0<' in empty
    settings = app.state.settings
    DataCore.from_settings(settings).load(PEOPLE, as_table(people_rows(1234)))
    page = client.get("/").text
    assert 'id="table-count">1<' in page
    assert 'id="row-total">1,234<' in page


def test_a_mistyped_table_name_is_answered_with_the_nearest(data_dir: Path) -> None:
    shown = shuhui(data_dir, "data", "show", "peple")
    assert shown.returncode == 1
    assert "没有名为 peple 的表。您是不是要找：people？" in shown.stderr
    english = shuhui(data_dir, "data", "show", "peple", env={"SHUHUI_DEFAULT_LOCALE": "en"})
    assert "No table named peple. Did you mean: people?" in english.stderr
    # A load names the tables of the city's data standard too, not yet loaded.
    loaded = shuhui(data_dir, "data", "load", "resident", str(data_dir / "any.csv"))
    assert loaded.returncode == 1
    assert "没有名为 resident 的表。您是不是要找：residents？" in loaded.stderr
    far = shuhui(data_dir, "data", "show", "zzzz")
    assert "没有名为 zzzz 的表。" in far.stderr and "您是不是要找" not in far.stderr


def test_a_ragged_csv_row_is_named_by_its_row_and_column(data_dir: Path) -> None:
    rows = [{k: str(v) for k, v in r.items()} for r in people_rows(12, seed=5)]
    path = write_csv(data_dir / "ragged.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[6] = lines[6].rsplit(",", 1)[0]  # row 7 as a spreadsheet shows it: sex left out
    lines[9] += ",extra"  # row 10: one field too many
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = shuhui(data_dir, "data", "load", "people", str(path))
    assert result.returncode == 1
    errors = " ".join(result.stderr.split())
    assert "row 7, column sex: 5 fields where the header has 6: sex missing" in errors
    assert "row 10: 7 fields where the header has 6" in errors
    count = shuhui(data_dir, "data", "sql", "SELECT count(*) AS n FROM people", "--json")
    assert json.loads(count.stdout) == [{"n": 30}]


def test_markup_in_values_and_names_is_shown_not_obeyed(data_dir: Path) -> None:
    rows = people_rows(3, seed=11)
    rows[0]["name"] = "[/red][bold]张三"
    rows[1]["name"] = ":cn: 李四"  # an emoji code is a value too, not a flag to draw
    DataCore(data_dir / "datacore", data_dir / "truth").load(
        PEOPLE, as_table(rows), source="[/green]"
    )
    queried = shuhui(data_dir, "data", "sql", "SELECT name FROM people ORDER BY name")
    assert queried.returncode == 0, queried.stderr
    assert "[/red][bold]张三" in queried.stdout
    assert ":cn: 李四" in queried.stdout
    shown = shuhui(data_dir, "data", "show", "people")
    assert shown.returncode == 0, shown.stderr
    assert "[/green]" in shown.stdout
    missing = shuhui(data_dir, "data", "show", "[/red]")
    assert missing.returncode == 1
    assert "没有名为 [/red] 的表" in missing.stderr


LONG = TableSpec(
    name="residential_address_registration_history",
    title="居住地址登记历史（含迁入迁出、分户合户及历次变更的完整记录）",
    department="青岛市公安局户政管理处人口信息管理科",
    columns=(Column("citizen_id", "string", "身份证号", personal=True, check="citizen_id"),),
)


def test_tables_keep_names_whole_and_wide_lays_them_out_in_full(data_dir: Path) -> None:
    core = DataCore(data_dir / "datacore", data_dir / "truth")
    core.load(LONG, pa.table({"citizen_id": [people_rows(1)[0]["citizen_id"]]}), source="t")
    narrow = shuhui(data_dir, "data", "ls", env={"COLUMNS": "80"})
    assert narrow.returncode == 0, narrow.stderr
    assert LONG.name in narrow.stdout  # on one line, whole: the title wraps instead
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    wide = shuhui(data_dir, "data", "ls", "--wide", env={"COLUMNS": "80"})
    assert LONG.title in wide.stdout and LONG.department in wide.stdout


def test_data_sql_cannot_read_or_write_under_the_working_directory(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    (work / ".tmp").mkdir(parents=True)
    (work / ".tmp" / "x.csv").write_text("secret\n42\n")
    monkeypatch.chdir(work)  # the command runs here, where DuckDB's default .tmp would be
    for query in (
        f"SELECT * FROM read_csv('{work}/.tmp/x.csv')",
        "SELECT * FROM read_csv('.tmp/x.csv')",
        f"COPY (SELECT 1) TO '{work}/.tmp/y.csv'",
    ):
        refused = shuhui(data_dir, "data", "sql", query)
        assert refused.returncode == 2, (query, refused.stdout)
        assert "查询被拒绝" in refused.stderr
        assert "42" not in refused.stdout
    assert os.listdir(work / ".tmp") == ["x.csv"]

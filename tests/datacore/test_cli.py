"""``shuhui data …`` as an operator runs it, and the home page's view of the data core."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.datacore.store import DataCore
from shuhui.trust.crypto.sm import sm3_hex
from tests.datacore.test_store import PEOPLE, as_table, people_rows, write_csv
from tests.trust.test_keys import ledger_entries


def shuhui(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shuhui.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "SHUHUI_DATA_DIR": str(data_dir), "COLUMNS": "200"},
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
    assert "row 20, column born: not a valid date" in result.stderr
    assert "previous version" in result.stderr
    count = shuhui(data_dir, "data", "sql", "SELECT count(*) AS n FROM people", "--json")
    assert json.loads(count.stdout) == [{"n": 30}]
    # A refused load is no act: the ledger says nothing of it (the platform key, issued when the
    # database was readied, is all there is).
    assert [e["action"] for e in ledger_entries(database_url)] == ["key.issued"]


def test_load_good_file_makes_a_new_version(data_dir: Path, database_url: str) -> None:
    pq.write_table(as_table(people_rows(12, seed=3)), data_dir / "ok.parquet")
    result = shuhui(data_dir, "data", "load", "people", str(data_dir / "ok.parquet"))
    assert result.returncode == 0, result.stderr
    assert "version 2" in result.stdout
    assert json.loads(shuhui(data_dir, "data", "ls", "--json").stdout)[0]["rows"] == 12
    # On a fresh data directory the database was migrated, the key issued, the load recorded.
    assert [e["action"] for e in ledger_entries(database_url)] == ["key.issued", "data.loaded"]
    (entry,) = ledger_entries(database_url, "data.loaded")
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
    entries = ledger_entries(database_url, "data.loaded")
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

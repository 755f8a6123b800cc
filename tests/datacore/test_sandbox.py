"""The SQL sandbox reaches the published tables and its own spill folder, nothing else: not
DuckDB's default temp directory under the working directory (``<cwd>/.tmp/``), not the cwd."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from shuhui.datacore.errors import QueryRefused
from shuhui.datacore.spill import SPILL_DIR, spill_folder
from shuhui.datacore.store import DataCore
from tests.datacore.test_store import PEOPLE, TODAY, as_table, people_rows


@pytest.fixture
def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataCore:
    """A data core with one table, and a working directory holding ``.tmp/x.csv``."""
    work = tmp_path / "work"
    (work / ".tmp").mkdir(parents=True)
    (work / ".tmp" / "x.csv").write_text("secret\n42\n")
    (work / "x.csv").write_text("secret\n42\n")
    monkeypatch.chdir(work)
    core = DataCore(tmp_path / "datacore", tmp_path / "truth")
    core.load(PEOPLE, as_table(people_rows(3)), today=TODAY)
    return core


def setting(con: duckdb.DuckDBPyConnection, name: str) -> object:
    return con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_a_connection_reaches_neither_cwd_nor_its_tmp(core: DataCore, tmp_path: Path) -> None:
    work = tmp_path / "work"
    con = core.connect()
    try:
        assert con.execute("SELECT count(*) FROM people").fetchall() == [(3,)]
        for query in (
            f"SELECT * FROM read_csv('{work}/.tmp/x.csv')",
            "SELECT * FROM read_csv('.tmp/x.csv')",
            f"SELECT * FROM read_csv('{work}/x.csv')",
            f"COPY (SELECT 1) TO '{work}/.tmp/y.csv'",
            f"COPY (SELECT 1) TO '{work}/y.csv'",
            "COPY (SELECT 1) TO '.tmp/z.csv'",
        ):
            with pytest.raises(duckdb.PermissionException):
                con.execute(query)
        assert sorted(os.listdir(work)) == [".tmp", "x.csv"]
        assert os.listdir(work / ".tmp") == ["x.csv"]
        # What it may reach: the published tables, and a spill folder of its own in the core.
        temp = Path(str(setting(con, "temp_directory")))
        assert temp.parent == (tmp_path / "datacore" / SPILL_DIR).absolute()
        allowed = setting(con, "allowed_directories")
        assert sorted(map(str, allowed)) == sorted(  # type: ignore[call-overload]
            [f"{tmp_path / 'datacore' / 'tables'}/", f"{temp}/"]
        )
    finally:
        con.close()


def test_a_query_cannot_read_the_working_directory(core: DataCore, tmp_path: Path) -> None:
    for path in (f"{tmp_path}/work/.tmp/x.csv", ".tmp/x.csv"):
        with pytest.raises(QueryRefused, match="Permission"):
            core.sql(f"SELECT * FROM read_csv('{path}')")


def test_the_spill_folders_of_dead_processes_are_removed(tmp_path: Path) -> None:
    root = tmp_path / "datacore"
    mine = spill_folder(root)
    mine.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    host = socket.gethostname().replace(".", "-")
    left = root / SPILL_DIR / f"{host}.{dead.stdout.strip()}.0123456789abcdef"
    elsewhere = root / SPILL_DIR / f"another-host.{dead.stdout.strip()}.0123456789abcdef"
    for folder in (left, elsewhere):
        folder.mkdir()
        (folder / "duckdb_temp_block-1.block").write_bytes(b"x")
    fresh = spill_folder(root)
    assert fresh != mine and fresh.parent == mine.parent
    assert mine.exists()  # this process is alive
    assert not left.exists()
    assert elsewhere.exists()  # another host's process may be alive: not ours to judge

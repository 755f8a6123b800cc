"""The ``shuhui`` command starts light: ``--help`` and the light commands load none of the heavy
libraries (DuckDB, Arrow, SQLAlchemy, FastAPI) they do not use. What is imported is asserted,
not how long it takes (bench/bench_cli_start.py measures that)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("duckdb", "pyarrow", "sqlalchemy", "fastapi", "numpy", "alembic", "uvicorn")

# Runs the command in this process as the installed script does, then says which of the heavy
# libraries got imported, on the last line of stdout.
PROBE = """
import json, sys
from shuhui.cli import app
try:
    app(sys.argv[1:], prog_name="shuhui")
except SystemExit:
    pass
print(json.dumps(sorted(name for name in {heavy!r} if name in sys.modules)))
"""

GROUPS = ("db", "id", "data", "synth", "audit", "seal", "catalog", "rules", "users", "approval")


def loaded(args: list[str], data_dir: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SHUHUI_DATA_DIR": str(data_dir), "COLUMNS": "100"},
    )
    assert result.stdout, result.stderr
    heavy: list[str] = json.loads(result.stdout.splitlines()[-1])
    return heavy


@pytest.mark.parametrize(
    "args",
    [["--help"], *([group, "--help"] for group in GROUPS), ["id", "check", "11010519491231002X"]],
    ids=lambda args: " ".join(args),
)
def test_help_and_id_check_load_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    assert loaded(args, tmp_path) == []


def test_db_current_needs_the_database_libraries_only(tmp_path: Path) -> None:
    assert set(loaded(["db", "current"], tmp_path)) <= {"sqlalchemy", "alembic"}


def test_data_ls_needs_the_data_core_libraries_only(tmp_path: Path) -> None:
    assert set(loaded(["data", "ls"], tmp_path)) <= {"duckdb", "pyarrow", "numpy"}

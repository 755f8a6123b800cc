"""The ``shuhui`` command as a person runs it: a real process, real exit codes, JSON on stdout."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import shuhui
from shuhui.core.settings import Settings
from tests.browser.server import demo_said, server_env
from tests.fixtures import DEMO_ACCOUNTS

SHUHUI = [sys.executable, "-m", "shuhui.cli"]


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SHUHUI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_version() -> None:
    result = run("version")
    assert result.returncode == 0
    assert result.stdout.strip() == shuhui.__version__


def test_id_check_valid_citizen_id() -> None:
    result = run("id", "check", "11010519491231002X")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "value": "11010519491231002X",
        "valid": True,
        "kind": "citizen_id",
        "reason": None,
    }


def test_id_check_changed_last_character_says_check_character() -> None:
    result = run("id", "check", "110105194912310021")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["valid"] is False
    assert out["kind"] == "citizen_id"
    assert "校验位" in out["reason"]


def test_id_check_reads_stdin_one_value_per_line() -> None:
    result = run("id", "check", "-", stdin="11010519491231002X\n91110000600037341L\n\nabc\n")
    assert result.returncode == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["kind"], o["valid"]) for o in lines] == [
        ("citizen_id", True),
        ("credit_code", True),
        (None, False),
    ]


def test_id_check_all_valid_exits_zero() -> None:
    result = run("id", "check", "11010519491231002X", "91110000600037341L")
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 2


def test_id_check_empty_stdin_is_a_failure() -> None:
    assert run("id", "check", "-", stdin="").returncode == 1


def test_db_upgrade_and_demo_are_repeatable(prepared_demo: Path, tmp_path: Path) -> None:
    # The first run is the run's prepared demo (tests/fixtures.py): `shuhui demo` in an empty
    # data directory, as an operator runs it; the second runs over a copy of what it left.
    first = demo_said(prepared_demo).read_text(encoding="utf-8")
    accounts = len(DEMO_ACCOUNTS)
    assert f"{accounts} created" in first
    assert "demo city: 29 tables" in first
    assert "http://127.0.0.1:8000/login" in first
    assert "citizen" in first
    # The demo citizen and enterprise become members of the city, each with an offer waiting.
    said = " ".join(first.split())
    assert "demo citizen:" in said and "demo enterprise:" in said
    # Smart approval: a case history waiting for the officers, the agent's mandate signed.
    assert "demo approval:" in said and "demo daiban:" in said and "demo approver:" in said
    data_dir = tmp_path / "data"
    shutil.copytree(prepared_demo, data_dir)
    env = server_env(data_dir)
    second = run("demo", env=env)
    assert second.returncode == 0, second.stderr
    assert "demo citizen:" not in " ".join(second.stderr.split())  # bound once, kept
    assert "demo approval:" not in " ".join(second.stderr.split())  # made once
    assert f"0 created, {accounts} already there" in second.stderr
    assert "demo city already built: 29 tables" in second.stderr
    assert "demo enterprise account:" not in " ".join(second.stderr.split())
    current = run("db", "current", env=env)
    revisions = json.loads(current.stdout)
    assert revisions["current"] == revisions["head"] is not None


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run("serve", env={"SHUHUI_DATA_DIR": str(tmp_path / "empty")})
    assert result.returncode == 2
    assert "shuhui db upgrade" in result.stderr


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_serve_on_a_busy_port_says_which_setting_to_change(
    migrated: Settings, busy_port: int
) -> None:
    env = {
        "SHUHUI_DATA_DIR": str(migrated.data_dir),
        "SHUHUI_DATABASE_URL": migrated.sqlalchemy_url,
        "SHUHUI_DEFAULT_LOCALE": "zh-CN",
    }
    for args, extra in (
        (["--port", str(busy_port)], {}),
        # The port from the environment, and several workers: checked the same way.
        (["--workers", "2"], {"SHUHUI_PORT": str(busy_port)}),
    ):
        result = run("serve", *args, env={**env, **extra})
        said = " ".join(result.stderr.split())
        assert result.returncode == 1, result.stderr
        assert f"端口 {busy_port} 已被占用" in said
        assert "--port" in said and "SHUHUI_PORT" in said
        assert "terminate" not in said and "Traceback" not in said


def test_demo_takes_host_and_port_and_checks_the_port_before_building(
    tmp_path: Path, busy_port: int
) -> None:
    shown = run("demo", "--help", env={"COLUMNS": "200"})
    assert shown.returncode == 0
    assert "--port" in shown.stdout and "--host" in shown.stdout
    assert "SHUHUI_PORT" in shown.stdout
    data = tmp_path / "data"
    result = run(
        "demo", "--serve", "--port", str(busy_port),
        env={"SHUHUI_DATA_DIR": str(data), "SHUHUI_DEFAULT_LOCALE": "zh-CN"},
    )  # fmt: skip
    assert result.returncode == 1
    assert f"端口 {busy_port} 已被占用" in " ".join(result.stderr.split())
    assert not (data / "datacore").exists()  # refused before minutes of building

"""``shuhui users …`` through Typer's runner: a production install gets its first admin without
the demo, passwords come from a hidden prompt or stdin (never the command line), and every
change is in the ledger with the operator as actor."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from shuhui.cli import app as shuhui
from shuhui.core.db import make_engine, make_session_factory, transaction
from shuhui.core.settings import Settings, get_settings
from shuhui.trust.ledger.cli import cli_actor
from shuhui.trust.ledger.models import LedgerEntry
from shuhui.web.app import create_app

PASSWORD = "First-admin-2026"


@pytest.fixture
def runner(migrated: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command pointed at a migrated database without the demo accounts."""
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(migrated.data_dir))
    monkeypatch.setenv("SHUHUI_DATABASE_URL", migrated.sqlalchemy_url)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def users(runner: CliRunner, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(shuhui, ["users", *args], input=stdin)
    return result.exit_code, result.output


def web_login(settings: Settings, username: str, password: str) -> tuple[int, str]:
    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.post(
                "/api/v1/session", json={"username": username, "password": password}
            )
            return answer.status_code, answer.text
    finally:
        app.state.engine.dispose()


def ledger(settings: Settings, action: str) -> list[dict[str, object]]:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with transaction(make_session_factory(engine)) as db:
            leaves = db.scalars(select(LedgerEntry.leaf).where(LedgerEntry.action == action))
            return [json.loads(leaf) for leaf in leaves]
    finally:
        engine.dispose()


def test_the_first_admin_is_made_at_the_server(runner: CliRunner, migrated: Settings) -> None:
    code, output = users(
        runner,
        "add", "root", "--name", "系统管理员", "--role", "admin", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0, output
    assert "root" in output
    status, body = web_login(migrated, "root", PASSWORD)
    assert status == 200, body
    assert json.loads(body)["roles"] == ["admin"]
    (entry,) = ledger(migrated, "account.created")
    assert entry["actor"] == cli_actor() and entry["subject"] == "user:root"
    listed = users(runner, "list")
    assert listed[0] == 0 and "root" in listed[1] and "系统管理员" in listed[1]


def test_the_password_is_asked_hidden_twice(runner: CliRunner, migrated: Settings) -> None:
    code, output = users(
        runner, "add", "root", "--name", "管理员", "--role", "admin",
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert code == 0, output
    assert PASSWORD not in output  # the prompt does not echo it
    assert web_login(migrated, "root", PASSWORD)[0] == 200


def test_a_password_is_never_taken_from_the_command_line(runner: CliRunner) -> None:
    code, output = users(
        runner, "add", "root", "--name", "x", "--role", "admin", "--password", PASSWORD
    )
    assert code == 2
    assert "No such option" in output


def test_a_weak_password_is_refused_with_the_rule(runner: CliRunner, migrated: Settings) -> None:
    code, output = users(
        runner, "add", "root", "--name", "x", "--role", "admin", "--password-stdin",
        stdin="12345678\n",
    )  # fmt: skip
    assert code == 2
    assert "密码不符合要求" in output
    assert web_login(migrated, "root", "12345678")[0] == 401


def test_passwd_roles_disable_and_enable(runner: CliRunner, migrated: Settings) -> None:
    def add(name: str, role: str) -> None:
        code, output = users(
            runner, "add", name, "--name", name, "--role", role, "--password-stdin",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert code == 0, output

    add("root", "admin")
    add("li.si", "officer")

    new = "Temporary-pass-9"
    code, output = users(runner, "passwd", "li.si", "--password-stdin", "--temporary", stdin=new)
    assert code == 0, output
    status, body = web_login(migrated, "li.si", new)
    assert status == 200 and json.loads(body)["must_change_password"] is True
    assert web_login(migrated, "li.si", PASSWORD)[0] == 401
    assert ledger(migrated, "account.password_reset")[0]["actor"] == cli_actor()

    code, output = users(runner, "roles", "li.si", "--role", "officer", "--role", "data_operator")
    assert code == 0, output
    assert json.loads(web_login(migrated, "li.si", new)[1])["roles"] == [
        "data_operator",
        "officer",
    ]

    # The last admin stays: refused, with the reason, and nothing recorded.
    code, output = users(runner, "disable", "root")
    assert code == 1 and "至少要保留一个" in output
    assert ledger(migrated, "account.disabled") == []

    code, output = users(runner, "disable", "li.si", "--reason", "调岗")
    assert code == 0, output
    assert web_login(migrated, "li.si", new)[0] == 401
    assert ledger(migrated, "account.disabled")[0]["detail"] == {"reason": "调岗"}
    assert users(runner, "enable", "li.si")[0] == 0
    assert web_login(migrated, "li.si", new)[0] == 200

    code, output = users(runner, "disable", "nobody")
    assert code == 1 and "不存在" in output


def test_names_with_markup_are_printed_as_typed(runner: CliRunner) -> None:
    # A name like ``[/red]`` crashed Rich's markup; ``[bold]`` styled; ``:cn:`` became a flag.
    for username, name in (("wang.wu", "[/red]"), ("zhao.liu", "[bold]x :cn:")):
        code, output = users(
            runner, "add", username, "--name", name, "--role", "citizen", "--password-stdin",
            stdin=PASSWORD + "\n",
        )  # fmt: skip
        assert code == 0, output
    code, output = users(runner, "list")
    assert code == 0, output
    assert "[/red]" in output and "[bold]x :cn:" in output
    code, output = users(runner, "passwd", "[/red]", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "[/red]" in output
    assert "Traceback" not in output

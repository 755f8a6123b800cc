"""Wrong passwords: a growing delay, then a 15-minute lockout, per account name and per client
address; counted in the database so that several server processes share the counts; said in
Chinese, with Retry-After; a success forgets the account's count; the lockout ends in time."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select, update

from shuhui.core.db import transaction
from shuhui.core.settings import Settings
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.models import LoginThrottle
from shuhui.trust.identity.throttle import POLICIES, Scope
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import csrf_from

pytestmark = pytest.mark.both_backends

ACCOUNT = POLICIES[Scope.account]
ADDRESS = POLICIES[Scope.address]


def from_address(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 50000))


def api_login(client: TestClient, username: str, password: str) -> Response:
    return client.post("/api/v1/session", json={"username": username, "password": password})


def end_delays(app: FastAPI) -> None:
    """As if the short delays had passed (the lockouts stay)."""
    with transaction(app.state.session_factory) as db:
        db.execute(update(LoginThrottle).values(delay_until=None))


def pass_time(app: FastAPI, minutes: int) -> None:
    """As if ``minutes`` had passed since every failure, delay and lockout recorded."""
    back = timedelta(minutes=minutes)
    with transaction(app.state.session_factory) as db:
        for row in db.scalars(select(LoginThrottle)):
            row.last_failed_at -= back
            row.delay_until = row.delay_until - back if row.delay_until else None
            row.locked_until = row.locked_until - back if row.locked_until else None


def fail(app: FastAPI, client: TestClient, username: str, times: int) -> list[Response]:
    answers = []
    for _ in range(times):
        answers.append(api_login(client, username, "wrong-password-1"))
        end_delays(app)
    return answers


def ledger_actions(app: FastAPI, prefix: str) -> list[dict[str, Any]]:
    with transaction(app.state.session_factory) as db:
        leaves = db.scalars(
            select(LedgerEntry.leaf)
            .where(LedgerEntry.action.startswith(prefix))
            .order_by(LedgerEntry.seq)
        )
        return [json.loads(leaf) for leaf in leaves]


def test_the_policy_delays_after_three_and_locks_at_ten() -> None:
    assert [ACCOUNT.delay(n) for n in range(1, 10)] == [0, 0, 0, 2, 4, 8, 16, 32, 60]
    assert (ACCOUNT.lock_after, ACCOUNT.lock_for) == (10, timedelta(minutes=15))
    assert (ADDRESS.free_failures, ADDRESS.lock_after) == (10, 30)


def test_an_account_is_delayed_then_locked_then_free_again(
    client: TestClient, app: FastAPI
) -> None:
    for answer in fail(app, client, "citizen", 3):
        assert answer.status_code == 401
    fourth = api_login(client, "citizen", "wrong-password-1")
    assert fourth.status_code == 401
    # The 4th failure starts a delay: even the right password waits, unchecked and uncounted.
    delayed = api_login(client, "citizen", DEMO_PASSWORD)
    assert delayed.status_code == 429
    assert delayed.headers["content-type"] == "application/problem+json"
    assert delayed.headers["retry-after"] == "2"
    problem = delayed.json()
    assert problem["type"] == "/problems/login-throttled"
    assert problem["title"] == "登录尝试过于频繁，请稍后再试"
    assert problem["retry_after"] == 2 and "2 秒后再试" in problem["detail"]
    end_delays(app)

    answers = fail(app, client, "citizen", ACCOUNT.lock_after - 4)
    assert answers[-2].json().get("failures_left") == 1
    locked = answers[-1]
    assert locked.status_code == 423
    assert locked.headers["retry-after"] == "900"
    assert locked.json()["type"] == "/problems/account-locked"
    assert locked.json()["title"] == "账户已临时锁定"
    assert "15 分 0 秒后再试" in locked.json()["detail"]
    still = api_login(client, "citizen", DEMO_PASSWORD)
    assert still.status_code == 423
    assert 890 <= int(still.headers["retry-after"]) <= 900
    (entry,) = ledger_actions(app, "account.locked")
    assert (entry["actor"], entry["subject"]) == ("system", "user:citizen")
    assert entry["detail"]["failures"] == ACCOUNT.lock_after

    # Other accounts from other addresses are not held up by this one.
    assert api_login(from_address(app, "10.9.9.9"), "officer", DEMO_PASSWORD).status_code == 200

    pass_time(app, 14)
    assert api_login(client, "citizen", DEMO_PASSWORD).status_code == 423
    pass_time(app, 2)
    assert api_login(client, "citizen", DEMO_PASSWORD).status_code == 200
    with transaction(app.state.session_factory) as db:
        rows = db.scalars(select(LoginThrottle).where(LoginThrottle.scope == "account")).all()
    assert rows == []  # the success forgot the account's count


def test_a_success_forgets_the_accounts_count(client: TestClient, app: FastAPI) -> None:
    fail(app, client, "citizen", 3)
    assert api_login(client, "citizen", DEMO_PASSWORD).status_code == 200
    client.cookies.clear()  # logged out again, as a guesser would be
    fail(app, client, "citizen", 3)
    # Three failures since the success: no delay yet, the next attempt is checked.
    assert api_login(client, "citizen", "wrong-password-1").status_code == 401
    assert api_login(client, "citizen", DEMO_PASSWORD).status_code == 429


def test_an_address_guessing_many_names_is_delayed_then_paused(app: FastAPI) -> None:
    guesser = from_address(app, "203.0.113.7")
    names = [f"guess{n:02d}" for n in range(ADDRESS.lock_after)]
    for name in names[: ADDRESS.free_failures + 1]:
        assert api_login(guesser, name, "wrong-password-1").status_code == 401
    delayed = api_login(guesser, "admin", DEMO_PASSWORD)
    assert delayed.status_code == 429
    assert delayed.json()["scope"] == "address" and delayed.json()["wait"] == "delay"
    end_delays(app)
    for name in names[ADDRESS.free_failures + 1 : -1]:
        assert api_login(guesser, name, "wrong-password-1").status_code == 401
        end_delays(app)
    paused = api_login(guesser, names[-1], "wrong-password-1")
    assert paused.status_code == 429
    assert paused.json()["wait"] == "locked"
    assert paused.headers["retry-after"] == "900"
    assert "此网络地址" in paused.json()["detail"]
    # The right password from that address waits too; from another address it works.
    assert api_login(guesser, "admin", DEMO_PASSWORD).status_code == 429
    assert api_login(from_address(app, "198.51.100.2"), "admin", DEMO_PASSWORD).status_code == 200
    (entry,) = ledger_actions(app, "login.address_locked")
    assert entry["subject"] == "address:203.0.113.7"
    assert ledger_actions(app, "account.locked") == []  # one failure per name locks no name
    pass_time(app, 16)
    assert api_login(guesser, "admin", DEMO_PASSWORD).status_code == 200


def test_the_login_page_says_how_long_to_wait_in_chinese(client: TestClient, app: FastAPI) -> None:
    fail(app, client, "citizen", ACCOUNT.lock_after - 1)
    token = csrf_from(client)
    page = client.post(
        "/login", data={"username": "citizen", "password": "wrong-password-1", "csrf_token": token}
    )
    assert page.status_code == 423
    assert page.headers["retry-after"] == "900"
    assert "账户已临时锁定" in page.text and "15 分 0 秒后" in page.text
    again = client.post(
        "/login", data={"username": "citizen", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert (
        again.status_code == 423 and "后再试" in again.text and "请系统管理员重置密码" in again.text
    )
    english = client.post(
        "/login?lang=en",
        data={"username": "citizen", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    assert "the account is locked" in english.text


def test_the_page_warns_before_the_lockout(client: TestClient, app: FastAPI) -> None:
    fail(app, client, "citizen", 4)
    token = csrf_from(client)
    page = client.post(
        "/login", data={"username": "citizen", "password": "wrong-password-1", "csrf_token": token}
    )
    assert page.status_code == 401
    assert "用户名或密码错误" in page.text and "再输错 5 次" in page.text
    delayed = client.post(
        "/login", data={"username": "citizen", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert delayed.status_code == 429
    assert "秒后再试" in delayed.text and delayed.headers["retry-after"] == "4"


def test_two_server_processes_share_the_count(app: FastAPI, migrated: Settings) -> None:
    from shuhui.web.app import create_app

    other = create_app(migrated)  # another process: its own engine, nothing shared in memory
    try:
        clients = [TestClient(app), TestClient(other)]
        for n in range(ACCOUNT.lock_after):
            answer = api_login(clients[n % 2], "citizen", "wrong-password-1")
            end_delays(app)
        assert answer.status_code == 423
        for c in clients:
            assert api_login(c, "citizen", DEMO_PASSWORD).status_code == 423
    finally:
        other.state.engine.dispose()


def test_each_failure_is_logged(
    client: TestClient, app: FastAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    api_login(client, "citizen", "wrong-password-1")
    api_login(client, "nobody.here", "wrong-password-1")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    failed = [line for line in lines if line.get("msg") == "login failed"]
    assert [line["login"] for line in failed] == ["citizen", "nobody.here"]
    assert failed[0]["account_failures"] == 1 and failed[0]["address"] == "testclient"
    assert all("wrong-password-1" not in json.dumps(line) for line in lines)

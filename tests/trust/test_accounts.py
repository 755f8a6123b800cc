"""Accounts end to end, through the API and the pages: a person changes their password, an admin
resets one (the person must then change it before anything else), edits, disables and re-roles
an account; every change in the ledger with who made it, and nothing half-done."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from shuhui.core.db import make_engine, transaction
from shuhui.core.migrate import upgrade
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.models import LoginSession, User
from shuhui.trust.identity.schemas import WEAK_PASSWORDS, password_strength
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user, csrf_from, login

HTML = {"accept": "text/html"}
NEW_PASSWORD = "Qingdao-2027"


def ledger_entries(app: FastAPI, action: str) -> list[dict[str, Any]]:
    with transaction(app.state.session_factory) as db:
        leaves = db.scalars(
            select(LedgerEntry.leaf).where(LedgerEntry.action == action).order_by(LedgerEntry.seq)
        )
        return [json.loads(leaf) for leaf in leaves]


def account(app: FastAPI, username: str) -> User:
    with transaction(app.state.session_factory) as db:
        user = db.scalar(select(User).where(User.username == username))
        assert user is not None
        db.expunge(user)
        return user


def sessions_of(app: FastAPI, username: str) -> int:
    with transaction(app.state.session_factory) as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(LoginSession)
                .join(User)
                .where(User.username == username)
            )
            or 0
        )


def api_login(app: FastAPI, username: str, password: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    response = client.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return client


def can_log_in(app: FastAPI, username: str, password: str) -> bool:
    response = TestClient(app).post(
        "/api/v1/session", json={"username": username, "password": password}
    )
    return response.status_code == 200


# --- the password rules ---------------------------------------------------------------------------


@given(password=st.text(max_size=40))
def test_a_password_passes_exactly_when_it_meets_the_stated_rules(password: str) -> None:
    kinds = sum(
        (
            any(c.isalpha() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    meets = len(password) >= 8 and kinds >= 2 and password.lower() not in WEAK_PASSWORDS
    try:
        password_strength(password)
    except ValueError as refused:
        assert not meets
        assert re.search(r"[\u4e00-\u9fff]", str(refused))  # said in Chinese
    else:
        assert meets


# --- a person changes their own password ---------------------------------------------------------


def test_a_person_changes_their_password_and_other_sessions_end(
    client: TestClient, app: FastAPI
) -> None:
    login(client, "citizen")
    elsewhere = as_user(app, "citizen")  # the same person on another device
    response = client.post(
        "/api/v1/me/password",
        json={"old_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.text
    assert response.json()["must_change_password"] is False
    assert client.get("/api/v1/me").status_code == 200  # this session goes on
    assert elsewhere.get("/api/v1/me").status_code == 401  # the other one has ended
    assert not can_log_in(app, "citizen", DEMO_PASSWORD)
    assert can_log_in(app, "citizen", NEW_PASSWORD)
    (entry,) = ledger_entries(app, "account.password_changed")
    assert (entry["actor"], entry["subject"]) == ("citizen", "user:citizen")
    assert account(app, "citizen").password_changed_at is not None


def test_a_password_change_is_refused_with_the_rule_in_chinese(
    client: TestClient, app: FastAPI
) -> None:
    login(client, "citizen")
    cases = [
        ({"old_password": "wrong-one-1", "new_password": NEW_PASSWORD}, "old_password", "原密码"),
        ({"old_password": DEMO_PASSWORD, "new_password": "short1"}, "new_password", "至少 8"),
        ({"old_password": DEMO_PASSWORD, "new_password": "onlyletters"}, "new_password", "两类"),
        ({"old_password": DEMO_PASSWORD, "new_password": "password1"}, "new_password", "弱密码"),
        ({"old_password": DEMO_PASSWORD, "new_password": "citizen-2027"}, "new_password", "用户名"),
        ({"old_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD}, "new_password", "相同"),
        (
            {
                "old_password": DEMO_PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_again": NEW_PASSWORD + "x",
            },
            "new_password_again",
            "不一致",
        ),
    ]
    for body, field, words in cases:
        response = client.post("/api/v1/me/password", json=body)
        assert response.status_code == 422, body
        problem = response.json()
        assert problem["field"] == field, problem
        assert words in problem["reason"], problem
    assert can_log_in(app, "citizen", DEMO_PASSWORD)  # nothing changed
    assert ledger_entries(app, "account.password_changed") == []


def test_the_password_page_states_the_rules_and_changes_it(
    client: TestClient, app: FastAPI
) -> None:
    token = login(client, "citizen")
    page = client.get("/account/password", headers=HTML)
    assert page.status_code == 200
    assert "至少 8 个字符" in page.text and "不能包含用户名" in page.text
    mismatch = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "old_password": DEMO_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": "Qingdao-2028",
        },
    )
    assert mismatch.status_code == 422
    assert 'data-field="new_password_again"' in mismatch.text
    assert "两次输入的新密码不一致" in mismatch.text
    done = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "old_password": DEMO_PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/account?changed=true"
    assert "密码已修改" in client.get(done.headers["location"], headers=HTML).text
    assert can_log_in(app, "citizen", NEW_PASSWORD)


# --- an admin resets a password; the person must change it first -------------------------------


def test_a_reset_forces_a_change_before_anything_else_api(client: TestClient, app: FastAPI) -> None:
    person = as_user(app, "citizen")
    login(client, "admin")
    reset = client.post("/api/v1/admin/users/citizen/password-reset")
    assert reset.status_code == 200, reset.text
    assert reset.headers["cache-control"] == "no-store"
    temporary = reset.json()["temporary_password"]
    assert reset.json()["must_change_password"] is True
    assert person.get("/api/v1/me").status_code == 401  # the reset ended its sessions
    assert not can_log_in(app, "citizen", DEMO_PASSWORD)

    person = api_login(app, "citizen", temporary)
    me = person.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["must_change_password"] is True
    refused = person.get("/api/v1/authorisations")
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/password-change-required"
    assert refused.json()["title"] == "请先修改密码"

    person.headers["x-csrf-token"] = csrf_from(person, "/account/password")
    changed = person.post(
        "/api/v1/me/password", json={"old_password": temporary, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["must_change_password"] is False
    assert person.get("/api/v1/authorisations").status_code == 200
    (entry,) = ledger_entries(app, "account.password_reset")
    assert (entry["actor"], entry["subject"]) == ("admin", "user:citizen")
    assert temporary not in json.dumps(entry)
    (after,) = ledger_entries(app, "account.password_changed")
    assert after["detail"] == {"after_reset": True}


def test_a_reset_through_the_pages_asks_first_and_the_person_must_change(
    client: TestClient, app: FastAPI
) -> None:
    token = login(client, "admin")
    confirm = client.get("/admin/users/citizen/reset-password", headers=HTML)
    assert confirm.status_code == 200
    assert "重置" in confirm.text and "原密码立即失效" in confirm.text
    assert ledger_entries(app, "account.password_reset") == []  # asking changes nothing
    # A single post (forged, scripted) is asked the question again and changes nothing.
    forged = client.post("/admin/users/citizen/reset-password", data={"csrf_token": token})
    assert forged.status_code == 200 and "原密码立即失效" in forged.text
    assert 'id="temporary-password"' not in forged.text
    assert 'name="confirm" value="yes"' in forged.text
    assert ledger_entries(app, "account.password_reset") == []
    assert account(app, "citizen").must_change_password is False
    shown = client.post(
        "/admin/users/citizen/reset-password", data={"csrf_token": token, "confirm": "yes"}
    )
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    found = re.search(r'id="temporary-password"[^>]*>([^<]+)<', shown.text)
    assert found, shown.text
    temporary = found.group(1)

    person = TestClient(app, raise_server_exceptions=False)
    person_token = csrf_from(person)
    logged_in = person.post(
        "/login",
        data={"username": "citizen", "password": temporary, "csrf_token": person_token},
        follow_redirects=False,
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == "/account/password"
    # Every other page sends the person back to the password page.
    for path in ("/", "/account", "/me/authorisations"):
        elsewhere = person.get(path, headers=HTML, follow_redirects=False)
        assert elsewhere.status_code == 303, path
        assert elsewhere.headers["location"] == "/account/password"
    page = person.get("/account/password", headers=HTML)
    assert "管理员已重置您的密码" in page.text
    changed = person.post(
        "/account/password",
        data={
            # The login session's token, from the page: the login page's died at login.
            "csrf_token": csrf_from(person, "/account/password"),
            "old_password": temporary,
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert person.get("/account", headers=HTML).status_code == 200
    assert account(app, "citizen").must_change_password is False


# --- an admin edits, disables and re-roles an account ------------------------------------------


def test_an_admin_edits_an_account_api(client: TestClient, app: FastAPI) -> None:
    login(client, "admin")
    response = client.patch(
        "/api/v1/admin/users/officer",
        json={"display_name": "人社局 李科长", "department": "青岛市人力资源和社会保障局办公室"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "人社局 李科长"
    (entry,) = ledger_entries(app, "account.updated")
    assert (entry["actor"], entry["subject"]) == ("admin", "user:officer")
    assert entry["detail"]["before"] == {
        "display_name": "人社局 李科员",
        "department": "青岛市人力资源和社会保障局",
    }
    # The same again changes nothing and records nothing.
    client.patch("/api/v1/admin/users/officer", json={"display_name": "人社局 李科长"})
    assert len(ledger_entries(app, "account.updated")) == 1
    empty = client.patch("/api/v1/admin/users/officer", json={"display_name": ""})
    assert empty.status_code == 422 and empty.json()["field"] == "display_name"
    assert client.patch("/api/v1/admin/users/nobody", json={}).status_code == 404


def test_an_admin_edits_an_account_on_its_page(client: TestClient, app: FastAPI) -> None:
    token = login(client, "admin")
    listing = client.get("/admin/users", headers=HTML)
    assert 'href="/admin/users/officer"' in listing.text and "管理" in listing.text
    page = client.get("/admin/users/officer", headers=HTML)
    assert page.status_code == 200 and 'value="人社局 李科员"' in page.text
    refused = client.post(
        "/admin/users/officer", data={"csrf_token": token, "display_name": "", "department": ""}
    )
    assert refused.status_code == 422
    assert 'data-field="display_name"' in refused.text
    saved = client.post(
        "/admin/users/officer",
        data={"csrf_token": token, "display_name": "李科长", "department": ""},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "已保存账户信息" in client.get(saved.headers["location"], headers=HTML).text
    officer = account(app, "officer")
    assert (officer.display_name, officer.department) == ("李科长", None)


def test_a_disabled_account_cannot_log_in_and_its_sessions_end_api(
    client: TestClient, app: FastAPI
) -> None:
    person = as_user(app, "citizen")
    login(client, "admin")
    response = client.put(
        "/api/v1/admin/users/citizen/active", json={"active": False, "reason": "离职"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert sessions_of(app, "citizen") == 0
    assert person.get("/api/v1/me").status_code == 401
    assert not can_log_in(app, "citizen", DEMO_PASSWORD)
    (entry,) = ledger_entries(app, "account.disabled")
    assert (entry["actor"], entry["detail"]) == ("admin", {"reason": "离职"})

    enabled = client.put("/api/v1/admin/users/citizen/active", json={"active": True})
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    assert can_log_in(app, "citizen", DEMO_PASSWORD)
    assert ledger_entries(app, "account.enabled")[0]["actor"] == "admin"


def test_disabling_on_the_page_says_what_will_happen_first(
    client: TestClient, app: FastAPI
) -> None:
    as_user(app, "citizen")
    token = login(client, "admin")
    page = client.get("/admin/users/citizen", headers=HTML)
    assert 'href="/admin/users/citizen/disable"' in page.text
    confirm = client.get("/admin/users/citizen/disable", headers=HTML)
    assert confirm.status_code == 200
    assert "不能再登录" in confirm.text and "1 个登录会话" in confirm.text
    assert account(app, "citizen").is_active  # asking changed nothing
    forged = client.post(
        "/admin/users/citizen/disable",
        data={"csrf_token": token, "reason": "账户被盗用"},
        follow_redirects=False,
    )
    assert forged.status_code == 200 and "不能再登录" in forged.text
    assert 'value="账户被盗用"' in forged.text  # the reason typed is kept for the answer
    assert account(app, "citizen").is_active and ledger_entries(app, "account.disabled") == []
    done = client.post(
        "/admin/users/citizen/disable",
        data={"csrf_token": token, "reason": "账户被盗用", "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "已停用账户" in client.get(done.headers["location"], headers=HTML).text
    assert not can_log_in(app, "citizen", DEMO_PASSWORD)
    enabled = client.post(
        "/admin/users/citizen/enable", data={"csrf_token": token}, follow_redirects=False
    )
    assert enabled.status_code == 303
    assert can_log_in(app, "citizen", DEMO_PASSWORD)


def test_the_last_admin_cannot_be_disabled_or_lose_the_role(
    client: TestClient, app: FastAPI
) -> None:
    token = login(client, "admin")
    myself = client.put("/api/v1/admin/users/admin/active", json={"active": False})
    assert myself.status_code == 409
    last = client.put("/api/v1/admin/users/admin/roles", json={"roles": ["officer"]})
    assert last.status_code == 409
    assert "至少要保留一个" in last.json()["detail"]
    page = client.post("/admin/users/admin/roles", data={"csrf_token": token, "roles": "officer"})
    assert page.status_code == 409 and "至少要保留一个" in page.text
    assert ledger_entries(app, "account.roles_changed") == []
    assert ledger_entries(app, "account.disabled") == []
    # With a second admin, the first may step down.
    client.put("/api/v1/admin/users/operator/roles", json={"roles": ["admin", "data_operator"]})
    assert (
        client.put("/api/v1/admin/users/admin/roles", json={"roles": ["officer"]}).status_code
        == 200
    )


def test_an_admin_changes_roles_on_the_page(client: TestClient, app: FastAPI) -> None:
    token = login(client, "admin")
    none = client.post("/admin/users/officer/roles", data={"csrf_token": token})
    assert none.status_code == 422 and 'data-field="roles"' in none.text
    done = client.post(
        "/admin/users/officer/roles",
        data={"csrf_token": token, "roles": ["officer", "data_operator"]},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "已更新角色" in client.get(done.headers["location"], headers=HTML).text
    (entry,) = ledger_entries(app, "account.roles_changed")
    assert entry["actor"] == "admin"
    assert entry["detail"] == {"before": ["officer"], "after": ["data_operator", "officer"]}
    assert as_user(app, "officer").get("/api/v1/me").json()["roles"] == [
        "data_operator",
        "officer",
    ]


def test_account_pages_and_calls_are_for_admins_only(client: TestClient) -> None:
    token = login(client, "officer")
    assert client.get("/admin/users/citizen", headers=HTML).status_code == 403
    assert (
        client.post("/admin/users/citizen/disable", data={"csrf_token": token}).status_code == 403
    )
    assert client.post("/api/v1/admin/users/citizen/password-reset").status_code == 403


# --- the migration ------------------------------------------------------------------------------


def test_the_migration_keeps_existing_accounts_as_they_were(database_url: str) -> None:
    upgrade(database_url, "0013")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, display_name, password_hash, is_active, created_at)"
                " VALUES ('old', 'Old', 'x', true, CURRENT_TIMESTAMP)"
            )
        )
    upgrade(database_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT must_change_password, password_changed_at FROM users")
        ).one()
        throttles = conn.execute(text("SELECT count(*) FROM login_throttles")).scalar()
    engine.dispose()
    assert (bool(row[0]), row[1], throttles) == (False, None, 0)

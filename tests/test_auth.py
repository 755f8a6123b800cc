"""Accounts through the API and the forms: login, logout, roles, CSRF, and nothing half-written."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.core.http import SESSION_COOKIE
from shuhui.trust.identity import service as identity_service
from shuhui.trust.identity.models import LoginSession, User
from tests.fixtures import csrf_from, login

NEW_USER = {
    "username": "wang.wu",
    "display_name": "王五",
    "password": "a-long-password",
    "roles": ["citizen"],
    "citizen_id": "11010519491231002X",
}


def count_users(app: FastAPI) -> int:
    with transaction(app.state.session_factory) as db:
        return int(db.scalar(select(func.count()).select_from(User)) or 0)


def test_login_form_sets_session_and_me_answers(client: TestClient) -> None:
    login(client, "citizen")
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    body = me.json()
    assert body["username"] == "citizen"
    assert body["roles"] == ["citizen"]
    assert body["last_login_at"] is not None


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    token = csrf_from(client)
    response = client.post(
        "/login",
        data={"username": "officer", "password": "Shuhui@2026", "csrf_token": token},
        follow_redirects=False,
    )
    cookie = next(h for h in response.headers.get_list("set-cookie") if SESSION_COOKIE in h)
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()


def test_wrong_password_is_refused_on_the_page(client: TestClient) -> None:
    token = csrf_from(client)
    response = client.post(
        "/login", data={"username": "citizen", "password": "nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert client.get("/api/v1/me").status_code == 401


def test_json_login_wrong_password_is_problem_json(client: TestClient) -> None:
    response = client.post("/api/v1/session", json={"username": "admin", "password": "wrong"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/invalid-credentials"


def test_json_login_and_logout(client: TestClient) -> None:
    response = client.post("/api/v1/session", json={"username": "admin", "password": "Shuhui@2026"})
    assert response.status_code == 200
    assert client.get("/api/v1/me").json()["username"] == "admin"
    client.headers["x-csrf-token"] = csrf_from(client)
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_logout_ends_the_session_on_the_server(client: TestClient) -> None:
    token = login(client, "citizen")
    stolen = client.cookies.get(SESSION_COOKIE)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    # Replaying the old cookie after logout must not work: the session is gone server-side.
    client.cookies.set(SESSION_COOKIE, stolen or "")
    assert client.get("/api/v1/me").status_code == 401


def test_expired_session_is_not_accepted(client: TestClient, app: FastAPI) -> None:
    login(client, "citizen")
    with transaction(app.state.session_factory) as db:
        db.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/me").status_code == 401


def test_disabled_account_cannot_log_in_and_loses_its_session(
    client: TestClient, app: FastAPI
) -> None:
    login(client, "citizen")
    with transaction(app.state.session_factory) as db:
        db.execute(update(User).where(User.username == "citizen").values(is_active=False))
    assert client.get("/api/v1/me").status_code == 401
    response = client.post(
        "/api/v1/session", json={"username": "citizen", "password": "Shuhui@2026"}
    )
    assert response.status_code == 401


def test_login_form_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"username": "citizen", "password": "Shuhui@2026"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.cookies.get(SESSION_COOKIE) is None


def test_forged_csrf_token_is_refused_and_nothing_is_created(
    client: TestClient, app: FastAPI
) -> None:
    login(client, "admin")
    before = count_users(app)
    client.headers["x-csrf-token"] = "0" * 64
    response = client.post("/api/v1/admin/users", json=NEW_USER)
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/csrf"
    assert count_users(app) == before


def test_login_redirects_only_within_the_site(client: TestClient) -> None:
    token = csrf_from(client)
    response = client.post(
        "/login",
        data={
            "username": "citizen",
            "password": "Shuhui@2026",
            "csrf_token": token,
            "next": "//evil.example/steal",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_page_needing_login_redirects_to_login_with_next(client: TestClient) -> None:
    response = client.get("/account", headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"


def test_role_check_refuses_other_roles(client: TestClient) -> None:
    login(client, "officer")
    response = client.get("/api/v1/admin/users")
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/forbidden"
    page = client.get("/admin/users", headers={"accept": "text/html"})
    assert page.status_code == 403
    assert "无权访问" in page.text


def test_admin_creates_account_that_can_log_in(client: TestClient) -> None:
    login(client, "admin")
    response = client.post("/api/v1/admin/users", json=NEW_USER)
    assert response.status_code == 201, response.text
    # The citizen ID is requested, not bound: a second admin or identity reviewer approves it.
    created = response.json()
    assert created["citizen_id"] is None and created["password_by_holder"] is False
    assert created["pending_binding"]["citizen_id"] == NEW_USER["citizen_id"]
    listed = [u["username"] for u in client.get("/api/v1/admin/users").json()]
    assert "wang.wu" in listed

    other = TestClient(client.app)
    login(other, "wang.wu", "a-long-password")
    assert other.get("/api/v1/me").json()["display_name"] == "王五"


def test_password_is_stored_as_argon2id(client: TestClient, app: FastAPI) -> None:
    login(client, "admin")
    client.post("/api/v1/admin/users", json=NEW_USER)
    with transaction(app.state.session_factory) as db:
        stored = db.scalar(select(User.password_hash).where(User.username == "wang.wu"))
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert "a-long-password" not in stored


def test_the_platform_hashes_at_argon2s_recommended_cost() -> None:
    """The suite hashes cheaply (tests/fixtures.py); the platform keeps RFC 9106's second
    recommended option, and a hash made there carries it (so a login rehashes a cheaper one)."""
    hasher = identity_service.DEFAULT_PASSWORD_HASHER
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (3, 65_536, 4)
    assert hasher.hash("x").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_duplicate_username_is_a_conflict_and_keeps_the_original(
    client: TestClient, app: FastAPI
) -> None:
    login(client, "admin")
    before = count_users(app)
    response = client.post("/api/v1/admin/users", json={**NEW_USER, "username": "citizen"})
    assert response.status_code == 409
    assert response.json()["field"] == "username"
    assert count_users(app) == before
    users = {u["username"]: u for u in client.get("/api/v1/admin/users").json()}
    assert users["citizen"]["display_name"] == "张小青"


def test_bad_citizen_id_names_the_field_and_creates_nothing(
    client: TestClient, app: FastAPI
) -> None:
    login(client, "admin")
    before = count_users(app)
    response = client.post(
        "/api/v1/admin/users", json={**NEW_USER, "citizen_id": "110105194912310021"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "citizen_id"
    assert "校验位" in body["reason"]
    assert count_users(app) == before


def test_admin_replaces_roles(client: TestClient) -> None:
    login(client, "admin")
    response = client.put(
        "/api/v1/admin/users/officer/roles", json={"roles": ["officer", "data_operator"]}
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["data_operator", "officer"]
    missing = client.put("/api/v1/admin/users/nobody/roles", json={"roles": ["officer"]})
    assert missing.status_code == 404
    bad = client.put("/api/v1/admin/users/officer/roles", json={"roles": ["emperor"]})
    assert bad.status_code == 422
    assert bad.json()["field"] == "roles[0]"


def test_admin_page_form_creates_an_account(client: TestClient) -> None:
    token = login(client, "admin")
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "li.si",
            "display_name": "李四",
            "password": "another-long-one",
            "roles": ["officer", "data_operator"],
            "department": "青岛市大数据发展管理局",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "已创建账户：li.si" in response.text
    created = next(u for u in client.get("/api/v1/admin/users").json() if u["username"] == "li.si")
    assert created["roles"] == ["data_operator", "officer"]


def test_admin_page_form_shows_field_errors_and_keeps_input(
    client: TestClient, app: FastAPI
) -> None:
    token = login(client, "admin")
    before = count_users(app)
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "Bad Name",
            "display_name": "赵六",
            "password": "short",
            "citizen_id": "110105194912310021",
        },
    )
    assert response.status_code == 422
    assert 'data-field="username"' in response.text
    assert 'data-field="password"' in response.text
    assert 'data-field="roles"' in response.text
    assert "校验位" in response.text
    assert 'value="赵六"' in response.text  # what was typed is kept
    assert count_users(app) == before

"""The CSRF token is the login session's once there is one: a token from another session, from
before login or from a session since ended is refused, and the request changes nothing."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.core.http import CSRF_COOKIE
from tests.fixtures import as_user, csrf_from, login


def logout_with(client: TestClient, token: str) -> int:
    """Posts the logout form with ``token``; the answer's status (303 done, 403 refused)."""
    client.headers.pop("x-csrf-token", None)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    return response.status_code


def still_logged_in(client: TestClient) -> bool:
    return client.get("/api/v1/me").status_code == 200


def test_a_token_from_another_session_is_refused(app: FastAPI) -> None:
    first = as_user(app, "citizen")
    second = as_user(app, "citizen")  # the same person, another browser
    first_token = first.headers["x-csrf-token"]
    assert first_token != second.headers["x-csrf-token"]
    # Even a seed cookie planted from the first browser (cookie tossing) does not make the
    # first session's token good in the second: the token follows the session, not the seed.
    second.cookies.set(CSRF_COOKIE, first.cookies[CSRF_COOKIE])
    refused = second.post(
        "/api/v1/messages/read-all", headers={"x-csrf-token": first_token}, json={}
    )
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/csrf"
    assert logout_with(second, first_token) == 403
    assert still_logged_in(second)
    # Its own session's token is the one it may use.
    assert logout_with(second, csrf_from(second, "/account")) == 303
    assert not still_logged_in(second)
    assert still_logged_in(first)


def test_the_token_from_before_login_is_refused_after_login(client: TestClient) -> None:
    before = csrf_from(client)
    seed = client.cookies.get(CSRF_COOKIE)
    after = login(client, "citizen")
    assert after != before
    # The login replaced the seed too: the old pair (seed, token) is dead as a whole.
    assert client.cookies.get(CSRF_COOKIE) not in (None, seed)
    assert logout_with(client, before) == 403
    assert still_logged_in(client)
    # The pages now carry the session's token, and it works.
    assert csrf_from(client, "/account") == after
    assert logout_with(client, after) == 303


def test_logout_invalidates_the_sessions_token(client: TestClient) -> None:
    token = login(client, "citizen")
    assert logout_with(client, token) == 303
    anonymous = csrf_from(client)
    assert anonymous not in ("", token)
    # The ended session's token opens nothing, not even the login form.
    refused = client.post(
        "/login",
        data={"username": "citizen", "password": "Shuhui@2026", "csrf_token": token},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert not still_logged_in(client)


def test_json_login_hands_back_the_sessions_token(client: TestClient) -> None:
    before = csrf_from(client)
    response = client.post("/api/v1/session", json={"username": "admin", "password": "Shuhui@2026"})
    assert response.status_code == 200
    token = response.headers["x-csrf-token"]
    assert token != before
    assert client.delete("/api/v1/session", headers={"x-csrf-token": before}).status_code == 403
    assert still_logged_in(client)
    assert client.delete("/api/v1/session", headers={"x-csrf-token": token}).status_code == 204
    assert not still_logged_in(client)

"""Errors are problem+json (RFC 9457) for clients and error pages for people; never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from shuhui.core.errors import PROBLEM_TYPES

PROBLEM = "application/problem+json"


def assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status
    headers = response.headers
    assert headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"] == PROBLEM_TYPES[slug].title
    assert body["request_id"] == headers["x-request-id"]
    return body


def test_unknown_path(client: TestClient) -> None:
    body = assert_problem(client.get("/api/v1/nothing"), 404, "not-found")
    assert body["instance"] == "/api/v1/nothing"


def test_wrong_method(client: TestClient) -> None:
    assert_problem(client.delete("/api/v1/regions"), 405, "method-not-allowed")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        # Two routes, GET and POST: Starlette's own 405 named only the first.
        ("/api/3/action/datastore_search", "GET, POST"),
        # Not also the GET of /api/v1/authorisations/{code} beside it.
        ("/api/v1/authorisations/mandates", "POST"),
    ],
)
def test_wrong_method_names_every_allowed_one(client: TestClient, path: str, allowed: str) -> None:
    response = client.put(path, json={})
    assert_problem(response, 405, "method-not-allowed")
    assert response.headers["allow"] == allowed


def test_the_openapi_document_lists_each_operations_problems(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(document)
    assert document["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status in ("401", "404", "413", "422"):
                content = operation["responses"][status]["content"]
                assert set(content) in ({PROBLEM}, {"application/json", PROBLEM}), (
                    method,
                    path,
                    status,
                )


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/api/v1/ids/check", content=b'{"values": [', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400, "malformed-request")
    assert body["field"] == "body"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "values"),
        ({"values": []}, "values"),
        ({"values": "11010519491231002X"}, "values"),
        ({"values": [1]}, "values[0]"),
        ({"values": ["x" * 65]}, "values[0]"),
    ],
)
def test_validation_names_the_field(client: TestClient, payload: object, field: str) -> None:
    body = assert_problem(client.post("/api/v1/ids/check", json=payload), 422, "validation")
    assert body["field"] == field
    assert body["reason"]
    assert isinstance(body["errors"], list) and body["errors"][0]["field"] == field


def test_login_required(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/me"), 401, "unauthenticated")


def test_form_post_from_a_non_browser_gets_problem_json(client: TestClient) -> None:
    client.get("/login")  # obtain the CSRF seed cookie
    from tests.fixtures import csrf_from

    token = csrf_from(client)
    body = assert_problem(client.post("/login", data={"csrf_token": token}), 422, "validation")
    assert {e["field"] for e in body["errors"]} == {"username", "password"}


def test_browser_gets_an_error_page(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "未找到" in response.text
    assert response.headers["x-request-id"] in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/?lang=%ff%fe",
        "/login?next=%00%0d%0aLocation:%20http://evil",
        "/problems/%2e%2e%2fetc",
        "/static/../pyproject.toml",
        "/static/%2e%2e/%2e%2e/pyproject.toml",
    ],
)
def test_odd_requests_are_not_server_errors(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code < 500
    assert "[build-system]" not in response.text


def test_malformed_cookie_header_is_survived(client: TestClient) -> None:
    response = client.get("/healthz", headers={"cookie": 'a="unterminated; ; ;='})
    assert response.status_code == 200


def test_every_problem_type_has_a_chinese_title() -> None:
    for ptype in PROBLEM_TYPES.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in ptype.title), ptype.slug
        assert 400 <= ptype.status < 600

"""Request bodies are bounded while they are read (``web.limits``): a body over its route's
bound is refused with 413 before the app reads it, a chunked one as soon as it passes the
bound, and a JSON body nested too deep or holding a bad string is refused with a problem
naming the field, never a 500; routes taking uploads declare a larger bound."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message

from shuhui.core.requestbody import MAX_DEPTH
from shuhui.trust.seals.schemas import MAX_UPLOAD_BODY
from tests.fixtures import run_apart
from tests.trust.test_seals import DOCUMENT, create_seal, sign

MiB = 1024 * 1024
PROBLEM_JSON = "application/problem+json"
GATEWAY = "/api/v1/channel/products/underwriting-health-check"
# The body-reading routes the adversarial test found parsing 100 MB: the gateway (before its
# key check), the login API and page, and the CKAN action API.
READERS = [
    (GATEWAY, "application/json"),
    ("/api/v1/session", "application/json"),
    ("/login", "application/x-www-form-urlencoded"),
    ("/api/3/action/package_search", "application/json"),
    ("/api/3/action/package_search", "application/x-www-form-urlencoded"),
]


class Pulled:
    """A request body sent in 64 KiB chunks, counting how many the server took."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.chunks = total // chunk
        self.chunk = b" " * chunk
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.chunks):
            self.taken += 1
            yield self.chunk


def assert_too_large(response: Any, limit: str = "1 MB") -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["connection"] == "close"
    problem = response.json()
    assert problem["type"] == "/problems/content-too-large"
    assert problem["title"] == "请求内容过大"
    assert limit in problem["detail"]
    assert "field" not in problem


def test_the_problem_type_is_documented(client: TestClient) -> None:
    page = client.get("/problems/content-too-large")
    assert page.status_code == 200 and "请求内容过大" in page.text


@pytest.mark.parametrize(("path", "content_type"), READERS)
def test_a_declared_length_over_the_bound_is_refused_before_reading(
    client: TestClient, path: str, content_type: str
) -> None:
    body = Pulled(200 * MiB)
    response = client.post(
        path,
        content=body,
        headers={"content-type": content_type, "content-length": str(200 * MiB)},
    )
    assert_too_large(response)
    assert body.taken <= 1  # the server took nothing (the client may have one chunk ready)


def post_in_chunks(app: FastAPI, path: str, content_type: str) -> tuple[Any, bytes, int]:
    """Sends the app 200 MiB in 64 KiB ``http.request`` messages, without a length, as a
    server does for a chunked upload (the test client would gather them into one): the
    response's start, its body, and how many chunks the app took."""
    chunk = 64 * 1024
    chunks = 200 * MiB // chunk
    taken = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal taken
        taken += 1
        return {"type": "http.request", "body": b" " * chunk, "more_body": taken < chunks}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", content_type.encode()),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    run_apart(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start, body, taken


@pytest.mark.parametrize(("path", "content_type"), READERS)
def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_bound(
    app: FastAPI, path: str, content_type: str
) -> None:
    start, body, taken = post_in_chunks(app, path, content_type)
    assert start["status"] == 413
    headers = dict(start["headers"])
    assert headers[b"content-type"] == PROBLEM_JSON.encode()
    assert headers[b"connection"] == b"close"
    problem = json.loads(body)
    assert problem["title"] == "请求内容过大" and "1 MB" in problem["detail"]
    # 16 chunks make the 1 MiB bound; the 17th passes it and ends the reading.
    assert taken == 17


def test_the_bound_is_a_setting(app: FastAPI) -> None:
    from shuhui.web.app import create_app

    settings = app.state.settings.model_copy(update={"max_body_bytes": 4096})
    small = create_app(settings)
    try:
        with TestClient(small) as client:
            refused = client.post("/api/v1/session", content=b" " * 5000, headers=JSON)
            assert_too_large(refused, "4 KB")
            under = client.post("/api/v1/session", json={"username": "x", "password": "y"})
            assert under.status_code == 401
    finally:
        small.state.engine.dispose()


JSON = {"content-type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize("path", ["/api/v1/session", "/api/v1/seals/verify"])
def test_json_nested_too_deep_is_a_problem_not_a_500(client: TestClient, path: str) -> None:
    for body in (DEEP, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        response = client.post(path, content=body, headers=JSON)
        assert response.status_code == 400, response.text
        problem = response.json()
        assert problem["type"] == "/problems/malformed-request"
        assert problem["field"] == "body" and f"{MAX_DEPTH} 层" in problem["reason"]
    # At the bound, the body is the route's to judge.
    shallow = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert client.post(path, content=shallow, headers=JSON).status_code == 422


def test_a_bad_string_is_refused_naming_its_field(client: TestClient) -> None:
    lone = client.post(
        "/api/v1/session", content=b'{"username": "a\\ud800", "password": "x"}', headers=JSON
    )
    assert lone.status_code == 422, lone.text
    assert lone.json()["field"] == "username" and "代理字符" in lone.json()["reason"]
    nul = client.post(
        "/api/v1/session", content=b'{"username": "admin", "password": "\\u0000"}', headers=JSON
    )
    assert nul.status_code == 422 and nul.json()["field"] == "password"
    assert "NUL" in nul.json()["reason"]
    # UTF-8-encoded surrogates, which json.loads would let through, are not UTF-8.
    raw = client.post("/api/v1/session", content=b'{"username": "\xed\xa0\x80"}', headers=JSON)
    assert raw.status_code == 400 and raw.json()["field"] == "body"
    # A whole pair is one character, and a name like any other.
    pair = client.post(
        "/api/v1/session",
        content=b'{"username": "\\ud83d\\ude00", "password": "x"}',
        headers=JSON,
    )
    assert pair.status_code == 401


def test_ckan_refuses_in_its_own_words(client: TestClient) -> None:
    for body in (DEEP, b'{"q": "\\ud800"}'):
        response = client.post("/api/3/action/package_search", content=body, headers=JSON)
        assert response.status_code == 400, response.text
        assert response.json()["success"] is False
        assert "JSON Error" in response.json()["error"]["message"]


def test_the_gateway_refuses_a_malformed_body_itself(client: TestClient) -> None:
    # Its JSON is checked by the gateway, after the key (refusals there are metered and
    # recorded; tests/channel/test_gateway.py follows a keyed call through).
    for body in (DEEP, b'{"purpose": "\\ud800", "params": {}}'):
        response = client.post(GATEWAY, content=body, headers=JSON)
        assert response.status_code == 401, response.text
        assert response.json()["reason"] == "key-missing"


def test_uploads_have_the_room_their_route_declares(client: TestClient) -> None:
    create_seal(client)
    document = DOCUMENT + b"\n" * (5 * MiB)
    envelope = sign(client, document)  # a multipart upload of 5 MiB
    verified = TestClient(client.app).post(
        "/api/v1/seals/verify",
        json={"document_base64": base64.b64encode(document).decode(), "envelope": envelope},
    )
    assert verified.status_code == 200 and verified.json()["valid"] is True
    over = client.post(
        "/api/v1/seals/verify",
        content=Pulled(MAX_UPLOAD_BODY + MiB),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert_too_large(over, "26.9 MB")


def test_a_page_form_over_the_bound_gets_an_error_page(client: TestClient) -> None:
    response = client.post(
        "/login",
        content=b"username=" + b"a" * (2 * MiB),
        headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "请求内容过大" in response.text

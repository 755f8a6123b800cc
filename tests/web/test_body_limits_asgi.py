"""The body-limit middleware keeps ASGI's semantics: a checked JSON body reaches the app
unchanged and then the client's disconnect, a streamed upload arrives in its own chunks, a
streaming response leaves in its own, other scopes pass untouched, and the routes' declarations
are found however the routers nest."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.types import Message, Receive, Scope, Send

from shuhui.core.requestbody import BodyRule, accepts
from shuhui.web.limits import BodyLimitMiddleware, BodyRules, body_rules
from tests.fixtures import run_apart


def http_scope(content_type: str, length: int | None = None) -> Scope:
    headers = [(b"host", b"testserver"), (b"content-type", content_type.encode())]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/echo",
        "raw_path": b"/echo",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }


def client(chunks: list[bytes]) -> tuple[Receive, list[Message]]:
    """The client's side: its body in ``chunks``, then its disconnect; what it was sent."""
    incoming: list[Message] = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ] + [{"type": "http.disconnect"}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    return receive, sent


class Echo:
    """An app that reads every message up to the disconnect, then streams three chunks."""

    def __init__(self) -> None:
        self.received: list[Message] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            self.received.append(message)
            if message["type"] == "http.disconnect":
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"a", b"b", b"c"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def run(app: Any, scope: Scope, chunks: list[bytes]) -> list[Message]:
    receive, sent = client(chunks)

    async def send(message: Message) -> None:
        sent.append(message)

    run_apart(app, scope, receive, send)
    return sent


def middleware(app: Any, rules: BodyRules | None = None) -> BodyLimitMiddleware:
    return BodyLimitMiddleware(app, default_max=1024, rules=rules or BodyRules())


def test_a_checked_json_body_arrives_unchanged_then_the_disconnect() -> None:
    echo = Echo()
    sent = run(middleware(echo), http_scope("application/json"), [b'{"a": ', b'"\\u00e9"}'])
    assert echo.received == [
        {"type": "http.request", "body": b'{"a": "\\u00e9"}', "more_body": False},
        {"type": "http.disconnect"},
    ]
    # The response is not buffered: its chunks leave as the app sends them.
    assert [m.get("body") for m in sent[1:]] == [b"a", b"b", b"c", b""]


def test_a_streamed_upload_arrives_in_its_own_chunks() -> None:
    echo = Echo()
    chunks = [b"x" * 300, b"y" * 300, b"z" * 300]
    run(middleware(echo), http_scope("application/octet-stream"), chunks)
    assert [m.get("body") for m in echo.received[:-1]] == chunks
    assert echo.received[-1] == {"type": "http.disconnect"}


def test_a_route_declaring_its_own_json_gets_it_unchecked() -> None:
    echo = Echo()
    rules = BodyRules(exact={("POST", "/echo"): BodyRule(own_json=True)})
    deep = b"[" * 200 + b"]" * 200
    run(middleware(echo, rules), http_scope("application/json"), [deep[:200], deep[200:]])
    assert [m.get("body") for m in echo.received[:-1]] == [deep[:200], deep[200:]]


def test_a_declared_bound_gives_room_and_the_default_stays_the_floor() -> None:
    rules = BodyRules(exact={("POST", "/echo"): BodyRule(max_bytes=4096)})
    echo = Echo()
    sent = run(middleware(echo, rules), http_scope("text/plain", 3000), [b"x" * 3000])
    assert sent[0]["status"] == 200
    small = BodyRules(exact={("POST", "/echo"): BodyRule(max_bytes=10)})
    sent = run(middleware(Echo(), small), http_scope("text/plain", 1000), [b"x" * 1000])
    assert sent[0]["status"] == 200


def test_other_scopes_pass_untouched() -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    for kind in ("lifespan", "websocket"):
        scope = {"type": kind}
        run_apart(middleware(app), scope, receive, send)
        assert seen[-1] == (scope, receive, send)


def test_rules_are_found_in_routers_included_in_routers() -> None:
    inner = APIRouter(prefix="/in")

    @inner.post("/{code}/upload")
    @accepts(max_bytes=5000)
    def upload(code: str) -> None: ...

    @inner.post("/call")
    @accepts(own_json=True)
    def call() -> None: ...

    @inner.post("/plain")
    def plain() -> None: ...

    outer = APIRouter(prefix="/out")
    outer.include_router(inner, prefix="/p")
    rules = body_rules([outer])
    assert rules.find("POST", "/out/p/in/X-1/upload") == BodyRule(max_bytes=5000)
    assert rules.find("POST", "/out/p/in/call") == BodyRule(own_json=True)
    assert rules.find("POST", "/out/p/in/plain") is None
    assert rules.find("GET", "/out/p/in/call") is None

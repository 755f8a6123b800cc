"""Request bodies held to their bounds while they are read, before anything parses them.

A pure ASGI middleware, inside the request context (so a refusal has its request id, language
and access-log line) and outside the routes, their dependencies and FastAPI's parsing:

- a ``Content-Length`` above the route's bound is refused at once with 413, before a byte of
  the body is read (and without the ``100 Continue`` a client may wait for);
- a body sent without a length (chunked) is counted as it arrives: a JSON body is read here
  in full, so going past the bound refuses it before the app is called; any other body (a
  form, an upload) streams on to its reader, and the ``receive`` that takes it past the bound
  raises :class:`BodyTooLarge`, a 413 for the app's handlers to answer;
- a 413 closes the connection (``Connection: close``), so the client stops sending and the
  server does not read the rest to throw it away;
- a JSON body the route does not read itself is checked for depth and strings
  (``core.requestbody.check``) before it is handed on, unchanged, to the app.

The bound is ``SHUHUI_MAX_BODY_BYTES`` (1 MiB by default), or the larger one a route declares
with ``core.requestbody.accepts``; :func:`body_rules` collects those declarations from the
routers when the app is made. Other ASGI messages (``http.disconnect``, websockets, lifespan)
pass untouched, and the response is not buffered, so streaming responses stream as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shuhui.core import requestbody
from shuhui.core.errors import PROBLEM_TYPES, FieldError
from shuhui.core.i18n import Text
from shuhui.core.requestbody import BodyRule
from shuhui.web import problems

_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json$")


def too_large_detail(limit: int) -> Text:
    size = requestbody.size_in_words(limit)
    return Text(
        f"请求内容超过 {size} 的上限，已拒绝受理",
        f"The request body is larger than the limit of {size.en}; it was refused",
    )


class BodyTooLarge(HTTPException):
    """Raised by ``receive`` when a streamed body passes its bound: an HTTP exception, so the
    frameworks' own body readers let it through to the 413 handler untouched."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large_detail(limit))
        self.limit = limit


@dataclass
class BodyRules:
    """The routes that declared a rule: exact paths in a dict, paths with parameters tried in
    turn (there are few); everything else has the default rule."""

    exact: dict[tuple[str, str], BodyRule] = field(default_factory=dict)
    patterns: list[tuple[str, re.Pattern[str], BodyRule]] = field(default_factory=list)

    def find(self, method: str, path: str) -> BodyRule | None:
        rule = self.exact.get((method, path))
        if rule is not None:
            return rule
        for pattern_method, pattern, found in self.patterns:
            if pattern_method == method and pattern.match(path):
                return found
        return None


def body_rules(routers: Iterable[APIRouter | BaseRoute]) -> BodyRules:
    """What the routes of ``routers`` declared with ``core.requestbody.accepts``."""
    rules = BodyRules()
    for path, route in _routes(routers, ""):
        rule = requestbody.rule_of(route.endpoint)
        if rule is None:
            continue
        pattern, _, convertors = compile_path(path)
        for method in route.methods or ():
            if convertors:
                rules.patterns.append((method, pattern, rule))
            else:
                rules.exact[(method, path)] = rule
    return rules


def _routes(items: Iterable[APIRouter | BaseRoute], prefix: str) -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path, routers included in routers too."""
    for item in items:
        if isinstance(item, APIRouter):
            yield from _routes(item.routes, prefix)
        elif isinstance(item, APIRoute):
            yield prefix + item.path, item
        elif (included := getattr(item, "original_router", None)) is not None:
            # FastAPI keeps an included router whole, its prefix beside it.
            context = getattr(item, "include_context", None)
            yield from _routes(included.routes, prefix + str(getattr(context, "prefix", "")))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    if value is None or not value.strip().isdigit():
        return None  # the server's parser refuses a malformed length; counting still holds
    return int(value)


def _is_json(scope: Scope) -> bool:
    ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
    return bool(_JSON_TYPE.match(ctype))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, default_max: int, rules: BodyRules) -> None:
        self.app = app
        self.default_max = default_max
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.rules.find(scope["method"], scope["path"]) or BodyRule()
        limit = max(rule.max_bytes or 0, self.default_max)
        declared = _content_length(scope)
        if declared == 0:
            await self.app(scope, receive, send)
            return
        if declared is not None and declared > limit:
            await _too_large(scope, receive, send, limit)
            return
        if _is_json(scope) and not rule.own_json:
            await self._checked_json(scope, receive, send, limit)
            return
        await self._counted(scope, receive, send, limit)

    async def _checked_json(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        # Bounded by the limit, so holding it whole costs no more than the app's own read.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before it finished sending: no one to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            requestbody.check(body)
        except requestbody.Refused as refused:
            await _refuse_json(scope, receive, send, refused)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                # Past the body, receive waits for the client to leave (http.disconnect).
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        size = 0
        refused = False
        started = False

        async def counted() -> Message:
            nonlocal size, refused
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    refused = True
                    raise BodyTooLarge(limit)
            return message

        async def closing(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if refused:
                    message = _with_close(message)
            await send(message)

        try:
            await self.app(scope, counted, closing)
        except BodyTooLarge:
            # Raised where no handler answered it (a reader outside the routes): answered here.
            if started:
                raise
            await _too_large(scope, receive, send, limit)


def _with_close(message: Message) -> Message:
    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
    return {**message, "headers": [*headers, (b"connection", b"close")]}


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problems.respond(
        Request(scope, receive),
        PROBLEM_TYPES["content-too-large"],
        status=413,
        detail=too_large_detail(limit),
    )

    async def closing(message: Message) -> None:
        await send(_with_close(message) if message["type"] == "http.response.start" else message)

    await response(scope, receive, closing)


async def _refuse_json(
    scope: Scope, receive: Receive, send: Send, refused: requestbody.Refused
) -> None:
    slug = "malformed-request" if refused.malformed else "validation"
    response = problems.respond(
        Request(scope, receive),
        PROBLEM_TYPES[slug],
        status=PROBLEM_TYPES[slug].status,
        detail=refused.reason,
        errors=[FieldError(refused.field, refused.reason)],
    )
    await response(scope, receive, send)

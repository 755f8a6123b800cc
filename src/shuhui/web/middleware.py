"""Per-request context: request id, interface language, elder-friendly display, CSRF seed cookie,
and the access log."""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid
from http.cookies import SimpleCookie

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shuhui.core.http import CSRF_COOKIE
from shuhui.core.i18n import LOCALE_COOKIE, parse_locale
from shuhui.core.logging import request_id_var

log = logging.getLogger("shuhui.access")
SECURITY_HEADERS = (
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# 适老化 (elder-friendly mode: larger type, stronger contrast), switched from the header with
# ?elder=on|off and remembered in a cookie like the language; the layout reads request.state.elder.
ELDER_COOKIE = "shuhui_elder"
_ELDER_VALUES = {"on": True, "1": True, "off": False, "0": False}


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header must not take the request down
                return {}
            return {k: m.value for k, m in jar.items()}
    return {}


def _query_param(scope: Scope, name: str) -> str | None:
    query: str = scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        if part.startswith(f"{name}="):
            return part[len(name) + 1 :]
    return None


def parse_elder(value: str | None) -> bool | None:
    """``on``/``off`` (or ``1``/``0``) as a choice; anything else is no choice."""
    return _ELDER_VALUES.get(value.strip().lower()) if value else None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, default_locale: str, cookie_secure: bool) -> None:
        self.app = app
        self.default_locale = default_locale
        self.cookie_secure = cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), ""
        )
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        cookies = _cookies(scope)
        state = scope.setdefault("state", {})
        chosen = parse_locale(_query_param(scope, "lang"))
        state["locale"] = chosen or parse_locale(cookies.get(LOCALE_COOKIE)) or self.default_locale
        elder_chosen = parse_elder(_query_param(scope, "elder"))
        remembered = parse_elder(cookies.get(ELDER_COOKIE))
        state["elder"] = bool(elder_chosen if elder_chosen is not None else remembered)
        state["request_id"] = request_id
        new_seed = None if cookies.get(CSRF_COOKIE) else secrets.token_urlsafe(32)
        state["csrf_seed"] = new_seed
        secure = "; Secure" if self.cookie_secure else ""
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = request_id
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if new_seed is not None:
                    headers.append(
                        "set-cookie",
                        f"{CSRF_COOKIE}={new_seed}; Path=/; HttpOnly; SameSite=Lax{secure}",
                    )
                if chosen is not None:
                    headers.append(
                        "set-cookie",
                        f"{LOCALE_COOKIE}={chosen}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
                    )
                if elder_chosen is not None:
                    elder = "on" if elder_chosen else "off"
                    headers.append(
                        "set-cookie",
                        f"{ELDER_COOKIE}={elder}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "user": state.get("username"),
                },
            )
            request_id_var.reset(token)

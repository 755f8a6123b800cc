"""The HTTP plumbing every domain's routes share: database session, page rendering, CSRF.

The web app factory puts the session factory and the template environment on ``app.state``;
these helpers read them from the request, so domains need not import ``shuhui.web``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment
from sqlalchemy.orm import Session, sessionmaker

from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.core.i18n import rendering_in, translate

CSRF_COOKIE = "shuhui_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "shuhui_session"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed if the handler returns, rolled back if it raises."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    with transaction(factory) as session:
        yield session


# "function" scope commits before the response is sent: a client told "done" (or redirected to
# the next page) never races the commit, and a failed commit becomes an error response.
DBSession = Annotated[Session, Depends(get_db, scope="function")]


def locale_of(request: Request) -> str:
    return str(getattr(request.state, "locale", "zh-CN"))


def tr(request: Request, zh: str, en: str) -> str:
    return translate(locale_of(request), zh, en)


def csrf_seed(request: Request) -> str | None:
    # A seed minted by the middleware on this very request wins: the browser has not stored it yet.
    return getattr(request.state, "csrf_seed", None) or request.cookies.get(CSRF_COOKIE)


def csrf_token_for(key: bytes, seed: str) -> str:
    """The token for a visitor's seed cookie (before login: the login form itself)."""
    return hmac.new(key, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def csrf_session_token_for(key: bytes, session: str) -> str:
    """The token for a login session: an HMAC of the session's secret (its cookie, which only
    the browser and, hashed, the server know). Another session's token, or the one a page gave
    before login, does not match it; logging out or in changes it."""
    return hmac.new(key, b"csrf-session:" + session.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token pages embed: bound to the login session once there is one, else to the seed."""
    key: bytes = request.app.state.signing_key
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return csrf_session_token_for(key, session)
    seed = csrf_seed(request)
    return "" if seed is None else csrf_token_for(key, seed)


def rotate_csrf(request: Request, response: Response, session: str | None) -> None:
    """At login and logout: a fresh seed replaces the visitor's, so no token issued before the
    switch is accepted after it; the new login session's token goes back in ``X-CSRF-Token``
    for a client that logged in by API and has no page to read it from."""
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
    )
    if session:
        response.headers[CSRF_HEADER] = csrf_session_token_for(
            request.app.state.signing_key, session
        )


async def csrf_protect(request: Request) -> None:
    """A signed token on every state-changing request a browser could forge.

    A browser can forge a form post or any request riding on our cookies; a JSON call without
    cookies (an API client with its own credentials) cannot be forged this way and passes. A
    request carrying a session cookie must send that session's token (``csrf_session_token_for``:
    a cookie planted by another site cannot make a token the attacker knows valid for the
    victim's session); one without, the token of its seed cookie (the login form).
    """
    if request.method not in UNSAFE_METHODS:
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_form = content_type in FORM_TYPES
    session = request.cookies.get(SESSION_COOKIE)
    if not (is_form or session is not None):
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and content_type in FORM_TYPES[:2]:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    key: bytes = request.app.state.signing_key
    seed = request.cookies.get(CSRF_COOKIE)
    if session:
        expected = csrf_session_token_for(key, session)
    elif seed:
        expected = csrf_token_for(key, seed)
    else:
        expected = None
    if not sent or expected is None:
        raise Problem("csrf", detail="缺少 CSRF 令牌")
    if not hmac.compare_digest(sent, expected):
        raise Problem("csrf", detail="CSRF 令牌无效")


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    env: Environment = request.app.state.templates
    locale = locale_of(request)
    ctx: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "t": lambda zh, en=None: translate(locale, zh, en),
        "csrf_token": csrf_token(request),
        "user": getattr(request.state, "user", None),
    }
    ctx.update(context or {})
    with rendering_in(locale):
        page = env.get_template(template).render(ctx)
    return HTMLResponse(page, status_code=status)


def wants_html(request: Request) -> bool:
    """Pages answer people with pages; everything under /api/ answers with JSON."""
    if request.url.path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def problem_answer(
    request: Request, problem: Problem, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A refusal answered, not raised: a handler that returns commits the request's
    transaction, so what the refusal wrote (its ledger entry, a counted attempt) is kept; one
    that raises rolls it back."""
    return JSONResponse(
        problem.body(
            instance=request.url.path, request_id=getattr(request.state, "request_id", None)
        ),
        status_code=problem.http_status,
        media_type="application/problem+json",
        headers=headers,
    )

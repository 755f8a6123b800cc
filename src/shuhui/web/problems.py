"""Turns every error into problem+json for clients, or an error page for people."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shuhui.core.errors import (
    PROBLEM_TYPES,
    FieldError,
    Problem,
    ProblemType,
    problem_body,
    type_for_status,
)
from shuhui.core.forms import field_errors, reason_of, validation_detail
from shuhui.core.http import locale_of, render, wants_html
from shuhui.core.i18n import Text, said
from shuhui.trust.identity.deps import FORCED_CHANGE_PAGE, ensure_viewer

log = logging.getLogger("shuhui.errors")
PROBLEM_JSON = "application/problem+json"


def _respond(
    request: Request,
    ptype: ProblemType,
    *,
    status: int,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    request_id = getattr(request.state, "request_id", None)
    locale = locale_of(request)
    if wants_html(request):
        ensure_viewer(request)
        if status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if ptype.slug == "password-change-required":
            return RedirectResponse(FORCED_CHANGE_PAGE, status_code=303)
        return render(
            request,
            "error.html",
            {
                "problem": ptype,
                "status": status,
                "detail": detail,
                "errors": errors or [],
                "request_id": request_id,
            },
            status=status,
        )
    # An API client reads the problem in the request's language too (Chinese unless it asked).
    body = problem_body(
        ptype,
        title=said(locale, Text(ptype.title, ptype.title_en)),
        status=status,
        detail=said(locale, detail) if detail else detail,
        errors=[FieldError(e.field, said(locale, e.reason)) for e in errors or []],
        instance=request.url.path,
        request_id=request_id,
        extra=extra,
    )
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def respond(
    request: Request,
    ptype: ProblemType,
    *,
    status: int,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
) -> Response:
    """The problem as this request's client reads it (a page for a person's browser,
    problem+json in the request's language for everyone else), for middleware that answers
    before the routes and their handlers (``web.limits``)."""
    return _respond(request, ptype, status=status, detail=detail, errors=errors)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return _respond(
        request,
        exc.type,
        status=exc.http_status,
        detail=exc.detail,
        errors=exc.errors,
        extra=exc.extra,
    )


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if raw and all(e.get("type") == "json_invalid" for e in raw):
        return _respond(
            request,
            PROBLEM_TYPES["malformed-request"],
            status=400,
            detail=Text("请求体不是合法的 JSON", "The request body is not valid JSON"),
            errors=[FieldError("body", reason_of(raw[0]))],
        )
    errors = field_errors(raw)
    return _respond(
        request,
        PROBLEM_TYPES["validation"],
        status=422,
        detail=validation_detail(errors),
        errors=errors,
    )


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # Starlette's own detail is the status phrase ("Not Found"): the title says it in Chinese.
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != _phrase(exc) else None
    return _respond(
        request,
        type_for_status(exc.status_code),
        status=exc.status_code,
        detail=detail,
        headers=dict(exc.headers or {}),
    )


def _phrase(exc: StarletteHTTPException) -> str:
    try:
        return HTTPStatus(exc.status_code).phrase
    except ValueError:
        return ""


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    return _respond(
        request,
        PROBLEM_TYPES["internal"],
        status=500,
        detail=Text("请求处理失败，已记录日志", "The request failed; it has been logged"),
    )


async def _on_data_error(request: Request, exc: Exception) -> Response:
    # The database refused a value the checks let through (a NUL character, an integer out of
    # its range): bad input, and the request's transaction has been rolled back.
    log.warning(
        "database refused a value", extra={"path": request.url.path, "error": str(exc)[:200]}
    )
    return _respond(
        request,
        PROBLEM_TYPES["validation"],
        status=422,
        detail=Text(
            "输入中有无法保存或查询的值（例如 NUL 字符或超出范围的数字）",
            "The input holds a value that cannot be stored or compared "
            "(a NUL character or a number out of range, say)",
        ),
        errors=[
            FieldError(
                "request",
                Text("含有无法保存或比较的值", "a value the database cannot store or compare"),
            )
        ],
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(DataError, _on_data_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)

"""Turns every error into problem+json for clients, or an error page for people, and says so in
the OpenAPI document: every operation lists the problems it may answer (``document_problems``),
and a 405 names in ``Allow`` every method the path takes."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Route

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
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed(request) or headers.get("Allow", "")
    return _respond(
        request,
        type_for_status(exc.status_code),
        status=exc.status_code,
        detail=detail,
        headers=headers,
    )


def _allowed(request: Request) -> str:
    """Every method the request's path takes. Starlette's 405 names only the first route that
    matched the path, while a path's GET and POST are often two routes (RFC 9110 wants all)."""
    found = _methods_at(request.app.router.routes, request.url.path)
    # A path the API names as it is (``/mandates``) is not also the ``{code}`` beside it.
    literal = {methods for template, methods in found if "{" not in template}
    chosen = literal or {methods for _, methods in found}
    return ", ".join(sorted(set().union(*chosen)))


def _methods_at(routes: Iterable[BaseRoute], path: str) -> set[tuple[str, frozenset[str]]]:
    """The path template and methods of every route that matches ``path``."""
    found: set[tuple[str, frozenset[str]]] = set()
    for route in routes:
        # FastAPI keeps an included router whole (its routes are not copied into the app's).
        included = getattr(route, "original_router", None)
        if included is not None:
            prefix: str = route.include_context.prefix  # type: ignore[attr-defined]
            if path.startswith(prefix):
                found |= _methods_at(included.routes, path.removeprefix(prefix))
        elif isinstance(route, Route) and route.methods and route.path_regex.match(path):
            found.add((route.path, frozenset(route.methods)))
    return found


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


# What every problem answer looks like, for the OpenAPI document (``core.errors.problem_body``).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "description": "`/problems/<slug>`, documented there"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "field": {"type": "string"},
        "reason": {"type": "string"},
        "request_id": {"type": "string"},
    },
    "additionalProperties": True,
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# The problems any operation may answer: bad JSON, not logged in, not allowed, no such thing,
# a conflict with what exists, a body over the limit, invalid input, too many requests.
COMMON_PROBLEMS = (400, 401, 403, 404, 409, 413, 415, 422, 429)


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds to every operation of an OpenAPI document each common problem answer it does not
    describe itself (the gateway and the CKAN API describe theirs), and FastAPI's 422 — which it
    documents as plain JSON in its own shape — becomes the problem+json the API sends."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json")
            if fastapi_422 and "HTTPValidationError" in str(fastapi_422):
                del responses["422"]
            for status in COMMON_PROBLEMS:
                responses.setdefault(str(status), {"description": type_for_status(status).title_en})
            for status, response in responses.items():
                # A refusal an operation names without its body (the login's 423) is one too.
                if status.startswith("4") and "content" not in response:
                    response["content"] = problem
    schemas = schema["components"]["schemas"]
    # FastAPI's error shapes, once nothing refers to them.
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}" not in json.dumps(schema):
            schemas.pop(unused, None)
    return schema


def _documenting_problems(app: FastAPI) -> None:
    made = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(made())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _documenting_problems(app)
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(DataError, _on_data_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)

"""CKAN's Action API over HTTP: ``/api/3/action/<action>`` (and ``/api/action/<action>``, the
path ``ckanapi`` calls), GET with a query string or POST with a JSON body, as CKAN takes them.

Public and read-only, so the routes need neither the signed-in user nor a database session
of their own; the handlers only gather the parameters and hand them to
:mod:`shuhui.catalog.ckan.api`, which answers in CKAN's envelopes. A search answered before at the
same catalog revision is served from memory without leaving the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shuhui.catalog.ckan import actions as ckan_actions
from shuhui.catalog.ckan import api as ckan_api
from shuhui.catalog.ckan import context as ckan_context
from shuhui.catalog.ckan import params as ckan_params
from shuhui.core import requestbody
from shuhui.core.http import FORM_TYPES
from shuhui.core.requestbody import accepts

api = APIRouter(tags=["CKAN action API"])

JSON = "application/json; charset=utf-8"
PROBLEM_JSON = "application/problem+json"
_cache_lock = threading.Lock()

# Query strings carry text; a JSON body carries typed values.
QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "natural": {"type": "integer", "minimum": 0},
    "integer": {"type": "integer"},
    "boolean": {"type": "boolean"},
    "list": {"type": "string", "description": "a JSON list of strings, or comma-separated"},
    "object": {"type": "string", "description": "a JSON object"},
    "text_or_object": {"type": "string"},
}
BODY_SCHEMAS: dict[str, dict[str, Any]] = {
    **QUERY_SCHEMAS,
    "list": {"type": "array", "items": {"type": "string"}},
    "object": {"type": "object"},
    "text_or_object": {"anyOf": [{"type": "string"}, {"type": "object"}]},
}
ENVELOPE = {
    "type": "object",
    "required": ["help", "success", "result"],
    "properties": {
        "help": {"type": "string"},
        "success": {"type": "boolean", "const": True},
        "result": {},
    },
}
CKAN_ERROR = {
    "type": "object",
    "description": "CKAN's error envelope, which is also an RFC 9457 problem document",
    "required": ["help", "success", "error", "type", "title", "status"],
    "properties": {
        "help": {"type": "string"},
        "success": {"type": "boolean", "const": False},
        "error": {
            "type": "object",
            "properties": {"__type": {"type": "string"}, "message": {"type": "string"}},
        },
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
    },
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "CKAN's success envelope", "content": {JSON: {"schema": ENVELOPE}}},
    400: {"description": "Bad request", "content": {PROBLEM_JSON: {"schema": CKAN_ERROR}}},
    403: {
        "description": "Authorization Error (data not open)",
        "content": {PROBLEM_JSON: {"schema": CKAN_ERROR}},
    },
    404: {"description": "Not Found Error", "content": {PROBLEM_JSON: {"schema": CKAN_ERROR}}},
    409: {
        "description": "Validation Error, naming each field at fault",
        "content": {PROBLEM_JSON: {"schema": CKAN_ERROR}},
    },
}


Reply = tuple[int, bytes]


class BadRequest(ValueError):
    pass


def _package_cache(app: FastAPI) -> ckan_context.PackageCache:
    cache: ckan_context.PackageCache | None = getattr(app.state, "ckan_packages", None)
    if cache is None:
        with _cache_lock:
            cache = getattr(app.state, "ckan_packages", None)
            if cache is None:
                cache = ckan_context.PackageCache()
                app.state.ckan_packages = cache
    return cache


def _context(request: Request, db: Session) -> ckan_context.Context:
    state = request.app.state
    return ckan_context.Context(
        db=db,
        catalog=state.city_catalog,
        indexes=state.catalog_index,
        datacore=state.datacore,
        cache=_package_cache(request.app),
        base_url=str(request.base_url).rstrip("/"),
        path=request.url.path,
        request_id=getattr(request.state, "request_id", None),
    )


def _multi(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Query or form fields; a repeated key becomes a list, as CKAN reads it."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            out[key] = [*out[key], value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


async def _params(request: Request) -> dict[str, Any]:
    params = _multi(list(request.query_params.multi_items()))
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in FORM_TYPES[:2]:
        form = await request.form()
        fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        return {**params, **_multi(fields)}
    # Bounded in size before this reads it (web.limits); depth and strings checked as it parses
    # (a NUL is let through: the actions only search with what they are sent, as from a query).
    body = await request.body()
    if not body.strip():
        return params
    try:
        data = requestbody.loads(body, nul_allowed=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"JSON Error: Error decoding JSON data: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest(
            f"JSON Error: Request data JSON decoded to {type(data).__name__} "
            "but it needs to be a dictionary"
        )
    return {**params, **data}


def _respond(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type=JSON if status < 400 else PROBLEM_JSON)


def _call(request: Request, name: str, raw: dict[str, Any], key: Hashable | None) -> Reply:
    # One worker thread for the session and the action: the database is touched at most for
    # the catalog's revision and the package rows a search has not encoded yet.
    with request.app.state.session_factory() as db:
        return ckan_api.call(_context(request, db), name, raw, key)


async def _run(request: Request, name: str) -> Response:
    key: Hashable | None = None
    if request.method == "GET" and name in ckan_params.KEPT_ANSWERS:
        key = (name, str(request.base_url), request.url.query)
        kept = _package_cache(request.app).answer(key)
        if kept is not None:
            return _respond(200, kept)
    try:
        raw = await _params(request)
    except BadRequest as exc:
        with request.app.state.session_factory() as db:
            return _respond(*ckan_api.bad_request(_context(request, db), name, str(exc)))
    return _respond(*await run_in_threadpool(_call, request, name, raw, key))


def _endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
    @accepts(own_json=True)
    async def endpoint(request: Request) -> Response:
        return await _run(request, name)

    endpoint.__name__ = name
    return endpoint


def _query_parameters(action: ckan_actions.Action) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "in": "query",
            "required": p.required,
            "description": p.description,
            "schema": QUERY_SCHEMAS[p.kind],
        }
        for p in action.params
    ]


def _body(action: ckan_actions.Action) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            p.name: {**BODY_SCHEMAS[p.kind], "description": p.description} for p in action.params
        },
        "required": [p.name for p in action.params if p.required],
    }
    return {"required": False, "content": {"application/json": {"schema": schema}}}


for _action in ckan_actions.ACTIONS.values():
    _path = f"{ckan_params.API_PATH}{_action.name}"
    _description = f"{_action.doc}\n\nCKAN-compatible: same parameters, same envelope."
    api.add_api_route(
        _path,
        _endpoint(_action.name),
        methods=["GET"],
        name=f"ckan_{_action.name}_get",
        summary=_action.summary,
        description=_description,
        responses=RESPONSES,
        response_class=Response,
        openapi_extra={"parameters": _query_parameters(_action)},
    )
    api.add_api_route(
        _path,
        _endpoint(_action.name),
        methods=["POST"],
        name=f"ckan_{_action.name}_post",
        summary=f"{_action.summary} (JSON body)",
        description=_description,
        responses=RESPONSES,
        response_class=Response,
        openapi_extra={"requestBody": _body(_action)},
    )


@api.api_route("/api/3/action/{name}", methods=["GET", "POST"], include_in_schema=False)
@api.api_route("/api/action/{name}", methods=["GET", "POST"], include_in_schema=False)
@accepts(own_json=True)
async def any_action(request: Request, name: str) -> Response:
    """Every action under its CKAN paths (and CKAN's answer to an unknown action name)."""
    return await _run(request, name)


@api.get("/api/3", include_in_schema=False)
def api_version() -> dict[str, int]:
    return {"version": 3}

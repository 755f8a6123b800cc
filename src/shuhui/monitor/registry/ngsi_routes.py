"""The registry's NGSI-LD API (``/ngsi-ld/v1/…``, ETSI GS CIM 009, the subset in
``docs/ngsi-ld.md``): query entities, one entity, the types. Any officer, data operator or
admin; errors are the standard's ProblemDetails (``https://uri.etsi.org/ngsi-ld/errors/…``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from shuhui.monitor.registry import ngsi, service
from shuhui.monitor.registry.routes import content_of, core_of
from shuhui.trust.identity.deps import require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/ngsi-ld/v1", tags=["NGSI-LD (ETSI GS CIM 009)"])
Reader = Annotated[User, Depends(require_role(Role.officer, Role.data_operator, Role.admin))]

JSON = "application/json"
JSON_LD = "application/ld+json"
PROBLEM = "application/problem+json"
_PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
    },
    "required": ["type"],
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {PROBLEM: {"schema": _PROBLEM_SCHEMA}}}
    for status, text in (
        (400, "BadRequestData: a parameter is malformed or out of bounds"),
        (404, "ResourceNotFound"),
        (406, "NotAcceptable: Accept names neither application/json nor application/ld+json"),
    )
}
OPTIONS = ["keyValues", "simplified", "normalized", "concise", "sysAttrs"]
# What the schema tells a client of ``attrs``: up to 50 names, comma-separated, none empty.
ATTRS_PATTERN = r"^[^,]{1,64}(,[^,]{1,64}){0,49}$"
_ENTITIES = {"content": {JSON: {}, JSON_LD: {}}, "description": "The entities (an array)"}


def _problem(error: ngsi.NgsiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, media_type=PROBLEM)


def _media(request: Request) -> str:
    """``application/ld+json`` when asked for, else JSON; 406 for a type neither covers."""
    accept = request.headers.get("accept", "")
    if len(accept) > 1_000:
        raise ngsi.bad_request("Accept 请求头过长")
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",") if part.strip()]
    if JSON_LD in kinds:
        return JSON_LD
    if not kinds or any(k in (JSON, "*/*", "application/*") for k in kinds):
        return JSON
    raise ngsi.NgsiError(
        "NotAcceptable",
        "无法提供所要求的格式",
        "仅支持 application/json 与 application/ld+json",
        406,
    )


def _context_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + ngsi.CONTEXT_PATH


def _answer(
    request: Request, media: str, body: Any, headers: dict[str, str] | None = None
) -> JSONResponse:
    extra = dict(headers or {})
    if media == JSON:
        extra["Link"] = (
            f'<{_context_url(request)}>; rel="http://www.w3.org/ns/json-ld#context"; '
            'type="application/ld+json"'
        )
    return JSONResponse(body, media_type=media, headers=extra)


def _bounded(name: str, value: str | None, limit: int) -> str | None:
    if value is not None and len(value) > limit:
        raise ngsi.bad_request(f"{name} 过长（不超过{limit}个字符）")
    return value


def _whole(name: str, value: str | None, default: int, top: int) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 10 or int(value) > top:
        raise ngsi.bad_request(f"{name} 须为 0–{top} 的整数")
    return int(value)


def _options(value: str | None) -> set[str]:
    found = set(ngsi.split_list(value, "options", 5)) if value else set()
    unknown = found - {"keyValues", "simplified", "normalized", "concise", "sysAttrs"}
    if unknown:
        raise ngsi.bad_request(f"不支持的 options：{'、'.join(sorted(unknown))}")
    return found


@api.get(
    "/entities",
    summary="Query entities (type, id, idPattern, q, attrs; limit ≤ 1000)",
    responses={200: _ENTITIES, **_ERRORS},
    response_class=JSONResponse,
)
def query_entities(
    request: Request,
    user: Reader,
    type: Annotated[
        str | None, Query(description="entity types, comma-separated (≤ 1,000 chars)")
    ] = None,
    id: Annotated[
        str | None, Query(description="entity ids (URIs), comma-separated, ≤ 100")
    ] = None,
    idPattern: Annotated[
        str | None, Query(description="regular expression over the id (RE2, ≤ 256 chars)")
    ] = None,
    q: Annotated[
        str | None, Query(description="query over attributes (≤ 1,000 chars; docs/ngsi-ld.md)")
    ] = None,
    attrs: Annotated[str | None, Query(description="attributes to return, comma-separated")] = None,
    limit: Annotated[str | None, Query(description="0–1000, default 20")] = None,
    offset: Annotated[str | None, Query(description="0–1000000000")] = None,
    options: Annotated[str | None, Query(description="keyValues (or simplified)")] = None,
    count: Annotated[
        str | None, Query(description="true: the total in NGSILD-Results-Count")
    ] = None,
) -> JSONResponse:
    try:
        media = _media(request)
        for name, value, top in (
            ("type", type, 1_000),
            ("id", id, 20_000),
            ("idPattern", idPattern, ngsi.MAX_PATTERN),
            ("q", q, ngsi.MAX_Q),
            ("attrs", attrs, 1_000),
        ):
            _bounded(name, value, top)
        if not any((type, id, idPattern, q, attrs)):
            raise ngsi.bad_request("至少需要 type、id、idPattern、q 或 attrs 之一")
        if count not in (None, "true", "false"):
            raise ngsi.bad_request("count 须为 true 或 false")
        shown = _options(options)
        chosen = None if attrs is None else ngsi.split_list(attrs, "attrs", 50)
        query = service.EntityQuery(
            types=None if type is None else ngsi.split_list(type, "type", 50),
            ids=None if id is None else ngsi.split_list(id, "id"),
            id_pattern=idPattern,
            q=None if q is None else ngsi.parse_q(q),
            attrs=chosen,
        )
        page = service.query_entities(
            core_of(request),
            *content_of(request),
            query,
            _whole("offset", offset, 0, 1_000_000_000),
            _whole("limit", limit, ngsi.DEFAULT_LIMIT, ngsi.MAX_LIMIT),
        )
    except ngsi.NgsiError as error:
        return _problem(error)
    key_values = bool(shown & {"keyValues", "simplified"})
    context = _context_url(request) if media == JSON_LD else None
    body = [ngsi.entity(row, kind, chosen, key_values, context) for kind, row in page.rows]
    headers = {"NGSILD-Results-Count": str(page.total)} if count == "true" else None
    return _answer(request, media, body, headers)


@api.get(
    "/entities/{entity_id}",
    summary="One entity",
    responses={200: {"content": {JSON: {}, JSON_LD: {}}, "description": "The entity"}, **_ERRORS},
    response_class=JSONResponse,
)
def one_entity(
    request: Request,
    user: Reader,
    entity_id: Annotated[
        str,
        Path(
            max_length=200,
            description="urn:ngsi-ld:<Type>:<asset id>",
            json_schema_extra={"pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"},
        ),
    ],
    attrs: Annotated[
        str | None,
        Query(
            description="attributes to return, comma-separated",
            json_schema_extra={"pattern": ATTRS_PATTERN, "maxLength": 1000},
        ),
    ] = None,
    options: Annotated[
        str | None,
        Query(description="keyValues (or simplified)", json_schema_extra={"enum": OPTIONS}),
    ] = None,
) -> JSONResponse:
    try:
        media = _media(request)
        _bounded("attrs", attrs, 1_000)
        shown = _options(options)
        chosen = None if attrs is None else ngsi.split_list(attrs, "attrs", 50)
        kind, row = service.entity_by_id(core_of(request), *content_of(request), entity_id)
    except ngsi.NgsiError as error:
        return _problem(error)
    context = _context_url(request) if media == JSON_LD else None
    key_values = bool(shown & {"keyValues", "simplified"})
    return _answer(request, media, ngsi.entity(row, kind, chosen, key_values, context))


@api.get(
    "/types",
    summary="The entity types (details=true: with their attributes)",
    responses={200: {"content": {JSON: {}, JSON_LD: {}}, "description": "The types"}, **_ERRORS},
    response_class=JSONResponse,
)
def types(
    request: Request,
    user: Reader,
    details: Annotated[
        str | None,
        Query(
            description="true: EntityType objects", json_schema_extra={"enum": ["true", "false"]}
        ),
    ] = None,
) -> JSONResponse:
    try:
        media = _media(request)
        if details not in (None, "true", "false"):
            raise ngsi.bad_request("details 须为 true 或 false")
        found = service.entity_types(core_of(request), *content_of(request))
    except ngsi.NgsiError as error:
        return _problem(error)
    context = _context_url(request) if media == JSON_LD else None
    body: Any
    if details == "true":
        body = [
            {
                "id": f"urn:ngsi-ld:EntityType:{name}",
                "type": "EntityType",
                "typeName": name,
                "attributeNames": list(ngsi.ALL_ATTRIBUTES),
                **({"@context": [context, ngsi.CORE_CONTEXT]} if context else {}),
            }
            for name, _ in found
        ]
    else:
        body = {
            "id": "urn:ngsi-ld:EntityTypeList:shuhui-registry",
            "type": "EntityTypeList",
            "typeList": [name for name, _ in found],
            **({"@context": [context, ngsi.CORE_CONTEXT]} if context else {}),
        }
    return _answer(request, media, body)

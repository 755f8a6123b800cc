"""The catalog as DCAT-AP 3 over HTTP: the whole catalog and each dataset, Turtle and JSON-LD.

The whole catalog is streamed the first time it is asked for at a catalog revision, and served
from the process's cache (``app.state.dcat_exports``) after that, gzip-compressed to clients that
accept it.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from shuhui.catalog import service as catalog_service
from shuhui.catalog.dcat.cache import ExportCache, gunzip_chunks, tee_gzip
from shuhui.catalog.dcat.describe import Describer
from shuhui.catalog.dcat.serialise import catalog_chunks, dataset_graph, serialise
from shuhui.catalog.dcat.snapshot import snapshot
from shuhui.catalog.dcat.terms import MEDIA_TYPES, Format, base_iri
from shuhui.trust.identity.deps import DB

pages = APIRouter(tags=["catalog (DCAT-AP 3)"])

_CACHE_LOCK = threading.Lock()


def _responses(fmt: Format) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {MEDIA_TYPES[fmt].split(";")[0]: {}}}}


def _exports(request: Request) -> ExportCache:
    state = request.app.state
    with _CACHE_LOCK:
        cache = getattr(state, "dcat_exports", None)
        if cache is None:
            cache = state.dcat_exports = ExportCache()
    assert isinstance(cache, ExportCache)
    return cache


def _accepts_gzip(request: Request) -> bool:
    for coding in request.headers.get("accept-encoding", "").split(","):
        name, _, params = coding.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            quality = params.strip().replace(" ", "")
            return quality not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _whole(request: Request, db: DB, fmt: Format) -> Response:
    base = base_iri(str(request.base_url))
    exports = _exports(request)
    media_type = MEDIA_TYPES[fmt]
    gzip = _accepts_gzip(request)
    headers = {"Vary": "Accept-Encoding"}
    if gzip:
        headers["Content-Encoding"] = "gzip"
    cached = exports.get(fmt, base, catalog_service.revision(db))
    if cached is not None:
        if gzip:
            return Response(cached, media_type=media_type, headers=headers)
        return StreamingResponse(gunzip_chunks(cached), media_type=media_type, headers=headers)
    snap = snapshot(db)
    describer = Describer(base, request.app.state.city_catalog)

    def keep(gzipped: bytes) -> None:
        exports.put(fmt, base, snap.revision, gzipped)

    body = tee_gzip(catalog_chunks(describer, snap, fmt), keep, send_gzip=gzip)
    return StreamingResponse(body, media_type=media_type, headers=headers)


def _one(request: Request, db: DB, name: str, fmt: Format) -> Response:
    snap = snapshot(db, name)
    describer = Describer(base_iri(str(request.base_url)), request.app.state.city_catalog)
    graph = dataset_graph(describer, snap.datasets[0])
    return Response(serialise(graph, fmt), media_type=MEDIA_TYPES[fmt])


@pages.get(
    "/catalog.ttl",
    response_class=Response,
    responses=_responses("turtle"),
    summary="The whole catalog as DCAT-AP 3 (Turtle)",
)
def catalog_turtle(request: Request, db: DB) -> Response:
    return _whole(request, db, "turtle")


@pages.get(
    "/catalog.jsonld",
    response_class=Response,
    responses=_responses("json-ld"),
    summary="The whole catalog as DCAT-AP 3 (JSON-LD)",
)
def catalog_jsonld(request: Request, db: DB) -> Response:
    return _whole(request, db, "json-ld")


@pages.get(
    "/catalog/datasets/{name}.ttl",
    response_class=Response,
    responses=_responses("turtle"),
    summary="One dataset as DCAT-AP 3 (Turtle)",
)
def dataset_turtle(request: Request, db: DB, name: str) -> Response:
    return _one(request, db, name, "turtle")


@pages.get(
    "/catalog/datasets/{name}.jsonld",
    response_class=Response,
    responses=_responses("json-ld"),
    summary="One dataset as DCAT-AP 3 (JSON-LD)",
)
def dataset_jsonld(request: Request, db: DB, name: str) -> Response:
    return _one(request, db, name, "json-ld")

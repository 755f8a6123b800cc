"""Platform pages and endpoints: home (the workbench once logged in), health, problem types,
identifiers, regions, API docs."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Annotated, Any

import fastapi_offline
from fastapi import APIRouter, Body, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import text

import shuhui
from shuhui.core import ids
from shuhui.core.errors import PROBLEM_TYPES, Problem
from shuhui.core.http import render
from shuhui.core.migrate import current_revision, head_revision
from shuhui.core.regions import qingdao_districts
from shuhui.trust.identity.deps import DB, OptionalUser
from shuhui.web import workbench

pages = APIRouter(include_in_schema=False)
health = APIRouter(tags=["platform"])
api = APIRouter(prefix="/api/v1", tags=["platform"])

DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"


@pages.get("/", response_class=HTMLResponse)
def home(request: Request, db: DB, user: OptionalUser) -> Response:
    """A logged-in person's workbench (工作台); a visitor's introduction to the platform."""
    if user is not None:
        return workbench.page(request, db, user)
    tables = request.app.state.datacore.tables()
    return render(
        request,
        "home.html",
        {
            "districts": qingdao_districts(),
            "table_count": len(tables),
            "row_total": sum(t.rows for t in tables),
            "departments": len({t.department for t in tables}),
        },
    )


@pages.get("/problems/{slug}", response_class=HTMLResponse)
def problem_type_page(request: Request, slug: str) -> Response:
    ptype = PROBLEM_TYPES.get(slug)
    if ptype is None:
        raise Problem("not-found", detail=f"没有名为 {slug} 的错误类型")
    return render(request, "problem_type.html", {"ptype": ptype})


@pages.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="数慧 Shuhui API",
        swagger_js_url="/static/docs/swagger-ui-bundle.js",
        swagger_css_url="/static/docs/swagger-ui.css",
        swagger_favicon_url="/static/docs/favicon.png",
    )


@health.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok", "version": shuhui.__version__}


@health.get("/readyz", summary="Readiness: database reachable, schema current, data dir writable")
def readyz(request: Request) -> Response:
    checks: dict[str, Any] = {}
    ok = True
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current, head = current_revision(engine), head_revision()
        checks["migrations"] = "ok" if current == head else f"at {current}, head is {head}"
        ok = ok and current == head
    except Exception as exc:  # readiness reports any failure rather than raising
        checks["database"] = f"error: {type(exc).__name__}"
        ok = False
    data_dir = request.app.state.settings.data_dir
    # Each node and process its own probe file: several nodes share one data directory, and
    # a shared name let one node's unlink fail another's check.
    probe = data_dir / f".ready-probe.{socket.gethostname()}.{os.getpid()}.{threading.get_ident()}"
    try:
        probe.write_text("ok")
        probe.unlink()
        checks["data_dir"] = "ok"
    except OSError as exc:
        checks["data_dir"] = f"error: {exc.strerror}"
        ok = False
    if not ok:
        raise Problem("not-ready", detail="依赖未就绪", extra={"checks": checks})
    return JSONResponse({"status": "ready", "checks": checks})


class IdCheckOut(BaseModel):
    value: str
    valid: bool
    kind: str | None
    reason: str | None


class IdCheckIn(BaseModel):
    values: Annotated[
        list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=1000)
    ]


@api.post(
    "/ids/check",
    response_model=list[IdCheckOut],
    summary="Check citizen identity numbers (GB 11643) and credit codes (GB 32100)",
)
def check_ids(body: Annotated[IdCheckIn, Body()]) -> list[IdCheckOut]:
    return [IdCheckOut.model_validate(ids.check(v).as_dict()) for v in body.values]


class RegionOut(BaseModel):
    code: str
    name: str
    name_en: str
    kind: str


@api.get("/regions", response_model=list[RegionOut], summary="Qingdao's districts (GB/T 2260)")
def regions() -> list[RegionOut]:
    return [
        RegionOut(code=r.code, name=r.name, name_en=r.name_en, kind=r.kind)
        for r in qingdao_districts()
    ]

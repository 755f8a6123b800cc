"""Insight's API (/api/v1/insight/…): the maps, every indicator with its figure, definition and
inputs, a figure's breakdowns as CSV, the list behind a figure (for the department answerable
for it), the leaders' dashboard."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from shuhui.core.bounds import Month
from shuhui.core.clock import local_today
from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.settings import Settings
from shuhui.insight import report, service, tasks
from shuhui.insight.schemas import (
    ScopeIn,
    listing_json,
    map_json,
    month_start,
    outcome_json,
)
from shuhui.trust.identity.deps import DB, require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/insight", tags=["insight (数据洞察、五张图)"])
# Aggregates: the city's leaders, department officers, the data bureau, administrators.
VIEWERS = (Role.leader, Role.officer, Role.data_operator, Role.admin)
Viewer = Annotated[User, Depends(require_role(*VIEWERS))]
Code = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Given = Annotated[ScopeIn, Query()]


def staff(user: User) -> bool:
    """Works in a department (an officer, or the data bureau's operator): may see the lists
    behind its own department's figures."""
    return bool(user.role_set & {Role.officer, Role.data_operator})


def settings_of(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def reader(request: Request, db: DB) -> service.Reader:
    return service.Reader(settings_of(request), db, local_today())


@api.get("/maps")
def maps(request: Request, user: Viewer) -> dict[str, Any]:
    return {"maps": [map_json(m) for m in service.maps(settings_of(request)).values()]}


@api.get("/maps/{code}")
def map_figures(code: Code, given: Given, request: Request, db: DB, user: Viewer) -> dict[str, Any]:
    settings = settings_of(request)
    found = service.map_of(settings, code)
    scope = given.scope()
    inds = service.of_map(settings, code, local_today())
    read = reader(request, db)
    return {
        "map": map_json(found),
        "indicators": [outcome_json(o) for o in read.outcomes(inds, scope)],
    }


@api.get("/maps/{code}/report")
def map_report(
    code: Code,
    request: Request,
    db: DB,
    user: Viewer,
    month: Annotated[Month | None, Query(description="YYYY-MM; default: last month")] = None,
) -> Response:
    """The map's monthly analysis report as a PDF (charts drawn in, Chinese font embedded)."""
    settings = settings_of(request)
    found = service.map_of(settings, code)
    today = local_today()
    chosen = report_month(month, today)
    made = report.monthly(reader(request, db), found, chosen)
    name = report.report_name(found, chosen)
    return Response(
        made.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(str(name))}"},
    )


def report_month(month: str | None, today: date) -> date:
    """The month asked for (``YYYY-MM``), or last month."""
    return tasks.last_month(today) if month is None else month_start(month)


@api.get("/reports")
def reports(request: Request, user: Viewer) -> dict[str, Any]:
    """The monthly reports made on the schedule and kept, newest first."""
    return {
        "reports": [
            {
                "map": r.map,
                "month": f"{r.month:%Y-%m}",
                "bytes": r.size,
                "made_at": r.made_at.isoformat(),
                "href": f"/api/v1/insight/reports/{r.month:%Y-%m}/{r.map}",
            }
            for r in tasks.stored(settings_of(request))
        ]
    }


@api.get("/reports/{month}/{code}")
def stored_report(
    month: Annotated[Month, Path(description="YYYY-MM")], code: Code, request: Request, user: Viewer
) -> Response:
    settings = settings_of(request)
    found = service.map_of(settings, code)
    chosen = report_month(month, local_today())
    path = tasks.path_of(settings, code, chosen)
    if not path.is_file():
        raise Problem(
            "not-found",
            Text("这个月的报告还没有生成", "no report kept for that month"),
            errors=[FieldError("month", Text("没有这个月的报告", "no report for this month"))],
        )
    name = report.report_name(found, chosen)
    return Response(
        path.read_bytes(),
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(str(name))}"},
    )


@api.get("/indicators")
def indicators(given: Given, request: Request, db: DB, user: Viewer) -> dict[str, Any]:
    settings = settings_of(request)
    scope = given.scope()
    read = reader(request, db)
    inds = list(service.indicators(settings, local_today()).values())
    return {"indicators": [outcome_json(o, definition=True) for o in read.outcomes(inds, scope)]}


@api.get("/indicators/{code}")
def indicator(code: Code, given: Given, request: Request, db: DB, user: Viewer) -> dict[str, Any]:
    ind = service.indicator(settings_of(request), code)
    return outcome_json(reader(request, db).outcome(ind, given.scope()), definition=True)


@api.get("/indicators/{code}/csv")
def indicator_csv(code: Code, given: Given, request: Request, db: DB, user: Viewer) -> Response:
    """The figure and its breakdowns as CSV (UTF-8 with a BOM, which spreadsheet programs need
    to read Chinese): one row per cell, withheld cells empty."""
    ind = service.indicator(settings_of(request), code)
    o = reader(request, db).outcome(ind, given.scope())
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow(["指标", "分组方式", "项", "数值", "单位", "说明"])
    f = o.figure
    if f is not None:
        where = "全市" if f.district is None else f.district
        w.writerow([ind.name, "合计", where, _v(f.value), ind.unit, _note(f.withheld)])
        parts = (("按区（市）", f.by_district), ("按月", f.by_month), ("按类别", f.by_group))
        for kind, cells in parts:
            for c in cells:
                w.writerow([ind.name, kind, c.label, _v(c.value), ind.unit, _note(c.withheld)])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{ind.code}.csv"'},
    )


def _note(withheld: bool) -> str:
    return "涉及人数少于10人，已隐去" if withheld else ""


def _v(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


@api.get("/indicators/{code}/rows")
def indicator_rows(
    code: Code, given: Given, request: Request, db: DB, user: Viewer
) -> dict[str, Any]:
    """The list behind a figure, for the officers of the department answerable for it (each
    view an ``insight.list_viewed`` ledger entry); everyone else is refused with a 403."""
    ind = service.indicator(settings_of(request), code)
    found = service.listing(
        reader(request, db),
        ind,
        given.scope(),
        actor=f"user:{user.username}",
        department=user.department,
        is_officer=staff(user),
    )
    return listing_json(found)


@api.get("/dashboard")
def dashboard(request: Request, db: DB, user: Viewer) -> dict[str, Any]:
    settings = settings_of(request)
    read = reader(request, db)
    scope = ScopeIn().scope()
    return {
        "maps": [
            {**map_json(m), "indicators": [outcome_json(o) for o in read.outcomes(inds, scope)]}
            for m, inds in service.on_dashboard(settings, local_today())
        ],
    }

"""Insight's pages: the maps' index ``/insight``, each map ``/insight/maps/{code}`` (filters,
charts, the district map, each figure's "how is this computed?"), an indicator's definition and
inputs ``/insight/indicators/{code}``, the list behind it ``…/rows`` (its department only), and
the leaders' dashboard ``/dashboard`` (full screen, refreshing live)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from shuhui.core.clock import local_today
from shuhui.core.errors import Problem
from shuhui.core.forms import validate
from shuhui.core.http import render
from shuhui.core.regions import qingdao_districts
from shuhui.insight import service, tasks
from shuhui.insight.routes import Code, Viewer, reader, settings_of, staff
from shuhui.insight.schemas import ScopeIn, listing_json, map_json, outcome_json
from shuhui.trust.identity.deps import DB

pages = APIRouter(include_in_schema=False)
SCOPE_KEYS = ("start", "end", "district")


def _given(request: Request) -> ScopeIn:
    raw = {k: v for k, v in request.query_params.items() if k in SCOPE_KEYS and v != ""}
    return validate(ScopeIn, raw)


def _query(given: ScopeIn) -> str:
    kept = {k: v for k, v in given.model_dump().items() if v}
    return "?" + urlencode(kept) if kept else ""


def _districts() -> list[dict[str, str]]:
    return [{"code": r.code, "name": r.name, "name_en": r.name_en} for r in qingdao_districts()]


@pages.get("/insight", response_class=HTMLResponse)
def index(request: Request, user: Viewer) -> Response:
    found = service.maps(settings_of(request))
    counts = {
        code: len(service.of_map(settings_of(request), code, local_today())) for code in found
    }
    return render(
        request,
        "insight_index.html",
        {"maps": [map_json(m) for m in found.values()], "counts": counts},
    )


@pages.get("/insight/maps/{code}", response_class=HTMLResponse)
def map_page(code: Code, request: Request, db: DB, user: Viewer) -> Response:
    settings = settings_of(request)
    found = service.map_of(settings, code)
    given = _given(request)
    scope = given.scope()
    outcomes = reader(request, db).outcomes(service.of_map(settings, code, local_today()), scope)
    is_officer = staff(user)
    return render(
        request,
        "insight_map.html",
        {
            "map": map_json(found),
            "maps": [map_json(m) for m in service.maps(settings).values()],
            "figures": [
                {
                    **outcome_json(o),
                    "may_list": service.may_list(o.indicator, user.department, is_officer)
                    and service.measure_of(o.indicator) is not None,
                }
                for o in outcomes
            ],
            "given": given.model_dump(),
            "query": _query(given),
            "districts": _districts(),
            "reports": tasks.stored(settings, code)[:12],
        },
    )


@pages.get("/insight/indicators/{code}", response_class=HTMLResponse)
def indicator_page(code: Code, request: Request, db: DB, user: Viewer) -> Response:
    settings = settings_of(request)
    ind = service.indicator(settings, code)
    given = _given(request)
    o = reader(request, db).outcome(ind, given.scope())
    return render(
        request,
        "insight_indicator.html",
        {
            "ind": outcome_json(o, definition=True),
            "map": map_json(service.map_of(settings, ind.map)),
            "given": given.model_dump(),
            "query": _query(given),
            "districts": _districts(),
            "may_list": service.may_list(ind, user.department, staff(user)),
        },
    )


@pages.get("/insight/indicators/{code}/rows", response_class=HTMLResponse)
def rows_page(code: Code, request: Request, db: DB, user: Viewer) -> Response:
    settings = settings_of(request)
    ind = service.indicator(settings, code)
    given = _given(request)
    read = reader(request, db)
    context: dict[str, Any] = {
        "ind": outcome_json(read.outcome(ind, given.scope())),
        "query": _query(given),
    }
    try:
        found = service.listing(
            read,
            ind,
            given.scope(),
            actor=f"user:{user.username}",
            department=user.department,
            is_officer=staff(user),
        )
    except Problem as refusal:
        if refusal.slug != "forbidden":
            raise
        return render(
            request, "insight_rows.html", {**context, "refused": refusal.detail}, status=403
        )
    return render(request, "insight_rows.html", {**context, "rows": listing_json(found)})


@pages.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, db: DB, user: Viewer) -> Response:
    settings = settings_of(request)
    read = reader(request, db)
    scope = ScopeIn().scope()
    return render(
        request,
        "insight_dashboard.html",
        {
            "maps": [
                {**map_json(m), "indicators": [outcome_json(o) for o in read.outcomes(inds, scope)]}
                for m, inds in service.on_dashboard(settings, local_today())
            ],
        },
    )

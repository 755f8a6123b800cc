"""The registry's pages: ``/monitor/infrastructure`` (progress against the plan by indicator,
district and month, and the district map) and ``/monitor/infrastructure/assets`` (the list)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from shuhui.core.errors import Problem
from shuhui.core.forms import validate
from shuhui.core.http import render
from shuhui.core.regions import qingdao_districts
from shuhui.monitor.devices import sensor_types
from shuhui.monitor.registry import content, service
from shuhui.monitor.registry.routes import content_of, core_of
from shuhui.monitor.registry.schemas import AssetFilter, ProgressFilter, ProgressOut, month_start
from shuhui.standard.vocabularies import ASSET_STATUSES
from shuhui.trust.identity.deps import require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

pages = APIRouter(include_in_schema=False)
Reader = Annotated[User, Depends(require_role(Role.officer, Role.data_operator, Role.admin))]


def _query(request: Request, keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in request.query_params.items() if k in keys and v != ""}


@pages.get("/monitor/infrastructure", response_class=HTMLResponse)
def progress_page(request: Request, user: Reader) -> Response:
    core = core_of(request)
    content_dir, city = content_of(request)
    indicators = content.indicators(content_dir, city)
    chosen = request.query_params.get("indicator") or next(iter(indicators))
    if chosen not in indicators:
        chosen = next(iter(indicators))
    given = validate(ProgressFilter, _query(request, ("year", "start", "end")))
    overview = [ProgressOut.of(p, series=False) for p in service.overview(core, content_dir, city)]
    shown = service.progress_of(
        core,
        content_dir,
        city,
        chosen,
        year=given.year,
        start=month_start(given.start),
        end=month_start(given.end),
    )
    return render(
        request,
        "registry_progress.html",
        {
            "user": user,
            "overview": overview,
            "shown": ProgressOut.of(shown),
            "chosen": chosen,
        },
    )


@pages.get("/monitor/infrastructure/assets", response_class=HTMLResponse)
def assets_page(request: Request, user: Reader) -> Response:
    core = core_of(request)
    content_dir, city = content_of(request)
    keys = tuple(AssetFilter.model_fields)
    typed = _query(request, keys)
    refusal: Problem | None = None
    try:
        given = validate(AssetFilter, typed)
    except Problem as problem:
        refusal, given = problem, AssetFilter()
    page = service.search_assets(core, given.query(), given.offset, given.limit)
    types = content.asset_types(content_dir, city)
    return render(
        request,
        "registry_assets.html",
        {
            "user": user,
            "page": page,
            "given": given,
            "typed": typed,
            "refusal": refusal,
            "types": types,
            "statuses": ASSET_STATUSES,
            "districts": {r.code: r for r in qingdao_districts()},
            "sensor_types": sensor_types(content_dir, city),
            "operators": service.operators(core),
        },
        status=refusal.http_status if refusal is not None else 200,
    )

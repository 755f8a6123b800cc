"""The registry over HTTP (``/api/v1/monitor/infrastructure/…``): indicators and their
progress against the plan, the asset list and one asset. Any officer, data operator or admin."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from shuhui.datacore.store import DataCore
from shuhui.monitor.registry import service
from shuhui.monitor.registry.schemas import (
    AssetFilter,
    AssetId,
    AssetOut,
    AssetPageOut,
    ProgressFilter,
    ProgressOut,
    month_start,
)
from shuhui.trust.identity.deps import require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

api = APIRouter(prefix="/api/v1/monitor/infrastructure", tags=["infrastructure (数字基础设施)"])
Reader = Annotated[User, Depends(require_role(Role.officer, Role.data_operator, Role.admin))]


def core_of(request: Request) -> DataCore:
    core: DataCore = request.app.state.datacore
    return core


def content_of(request: Request) -> tuple[FilePath, str]:
    settings = request.app.state.settings
    return settings.content_dir, settings.city


@api.get("/indicators", summary="Every indicator now, against this year's target")
def indicators(request: Request, user: Reader) -> list[ProgressOut]:
    found = service.overview(core_of(request), *content_of(request))
    return [ProgressOut.of(p, series=False) for p in found]


@api.get("/progress/{code}", summary="One indicator by district and by month, against targets")
def progress(
    code: Annotated[str, Path(pattern=r"^[a-z0-9-]{1,64}$")],
    given: Annotated[ProgressFilter, Query()],
    request: Request,
    user: Reader,
) -> ProgressOut:
    found = service.progress_of(
        core_of(request),
        *content_of(request),
        code,
        year=given.year,
        start=month_start(given.start),
        end=month_start(given.end),
    )
    return ProgressOut.of(found)


@api.get("/assets", summary="Assets, filtered and paged")
def assets(given: Annotated[AssetFilter, Query()], request: Request, user: Reader) -> AssetPageOut:
    page = service.search_assets(core_of(request), given.query(), given.offset, given.limit)
    return AssetPageOut(
        total=page.total,
        offset=page.offset,
        limit=page.limit,
        items=[AssetOut(**row) for row in page.rows],
    )


@api.get("/assets/{asset_id}", summary="One asset")
def one_asset(asset_id: Annotated[AssetId, Path()], request: Request, user: Reader) -> AssetOut:
    return AssetOut(**service.asset(core_of(request), asset_id))

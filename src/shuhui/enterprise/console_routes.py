"""The platforms, their enablement and the industry system over HTTP: ``api``
(``/api/v1/enterprise/platforms``, ``/enablement``, ``/industry``) and ``pages``
(``/enterprise/platforms``, where any enterprise or officer browses platforms and solutions, and
``/enterprise/console``, the industry and IT bureau's console). Thin: the catalogue is
:mod:`shuhui.enterprise.platforms`, the figures :mod:`shuhui.enterprise.industry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from shuhui.core.content import load_items
from shuhui.core.errors import FieldError, Problem
from shuhui.core.http import render
from shuhui.core.i18n import Text
from shuhui.datacore.store import DataCore
from shuhui.enterprise import industry, needs, platforms
from shuhui.enterprise.access import (
    NEEDS_FILE,
    NEEDS_KIND,
    AnyUser,
    OfficerUser,
    content_of,
    require_bureau,
)
from shuhui.enterprise.industry import EnablementFigures, IndustryFigures, IndustrySystem
from shuhui.enterprise.platforms import Platform, PlatformCatalogue
from shuhui.standard.vocabularies import INDUSTRY_SECTIONS
from shuhui.trust.identity.deps import DB

api = APIRouter(prefix="/api/v1/enterprise", tags=["enterprise console (平台运行)"])
pages = APIRouter(include_in_schema=False)

PlatformCode = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
Section = Annotated[str | None, Query(pattern=r"^[A-T]$", description="GB/T 4754 section")]
# The capabilities are a fixed vocabulary: the schema names it, so a client learns it from there.
CapabilityCode = Annotated[str | None, Query(pattern=f"^({'|'.join(platforms.CAPABILITY_CODES)})$")]
Kind = Annotated[Literal["super", "specialised"] | None, Query()]
SECTION_NAMES: dict[str, str] = dict(INDUSTRY_SECTIONS)
KIND_NAMES: dict[str, tuple[str, str]] = {
    "super": ("超级平台", "super platform"),
    "specialised": ("专业平台", "specialised platform"),
}


def _core(request: Request) -> DataCore:
    core: DataCore = request.app.state.datacore
    return core


def _known_capability(catalogue: PlatformCatalogue, capability: str | None) -> None:
    """A capability outside the vocabulary is a refusal naming it, not an empty list."""
    if capability is not None and capability not in catalogue.capabilities:
        raise Problem(
            "validation",
            Text("没有这种数字化能力", "no such capability"),
            errors=[FieldError("capability", Text("未知的能力编码", "unknown capability"))],
        )


def _need_names(content: FilePath) -> dict[str, str]:
    needs = load_items(content / NEEDS_FILE, NEEDS_KIND)
    return {item.code: item.name_zh for item in needs}


def _bureau(request: Request, user: Any) -> FilePath:
    content = content_of(request)
    require_bureau(user, content)
    return content


# --- API -----------------------------------------------------------------------------------------


@api.get("/platforms", summary="The industrial-internet platforms and their solutions, filtered")
def list_platforms(
    request: Request,
    user: AnyUser,
    industry: Section = None,
    capability: CapabilityCode = None,
    kind: Kind = None,
) -> list[Platform]:
    catalogue = platforms.load(content_of(request))
    _known_capability(catalogue, capability)
    return list(platforms.browse(catalogue, industry=industry, capability=capability, kind=kind))


@api.get("/platforms/{code}", summary="One platform with all its solutions")
def one_platform(code: PlatformCode, request: Request, user: AnyUser) -> Platform:
    found = platforms.load(content_of(request)).platform(code)
    if found is None:
        raise Problem(
            "not-found",
            Text("没有这个平台", "no such platform"),
            errors=[FieldError("code", Text("未知的平台编码", "unknown platform"))],
        )
    return found


@api.get("/enablement", summary="Enterprises enabled per year and platform, against targets")
def enablement(request: Request, user: OfficerUser) -> EnablementFigures:
    content = _bureau(request, user)
    return industry.enablement_figures(_core(request), content)


@dataclass(frozen=True)
class IndustryView:
    """The industry system as configured, and its figures over the data core."""

    system: IndustrySystem
    figures: IndustryFigures


@api.get("/industry", summary="The digital-economy industry system and its figures")
def industry_system(request: Request, user: OfficerUser) -> IndustryView:
    content = _bureau(request, user)
    return IndustryView(
        industry.system(content), industry.industry_figures(_core(request), content)
    )


# --- pages ---------------------------------------------------------------------------------------


@pages.get("/enterprise/platforms", response_class=HTMLResponse)
def platforms_page(request: Request, user: AnyUser) -> Response:
    content = content_of(request)
    catalogue = platforms.load(content)
    query = request.query_params
    given = {
        "industry": query.get("industry") or None,
        "capability": query.get("capability") or None,
        "kind": query.get("kind") or None,
    }
    refusal: Problem | None = None
    if (
        (given["industry"] is not None and given["industry"] not in SECTION_NAMES)
        or (given["capability"] is not None and given["capability"] not in catalogue.capabilities)
        or (given["kind"] is not None and given["kind"] not in KIND_NAMES)
    ):
        refusal = Problem("validation", Text("筛选条件无效，已显示全部平台", "bad filter"))
        given = dict.fromkeys(given)
    shown = platforms.browse(catalogue, **given)
    return render(
        request,
        "enterprise_platforms.html",
        {
            "catalogue": catalogue,
            "shown": shown,
            "given": given,
            "refusal": refusal,
            "sections": SECTION_NAMES,
            "kinds": KIND_NAMES,
            "solutions_total": len(catalogue.solutions()),
            "solutions_shown": sum(len(p.solutions) for p in shown),
            "need_names": _need_names(content),
        },
        status=refusal.http_status if refusal is not None else 200,
    )


@pages.get("/enterprise/console", response_class=HTMLResponse)
def console_page(request: Request, db: DB, user: OfficerUser) -> Response:
    content = _bureau(request, user)
    core = _core(request)
    catalogue = platforms.load(content)
    sys = industry.system(content)
    missing: list[Problem] = []
    enabled: EnablementFigures | None = None
    figures: IndustryFigures | None = None
    try:
        enabled = industry.enablement_figures(core, content)
    except Problem as problem:
        missing.append(problem)
    try:
        figures = industry.industry_figures(core, content)
    except Problem as problem:
        missing.append(problem)
    need_kinds = needs.kinds(content)
    return render(
        request,
        "enterprise_console.html",
        {
            "catalogue": catalogue,
            "system": sys,
            "enabled": enabled,
            "figures": figures,
            "missing": missing,
            "kinds": KIND_NAMES,
            "charts": console_charts(enabled, figures),
            "needs": {
                "counts": needs.counts(db),
                "by_kind": [
                    {
                        **row,
                        "name": need_kinds[row["kind"]].zh
                        if row["kind"] in need_kinds
                        else row["kind"],
                    }
                    for row in needs.by_kind(db)
                ],
                "state_names": needs.STATE_NAMES,
            },
        },
    )


def _yi(fen: int) -> float:
    """Fen as 亿元 (hundreds of millions of yuan), as the charts' axes read."""
    return round(fen / 10_000_000_000, 2)


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _month(day: date) -> str:
    return f"{day.month}月"


def console_charts(
    enabled: EnablementFigures | None, figures: IndustryFigures | None
) -> dict[str, Any]:
    """What the console's charts draw, as plain JSON (each has a table beside it)."""
    charts: dict[str, Any] = {}
    if enabled is not None:
        charts["months"] = {
            "labels": [_month(m) for m in enabled.months],
            "cumulative": list(enabled.cumulative_new),
            "monthly": list(enabled.monthly_new),
            "target": enabled.target_this_year,
        }
        charts["years"] = {
            "labels": [str(y.year) for y in enabled.years],
            "new": [y.newly_enabled for y in enabled.years],
            "target": [y.target for y in enabled.years],
        }
        top = sorted(enabled.platforms, key=lambda p: -p.this_year)[:15]
        charts["platforms"] = {
            "labels": [p.name_zh for p in top],
            "values": [p.this_year for p in top],
        }
    if figures is not None:
        charts["funnel"] = [{"name": s.name_zh, "value": s.projects} for s in figures.funnel]
        charts["same_year"] = {
            "labels": [str(s.year) for s in figures.same_year],
            "shares": [_percent(s.share) for s in figures.same_year],
        }
        charts["fields"] = {
            "labels": [f.name_zh for f in figures.fields],
            "revenue": [_yi(f.revenue_fen) for f in figures.fields],
            "growth": [_percent(f.growth) for f in figures.fields],
        }
        latest = figures.output_month
        charts["layers"] = {
            # The latest year is the year so far: its label says to which month.
            "labels": [
                f"{y}年1—{latest.month}月" if latest and y == latest.year else f"{y}年"
                for y in figures.output_years
            ],
            "series": [
                {"name": layer.name_zh, "values": [_yi(v) for v in layer.yearly_fen]}
                for layer in figures.layers
            ],
        }
        charts["parks"] = {
            "labels": [p.name_zh for p in figures.parks],
            "values": [_yi(p.investment_fen) for p in figures.parks],
        }
    return charts

"""The digital-economy industry system and the platforms' enablement, in figures.

The system is content (``content/<city>/enterprise/industry.yaml``: three layers, the key fields
and their layer, the six actions and their tasks, the parks with their district and fields),
checked whole by :func:`system`. The figures are DuckDB over the data core:

- :func:`industry_figures` — the project pipeline (``industry_projects``) as a funnel (how many
  projects, and how much investment, reached each stage) and by the stage each is at now; the
  share of each year's signings started in the same year (当年签约、当年开工: a start in the
  calendar year of the signing); revenue (``digital_economy_output``) by field and by layer for
  the year so far against the same months of the year before, its year-on-year growth, and each
  year's total; projects, investment and output by park.
- :func:`enablement_figures` — enterprises newly enabled each year (an enterprise counts in the
  year of its first enablement, ``platform_enablements``) against the year's target scaled to
  this city (按本城市企业规模折算: the target times the enterprises in business here over the
  real city's, ``enablement.yaml``), month by month in the latest year, and per platform per
  year and per month.

Both are cached per city content and per version of the tables they read: a new load makes a
new version, and the next request computes afresh; until then a page costs a dictionary look-up.
Nothing here reads personal data, so nothing is written to the ledger. A data core without the
tables is a 404 ``not-found`` naming them, never a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar

import duckdb

from shuhui.core.content import ContentError, Item, load_items
from shuhui.core.errors import Problem
from shuhui.core.i18n import Text
from shuhui.core.regions import qingdao_districts
from shuhui.datacore.store import DataCore
from shuhui.enterprise.platforms import EnablementPlan, PlatformCatalogue, PlatformFigure
from shuhui.enterprise.platforms import enablement_plan as load_plan
from shuhui.enterprise.platforms import load as load_catalogue

INDUSTRY_FILE: Final = Path("enterprise") / "industry.yaml"
INDUSTRY_KIND: Final = "enterprise-industry"
PROJECTS: Final = "industry_projects"
OUTPUT: Final = "digital_economy_output"
ENABLEMENTS: Final = "platform_enablements"
ENTERPRISES: Final = "enterprises"
TYPES: Final = ("layer", "field", "action", "task", "park")
# The stages a project moves through, with the column that dates each.
STAGES: Final = (
    ("signed", "signed_date", "签约", "Signed"),
    ("started", "started_date", "开工", "Started"),
    ("completed", "completed_date", "竣工", "Completed"),
    ("producing", "producing_date", "投产", "Producing"),
)

# --- the industry system (content) -------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    code: str
    name_zh: str
    name_en: str
    description: str
    reference: str


@dataclass(frozen=True)
class KeyField:
    code: str
    name_zh: str
    name_en: str
    layer: str
    reference: str


@dataclass(frozen=True)
class Task:
    code: str
    name_zh: str
    name_en: str
    action: str
    reference: str


@dataclass(frozen=True)
class Action:
    code: str
    name_zh: str
    name_en: str
    reference: str
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class Park:
    code: str
    name_zh: str
    name_en: str
    district_code: str
    district_zh: str
    fields: tuple[str, ...]
    reference: str


@dataclass(frozen=True)
class IndustrySystem:
    layers: tuple[Layer, ...]
    fields: tuple[KeyField, ...]
    actions: tuple[Action, ...]
    parks: tuple[Park, ...]

    def field(self, code: str) -> KeyField | None:
        return next((f for f in self.fields if f.code == code), None)

    def park(self, code: str) -> Park | None:
        return next((p for p in self.parks if p.code == code), None)

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(t for a in self.actions for t in a.tasks)


def _text(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(path, where, "须为非空文字")
    return value.strip()


@cache
def system(content: Path) -> IndustrySystem:
    """The industry system of the city whose content folder is ``content``, checked whole."""
    items = load_items(content / INDUSTRY_FILE, INDUSTRY_KIND)
    path = items.path
    by_type: dict[str, list[Item]] = {kind: [] for kind in TYPES}
    for item in items:
        kind = item.attrs.get("type")
        if kind not in by_type:
            raise ContentError(path, f"{item.code}.type", f"须为 {'、'.join(TYPES)} 之一")
        by_type[str(kind)].append(item)
    for kind, found in by_type.items():
        if not found:
            raise ContentError(path, "items", f"缺少 type: {kind} 的条目")
    layers = tuple(
        Layer(i.code, i.name_zh, i.name_en, str(i.attrs.get("description", "")), i.reference)
        for i in by_type["layer"]
    )
    layer_codes = {layer.code for layer in layers}
    fields: list[KeyField] = []
    for i in by_type["field"]:
        if i.attrs.get("layer") not in layer_codes:
            raise ContentError(path, f"{i.code}.layer", "不是已列出的产业层次")
        fields.append(KeyField(i.code, i.name_zh, i.name_en, str(i.attrs["layer"]), i.reference))
    field_codes = {f.code for f in fields}
    action_codes = {i.code for i in by_type["action"]}
    tasks: dict[str, list[Task]] = {code: [] for code in action_codes}
    for i in by_type["task"]:
        action = i.attrs.get("action")
        if action not in action_codes:
            raise ContentError(path, f"{i.code}.action", "不是已列出的行动")
        tasks[str(action)].append(Task(i.code, i.name_zh, i.name_en, str(action), i.reference))
    actions = tuple(
        Action(i.code, i.name_zh, i.name_en, i.reference, tuple(tasks[i.code]))
        for i in by_type["action"]
    )
    districts = {r.code: r.name for r in qingdao_districts()}
    parks: list[Park] = []
    for i in by_type["park"]:
        district = str(i.attrs.get("district_code"))
        if district not in districts:
            raise ContentError(path, f"{i.code}.district_code", "不是本市的区（市）代码")
        hosted = i.attrs.get("fields")
        if not isinstance(hosted, list) or not hosted:
            raise ContentError(path, f"{i.code}.fields", "至少一个重点领域")
        for n, code in enumerate(hosted):
            if code not in field_codes:
                raise ContentError(path, f"{i.code}.fields[{n}]", f"未知的重点领域：{code!r}")
        parks.append(
            Park(
                i.code,
                i.name_zh,
                i.name_en,
                district,
                districts[district],
                tuple(str(c) for c in hosted),
                i.reference,
            )
        )
    return IndustrySystem(layers, tuple(fields), actions, tuple(parks))


# --- figures: the cache -------------------------------------------------------------------------

T = TypeVar("T")
_cached: dict[tuple[str, str, str], tuple[tuple[int, ...], Any]] = {}
_lock = threading.Lock()


def _versions(core: DataCore, names: tuple[str, ...]) -> tuple[int, ...]:
    current = {info.name: info.version for info in core.tables()}
    missing = [name for name in names if name not in current]
    if missing:
        raise Problem(
            "not-found",
            Text(
                f"数据底座中还没有{'、'.join(missing)}，请先加载数字经济数据",
                f"the data core holds no {', '.join(missing)} yet: load the digital-economy data",
            ),
        )
    return tuple(current[name] for name in names)


def _remembered(
    core: DataCore, content: Path, kind: str, names: tuple[str, ...], make: Callable[[], T]
) -> T:
    """``make()``'s figures, made again only when a table it reads has a new version."""
    key = (str(core.main.root), str(content), kind)
    versions = _versions(core, names)
    with _lock:
        held = _cached.get(key)
    if held is not None and held[0] == versions:
        found: T = held[1]
        return found
    made = make()
    with _lock:
        _cached[key] = (versions, made)
    return made


def forget() -> None:
    """Drops every cached figure (tests that rebuild a city under the same folder)."""
    with _lock:
        _cached.clear()


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    return con.execute(sql, params).fetchall()


# --- figures: the industry system ----------------------------------------------------------------


@dataclass(frozen=True)
class StageFigure:
    stage: str
    name_zh: str
    name_en: str
    projects: int
    investment_fen: int


@dataclass(frozen=True)
class SameYearShare:
    year: int
    signed: int
    started_same_year: int
    share: float | None


@dataclass(frozen=True)
class FieldOutput:
    code: str
    name_zh: str
    name_en: str
    layer: str
    enterprises: int  # reporting in the latest month
    revenue_fen: int  # the latest year, January to the latest month
    previous_fen: int  # the same months of the year before
    growth: float | None
    yearly_fen: tuple[int, ...]  # per year of IndustryFigures.output_years (the last: so far)


@dataclass(frozen=True)
class LayerOutput:
    code: str
    name_zh: str
    name_en: str
    revenue_fen: int
    previous_fen: int
    growth: float | None
    yearly_fen: tuple[int, ...]


@dataclass(frozen=True)
class ParkFigure:
    code: str
    name_zh: str
    name_en: str
    district_code: str
    district_zh: str
    projects: int
    investment_fen: int
    producing: int
    annual_output_fen: int


@dataclass(frozen=True)
class IndustryFigures:
    as_of: date | None  # the newest date the figures hold
    projects: int
    investment_fen: int
    funnel: tuple[StageFigure, ...]  # projects that reached each stage
    stages: tuple[StageFigure, ...]  # projects at each stage now
    same_year: tuple[SameYearShare, ...]
    output_month: date | None  # the latest month of revenue
    output_years: tuple[int, ...]
    revenue_fen: int
    previous_fen: int
    growth: float | None
    fields: tuple[FieldOutput, ...]
    layers: tuple[LayerOutput, ...]
    parks: tuple[ParkFigure, ...]


def _growth(now: int, before: int) -> float | None:
    return None if before <= 0 else now / before - 1


def industry_figures(core: DataCore, content: Path) -> IndustryFigures:
    """The industry system's figures over the data core (cached per table version)."""
    names = (PROJECTS, OUTPUT)
    return _remembered(
        core, content, "industry", names, lambda: _industry(core, system(content), names)
    )


def _industry(core: DataCore, sys: IndustrySystem, names: tuple[str, ...]) -> IndustryFigures:
    con = core.connect(tables=names)
    try:
        return _industry_on(con, sys)
    finally:
        con.close()


def _industry_on(con: duckdb.DuckDBPyConnection, sys: IndustrySystem) -> IndustryFigures:
    reached = ", ".join(
        f"count({col}), coalesce(sum(investment_fen) FILTER (WHERE {col} IS NOT NULL), 0)"
        for _, col, _, _ in STAGES
    )
    dated = ", ".join(col for _, col, _, _ in STAGES)
    sql = f"SELECT {reached}, max(greatest({dated})) FROM {PROJECTS}"  # noqa: S608
    totals = _rows(con, sql)[0]
    funnel = tuple(
        StageFigure(code, zh, en, int(totals[2 * i]), int(totals[2 * i + 1]))
        for i, (code, _, zh, en) in enumerate(STAGES)
    )
    # A project is at the furthest stage it reached.
    stages = tuple(
        StageFigure(
            s.stage,
            s.name_zh,
            s.name_en,
            s.projects - (funnel[i + 1].projects if i + 1 < len(funnel) else 0),
            s.investment_fen - (funnel[i + 1].investment_fen if i + 1 < len(funnel) else 0),
        )
        for i, s in enumerate(funnel)
    )
    same_year = tuple(
        SameYearShare(int(y), int(n), int(same), int(same) / int(n) if n else None)
        for y, n, same in _rows(
            con,
            f"""SELECT year(signed_date), count(*),
                       count(*) FILTER (WHERE year(started_date) = year(signed_date))
                FROM {PROJECTS} GROUP BY 1 ORDER BY 1""",  # noqa: S608
        )
    )
    parks_found = {
        code: (int(n), int(inv or 0), int(prod), int(out or 0))
        for code, n, inv, prod, out in _rows(
            con,
            f"""SELECT park_code, count(*), sum(investment_fen), count(producing_date),
                       sum(annual_output_fen) FROM {PROJECTS} GROUP BY 1""",  # noqa: S608
        )
    }
    parks = tuple(
        ParkFigure(
            p.code,
            p.name_zh,
            p.name_en,
            p.district_code,
            p.district_zh,
            *parks_found.get(p.code, (0, 0, 0, 0)),
        )
        for p in sys.parks
    )
    latest = _rows(con, f"SELECT max(month) FROM {OUTPUT}")[0][0]  # noqa: S608
    fields, layers, years = _output(con, sys, latest)
    revenue = sum(f.revenue_fen for f in fields)
    previous = sum(f.previous_fen for f in fields)
    newest = [d for d in (totals[-1], latest) if d is not None]
    return IndustryFigures(
        as_of=max(newest) if newest else None,
        projects=funnel[0].projects,
        investment_fen=funnel[0].investment_fen,
        funnel=funnel,
        stages=stages,
        same_year=same_year,
        output_month=latest,
        output_years=years,
        revenue_fen=revenue,
        previous_fen=previous,
        growth=_growth(revenue, previous),
        fields=fields,
        layers=layers,
        parks=parks,
    )


def _output(
    con: duckdb.DuckDBPyConnection, sys: IndustrySystem, latest: date | None
) -> tuple[tuple[FieldOutput, ...], tuple[LayerOutput, ...], tuple[int, ...]]:
    if latest is None:
        empty = tuple(
            FieldOutput(f.code, f.name_zh, f.name_en, f.layer, 0, 0, 0, None, ())
            for f in sys.fields
        )
        layers = tuple(
            LayerOutput(x.code, x.name_zh, x.name_en, 0, 0, None, ()) for x in sys.layers
        )
        return empty, layers, ()
    # Year so far against the same months of the year before; and each year's total.
    rows = _rows(
        con,
        f"""SELECT field_code, year(month) AS y, sum(revenue_fen),
                   coalesce(sum(revenue_fen) FILTER (WHERE month(month) <= $m), 0),
                   count(*) FILTER (WHERE month = $latest)
            FROM {OUTPUT} GROUP BY ALL""",  # noqa: S608
        {"m": latest.month, "latest": latest},
    )
    years = tuple(sorted({int(r[1]) for r in rows}))
    yearly: dict[str, dict[int, int]] = {}
    so_far: dict[tuple[str, int], int] = {}
    reporting: dict[str, int] = {}
    for code, y, total, ytd, firms in rows:
        yearly.setdefault(code, {})[int(y)] = int(total)
        so_far[(code, int(y))] = int(ytd)
        if int(y) == latest.year:
            reporting[code] = int(firms)
    fields = tuple(
        FieldOutput(
            f.code,
            f.name_zh,
            f.name_en,
            f.layer,
            reporting.get(f.code, 0),
            so_far.get((f.code, latest.year), 0),
            so_far.get((f.code, latest.year - 1), 0),
            _growth(so_far.get((f.code, latest.year), 0), so_far.get((f.code, latest.year - 1), 0)),
            tuple(yearly.get(f.code, {}).get(y, 0) for y in years),
        )
        for f in sys.fields
    )
    by_layer: list[LayerOutput] = []
    for layer in sys.layers:
        mine = [f for f in fields if f.layer == layer.code]
        now, before = sum(f.revenue_fen for f in mine), sum(f.previous_fen for f in mine)
        by_layer.append(
            LayerOutput(
                layer.code,
                layer.name_zh,
                layer.name_en,
                now,
                before,
                _growth(now, before),
                tuple(sum(f.yearly_fen[i] for f in mine) for i in range(len(years))),
            )
        )
    return fields, tuple(by_layer), years


# --- figures: enablement ----------------------------------------------------------------------


@dataclass(frozen=True)
class EnablementYear:
    year: int
    newly_enabled: int  # enterprises enabled for the first time that year
    enablements: int  # solutions put to work that year
    target: int | None  # the year's target, scaled to this city
    target_real: int | None  # the plan's target for the real city
    inferred: bool
    basis: str
    share_of_target: float | None


@dataclass(frozen=True)
class PlatformEnablement:
    code: str
    name_zh: str
    name_en: str
    kind: str
    enterprises: int  # distinct enterprises ever enabled
    enablements: int
    this_year: int  # enablements in the latest year
    by_year: tuple[int, ...]  # enablements per year of EnablementFigures.years
    by_month: tuple[int, ...]  # enablements per month of the latest year


@dataclass(frozen=True)
class EnablementFigures:
    as_of: date | None  # the newest enablement
    year: int | None  # the latest year
    live_enterprises: int  # in business in this city's data core
    real_enterprises: int  # the real city's, the targets' scale
    real_reference: str
    scale: float
    enabled_enterprises: int  # distinct, ever
    enabled_live: int  # of those, in business now
    share_of_live: float | None
    years: tuple[EnablementYear, ...]
    months: tuple[date, ...]  # of the latest year, through the newest enablement
    monthly_new: tuple[int, ...]
    cumulative_new: tuple[int, ...]
    target_this_year: int | None
    platforms: tuple[PlatformEnablement, ...]
    figures: tuple[PlatformFigure, ...]


def enablement_figures(core: DataCore, content: Path) -> EnablementFigures:
    """Enablement against the scaled yearly targets (cached per table version)."""
    names = (ENABLEMENTS, ENTERPRISES)
    return _remembered(
        core,
        content,
        "enablement",
        names,
        lambda: _enablement(core, load_catalogue(content), load_plan(content), names),
    )


def _enablement(
    core: DataCore, catalogue: PlatformCatalogue, plan: EnablementPlan, names: tuple[str, ...]
) -> EnablementFigures:
    con = core.connect(tables=names)
    try:
        return _enablement_on(con, catalogue, plan)
    finally:
        con.close()


def _enablement_on(
    con: duckdb.DuckDBPyConnection, catalogue: PlatformCatalogue, plan: EnablementPlan
) -> EnablementFigures:
    # Five scans in all, each grouped as finely as any figure needs and summed up here: on the
    # whole city (600,000 enterprises, some 140,000 enablements) the first is most of the time.
    live, enabled_live = _rows(
        con,
        f"""SELECT count(*), count(*) FILTER (
                       WHERE credit_code IN (SELECT credit_code FROM {ENABLEMENTS}))
            FROM {ENTERPRISES} WHERE status = '存续'""",  # noqa: S608
    )[0]
    scale = live / plan.real_enterprises
    newest: date | None = _rows(con, f"SELECT max(enabled_date) FROM {ENABLEMENTS}")[0][0]  # noqa: S608
    firsts = _rows(
        con,
        f"""SELECT year(d), month(d), count(*) FROM (
                SELECT credit_code, min(enabled_date) AS d FROM {ENABLEMENTS} GROUP BY 1
            ) GROUP BY ALL""",  # noqa: S608
    )
    counted = _rows(
        con,
        f"""SELECT platform_code, year(enabled_date), month(enabled_date), count(*)
            FROM {ENABLEMENTS} GROUP BY ALL""",  # noqa: S608
    )
    firms = dict(
        _rows(
            con,
            f"SELECT platform_code, count(DISTINCT credit_code) FROM {ENABLEMENTS} GROUP BY 1",  # noqa: S608
        )
    )
    year = newest.year if newest is not None else None
    new_by_year: dict[int, int] = {}
    new_by_month: dict[int, int] = {}
    for y, m, n in firsts:
        new_by_year[int(y)] = new_by_year.get(int(y), 0) + int(n)
        if int(y) == year:
            new_by_month[int(m)] = int(n)
    all_by_year: dict[int, int] = {}
    per_platform: dict[str, dict[int, int]] = {}
    per_platform_month: dict[str, dict[int, int]] = {}
    for code, y, m, n in counted:
        all_by_year[int(y)] = all_by_year.get(int(y), 0) + int(n)
        mine = per_platform.setdefault(code, {})
        mine[int(y)] = mine.get(int(y), 0) + int(n)
        if int(y) == year:
            per_platform_month.setdefault(code, {})[int(m)] = int(n)
    seen = sorted(set(new_by_year) | set(all_by_year))
    span = sorted(
        set(seen) | {t.year for t in plan.targets if seen and seen[0] <= t.year <= seen[-1]}
    )
    years = []
    for y in span:
        target = plan.target(y)
        scaled = None if target is None else round(target.newly_enabled * scale)
        new = new_by_year.get(y, 0)
        years.append(
            EnablementYear(
                y,
                new,
                all_by_year.get(y, 0),
                scaled,
                None if target is None else target.newly_enabled,
                False if target is None else target.inferred,
                "" if target is None else target.basis,
                None if not scaled else new / scaled,
            )
        )
    months: tuple[date, ...] = ()
    if newest is not None:
        months = tuple(date(newest.year, m, 1) for m in range(1, newest.month + 1))
    monthly = [new_by_month.get(m.month, 0) for m in months]
    cumulative: list[int] = []
    running = 0
    for n in monthly:
        running += n
        cumulative.append(running)
    shown_years = tuple(e.year for e in years)
    platforms = tuple(
        PlatformEnablement(
            p.code,
            p.name_zh,
            p.name_en,
            p.kind,
            int(firms.get(p.code, 0)),
            sum(per_platform.get(p.code, {}).values()),
            per_platform.get(p.code, {}).get(year, 0) if year is not None else 0,
            tuple(per_platform.get(p.code, {}).get(y, 0) for y in shown_years),
            tuple(per_platform_month.get(p.code, {}).get(m.month, 0) for m in months),
        )
        for p in catalogue.platforms
    )
    return EnablementFigures(
        as_of=newest,
        year=year,
        live_enterprises=int(live),
        real_enterprises=plan.real_enterprises,
        real_reference=plan.real_reference,
        scale=scale,
        enabled_enterprises=sum(new_by_year.values()),
        enabled_live=int(enabled_live),
        share_of_live=None if live == 0 else int(enabled_live) / live,
        years=tuple(years),
        months=months,
        monthly_new=tuple(monthly),
        cumulative_new=tuple(cumulative),
        target_this_year=next((e.target for e in years if e.year == year), None),
        platforms=platforms,
        figures=plan.figures,
    )

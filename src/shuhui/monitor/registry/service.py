"""The registry's business logic: plan progress, asset search, the device directory.

Everything reads the data core (``DataCore.connect`` over the registry's three tables); nothing
here writes or reads personal data, so nothing is recorded in the ledger. A data core without
the registry (a city loaded from real sources that carry none) is a 404 ``not-found`` naming
the table, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from shuhui.core.errors import FieldError, Problem
from shuhui.core.i18n import Text
from shuhui.core.regions import qingdao_districts
from shuhui.datacore.store import DataCore
from shuhui.monitor.devices import Device, Directory, sensor_types
from shuhui.monitor.registry import content, ngsi, progress
from shuhui.monitor.registry.content import Indicator, Target

ASSET_COLUMNS = (
    "asset_id", "asset_type", "name", "district_code", "street", "village_code", "lon", "lat",
    "operator", "status", "commissioned_on", "retired_on", "capacity", "sensor_type", "site_id",
    "site_name",
)  # fmt: skip
# The longest span of months one chart asks for (ten years).
MAX_MONTHS = 120
FIRST_MONTH = date(2015, 1, 1)


@contextmanager
def registry(core: DataCore) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB over the registry's tables, or the refusal saying the data core has none."""
    con = core.connect(tables=progress.TABLES)
    present = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    missing = [name for name in progress.TABLES if name not in present]
    if missing:
        con.close()
        raise Problem(
            "not-found",
            Text(
                f"数据底座中还没有{'、'.join(missing)}，请先加载数字基础设施台账",
                f"the data core holds no {', '.join(missing)} yet: load the registry first",
            ),
        )
    try:
        yield con
    finally:
        con.close()


def indicator_of(content_dir: Path, city: str, code: str) -> Indicator:
    found = content.indicators(content_dir, city).get(code)
    if found is None:
        raise Problem(
            "not-found",
            Text("没有这个指标", "no such indicator"),
            errors=[FieldError("indicator", Text("未知指标", "unknown indicator"))],
        )
    return found


@dataclass(frozen=True)
class DistrictFigure:
    code: str
    name_zh: str
    name_en: str
    value: float | None


@dataclass(frozen=True)
class Progress:
    """One indicator: its figure now, against the year's target, per district and per month."""

    indicator: Indicator
    year: int
    as_of: date  # the last day the figures count
    value: float | None
    target: Target | None
    share_of_target: float | None
    districts: list[DistrictFigure]
    months: list[date]
    city_series: list[float | None]
    district_series: dict[str, list[float | None]] = field(default_factory=dict)


def _month_after(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def progress_of(
    core: DataCore,
    content_dir: Path,
    city: str,
    code: str,
    *,
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Progress:
    """``code``'s progress: the figure at the end of ``end``'s month (default: the registry's
    latest month), against ``year``'s target (default: that month's year), month by month from
    ``start`` (default: January three years before)."""
    indicator = indicator_of(content_dir, city, code)
    with registry(core) as con:
        latest = progress.latest_day(con) or date.today()
        last = progress.first_of_month(end or latest)
        first = progress.first_of_month(start or date(last.year - 3, 1, 1))
        if first > last:
            raise Problem(
                "validation",
                Text("起始月份晚于结束月份", "the first month is after the last"),
                errors=[FieldError("start", Text("须不晚于结束月份", "not after the end"))],
            )
        if first < _month_after(last, -(MAX_MONTHS - 1)):
            raise Problem(
                "validation",
                Text(f"一次最多查看{MAX_MONTHS}个月", f"at most {MAX_MONTHS} months at once"),
                errors=[FieldError("start", Text("时间跨度过长", "the span is too long"))],
            )
        series = progress.series(con, indicator, first, last)
    as_of = _month_after(last, 1).fromordinal(_month_after(last, 1).toordinal() - 1)
    as_of = min(as_of, latest) if end is None else as_of
    value = series.city[-1]
    shown_year = year or last.year
    target = indicator.target(shown_year)
    share = None if target is None or value is None or target.value == 0 else value / target.value
    districts = [
        DistrictFigure(r.code, r.name, r.name_en, series.districts[r.code][-1])
        for r in qingdao_districts()
    ]
    return Progress(
        indicator,
        shown_year,
        as_of,
        value,
        target,
        share,
        districts,
        series.months,
        series.city,
        series.districts,
    )


def overview(core: DataCore, content_dir: Path, city: str) -> list[Progress]:
    """Every indicator now, with its current year's target (the month's figure only)."""
    indicators = content.indicators(content_dir, city)
    with registry(core) as con:
        latest = progress.latest_day(con) or date.today()
        month = progress.first_of_month(latest)
        found = []
        for indicator in indicators.values():
            series = progress.series(con, indicator, month, month)
            value = series.city[-1]
            target = indicator.target(month.year)
            share = (
                None
                if target is None or value is None or target.value == 0
                else value / target.value
            )
            districts = [
                DistrictFigure(r.code, r.name, r.name_en, series.districts[r.code][-1])
                for r in qingdao_districts()
            ]
            found.append(
                Progress(
                    indicator,
                    month.year,
                    latest,
                    value,
                    target,
                    share,
                    districts,
                    series.months,
                    series.city,
                    series.districts,
                )
            )
    return found


@dataclass(frozen=True)
class AssetQuery:
    """What the asset list is filtered by; every field bounded by the schema that makes it."""

    asset_type: str | None = None
    district: str | None = None
    status: str | None = None
    operator: str | None = None
    sensor_type: str | None = None
    site: str | None = None
    text: str | None = None  # in the name or the id
    # A box in WGS-84 degrees: west, south, east, north.
    bbox: tuple[float, float, float, float] | None = None
    commissioned_from: date | None = None
    commissioned_to: date | None = None


@dataclass(frozen=True)
class AssetPage:
    total: int
    offset: int
    limit: int
    rows: list[dict[str, Any]]


def _where(query: AssetQuery) -> tuple[str, dict[str, object]]:
    clauses: list[str] = []
    params: dict[str, object] = {}
    for column, value in (
        ("asset_type", query.asset_type),
        ("district_code", query.district),
        ("status", query.status),
        ("operator", query.operator),
        ("sensor_type", query.sensor_type),
        ("site_id", query.site),
    ):
        if value is not None:
            clauses.append(f"{column} = ${column}")
            params[column] = value
    if query.text:
        clauses.append("(contains(name, $text) OR contains(asset_id, $text))")
        params["text"] = query.text
    if query.bbox is not None:
        west, south, east, north = query.bbox
        clauses.append("lon BETWEEN $west AND $east AND lat BETWEEN $south AND $north")
        params |= {"west": west, "south": south, "east": east, "north": north}
    if query.commissioned_from is not None:
        clauses.append("commissioned_on >= $cfrom")
        params["cfrom"] = query.commissioned_from
    if query.commissioned_to is not None:
        clauses.append("commissioned_on <= $cto")
        params["cto"] = query.commissioned_to
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def search_assets(core: DataCore, query: AssetQuery, offset: int, limit: int) -> AssetPage:
    where, params = _where(query)
    columns = ", ".join(ASSET_COLUMNS)
    with registry(core) as con:
        row = con.execute(f"SELECT count(*) FROM {progress.ASSETS}{where}", params).fetchone()  # noqa: S608
        total = int(row[0]) if row else 0
        cursor = con.execute(
            f"SELECT {columns} FROM {progress.ASSETS}{where} "  # noqa: S608
            f"ORDER BY asset_id LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
        )
        rows = [dict(zip(ASSET_COLUMNS, r, strict=True)) for r in cursor.fetchall()]
    return AssetPage(total, offset, limit, rows)


def asset(core: DataCore, asset_id: str) -> dict[str, Any]:
    columns = ", ".join(ASSET_COLUMNS)
    with registry(core) as con:
        row = con.execute(
            f"SELECT {columns} FROM {progress.ASSETS} WHERE asset_id = $id",  # noqa: S608
            {"id": asset_id},
        ).fetchone()
    if row is None:
        raise Problem("not-found", Text("没有这项设施", "no such asset"))
    return dict(zip(ASSET_COLUMNS, row, strict=True))


def operators(core: DataCore) -> list[str]:
    with registry(core) as con:
        rows = con.execute(
            f"SELECT DISTINCT operator FROM {progress.ASSETS} "  # noqa: S608
            "WHERE asset_type <> 'sensor' ORDER BY operator"
        ).fetchall()
    return [r[0] for r in rows]


def directory(core: DataCore, content_dir: Path, city: str) -> Directory:
    """Every sensor of the registry that is not retired, as the telemetry and alarms see it.

    A sensor whose type the content does not know is left out (its readings are then rejected
    as ``unknown_device``), so a registry ahead of the content never breaks the consumer."""
    types = sensor_types(content_dir, city)
    with ExitStack() as stack:
        try:
            con = stack.enter_context(registry(core))
        except Problem:
            # A data core without the registry (a city not loaded yet): no devices, so every
            # reading is refused as from an unknown device, and the consumer keeps running.
            return Directory({}, types)
        rows = con.execute(
            f"SELECT asset_id, sensor_type, site_id, district_code, lon, lat, name "  # noqa: S608
            f"FROM {progress.ASSETS} WHERE asset_type = 'sensor' AND status <> '停用' "
            "ORDER BY asset_id"
        ).fetchall()
    devices: list[Device] = []
    for device_id, kind, site, district, lon, lat, name in rows:
        sensor_type = types.get(kind)
        if sensor_type is None:
            continue
        devices.append(Device(device_id, sensor_type, site or "", district, lon, lat, name))
    return Directory.of(devices, types)


def district_names() -> Sequence[tuple[str, str, str]]:
    return [(r.code, r.name, r.name_en) for r in qingdao_districts()]


# --- NGSI-LD -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntityQuery:
    """A parsed ``GET /ngsi-ld/v1/entities``: types, ids, idPattern, q and attrs."""

    types: list[str] | None = None
    ids: list[str] | None = None
    id_pattern: str | None = None
    q: list[ngsi.Term] | None = None
    attrs: list[str] | None = None


@dataclass(frozen=True)
class EntityPage:
    total: int
    rows: list[tuple[str, dict[str, Any]]]  # (NGSI type, the asset's row)


def ngsi_types(content_dir: Path, city: str) -> dict[str, str]:
    """NGSI-LD type → asset type code."""
    return {t.ngsi_type: code for code, t in content.asset_types(content_dir, city).items()}


def query_entities(
    core: DataCore, content_dir: Path, city: str, query: EntityQuery, offset: int, limit: int
) -> EntityPage:
    by_type = ngsi_types(content_dir, city)
    type_of = {code: name for name, code in by_type.items()}
    params: dict[str, object] = {}
    clauses: list[str] = []

    def values(items: Sequence[str]) -> str:
        names = []
        for item in items:
            names.append(f"$p{len(params)}")
            params[f"p{len(params)}"] = item
        return ", ".join(names)

    if query.types is not None:
        codes = [by_type[t] for t in query.types if t in by_type]
        if not codes:
            return EntityPage(0, [])
        clauses.append(f"asset_type IN ({values(codes)})")
    if query.ids is not None:
        ours = [parsed for parsed in (ngsi.parse_id(i) for i in query.ids) if parsed is not None]
        pairs = [(by_type[t], a) for t, a in ours if t in by_type]
        if not pairs:
            return EntityPage(0, [])
        clauses.append(
            "(" + " OR ".join(
                f"(asset_type = {values([c])} AND asset_id = {values([a])})" for c, a in pairs
            ) + ")"
        )  # fmt: skip
    type_sql = (
        "CASE asset_type "
        + " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in sorted(type_of.items()))
        + " END"
    )
    if query.id_pattern is not None:
        clauses.append(
            f"regexp_full_match('urn:ngsi-ld:' || {type_sql} || ':' || asset_id, "
            f"{values([query.id_pattern])})"
        )
    for term in query.q or ():
        clauses.append(ngsi.term_sql(term, params))
    if query.attrs is not None and ngsi.GEO_ATTRIBUTE not in query.attrs:
        present = [ngsi.ATTRIBUTES[a][0] for a in query.attrs if a in ngsi.ATTRIBUTES]
        if not present:
            return EntityPage(0, [])
        clauses.append("(" + " OR ".join(f"{c} IS NOT NULL" for c in present) + ")")
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    columns = ", ".join(ASSET_COLUMNS)
    with registry(core) as con:
        try:
            row = con.execute(
                f"SELECT count(*) FROM {progress.ASSETS}{where}",  # noqa: S608
                params,
            ).fetchone()
            found = con.execute(
                f"SELECT {columns} FROM {progress.ASSETS}{where} "  # noqa: S608
                f"ORDER BY asset_id LIMIT {int(limit)} OFFSET {int(offset)}",
                params,
            ).fetchall()
        except duckdb.InvalidInputException as exc:
            # The one input DuckDB judges: idPattern's regular expression (RE2).
            raise ngsi.bad_request(f"idPattern 不是有效的正则表达式：{exc}") from None
    rows = [dict(zip(ASSET_COLUMNS, r, strict=True)) for r in found]
    return EntityPage(int(row[0]) if row else 0, [(type_of[r["asset_type"]], r) for r in rows])


def entity_by_id(
    core: DataCore, content_dir: Path, city: str, entity_id: str
) -> tuple[str, dict[str, Any]]:
    parsed = ngsi.parse_id(entity_id)
    by_type = ngsi_types(content_dir, city)
    missing = ngsi.NgsiError("ResourceNotFound", "未找到实体", f"没有实体 {entity_id}", 404)
    if parsed is None or parsed[0] not in by_type:
        raise missing
    with registry(core) as con:
        row = con.execute(
            f"SELECT {', '.join(ASSET_COLUMNS)} FROM {progress.ASSETS} "  # noqa: S608
            "WHERE asset_id = $id AND asset_type = $type",
            {"id": parsed[1], "type": by_type[parsed[0]]},
        ).fetchone()
    if row is None:
        raise missing
    return parsed[0], dict(zip(ASSET_COLUMNS, row, strict=True))


def entity_types(core: DataCore, content_dir: Path, city: str) -> list[tuple[str, int]]:
    """The NGSI-LD types with at least one entity, and how many."""
    type_of = {code: name for name, code in ngsi_types(content_dir, city).items()}
    with registry(core) as con:
        rows = con.execute(
            f"SELECT asset_type, count(*) FROM {progress.ASSETS} GROUP BY ALL"  # noqa: S608
        ).fetchall()
    return sorted((type_of[code], int(n)) for code, n in rows if code in type_of)

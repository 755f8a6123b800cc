"""Insight's content: the indicators (``insight/indicators/<map>.yaml``) and the maps they are shown
on (``insight/maps.yaml``), checked whole when loaded: a file that breaks a rule is refused,
naming the item and the field, so a half-valid set never goes live."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, cast

from shuhui.core.content import ContentError, Item, Items, load_items
from shuhui.core.i18n import Text

INDICATORS_DIR: Final = "insight/indicators"  # one file per map: <map>.yaml
MAPS_FILE: Final = "insight/maps.yaml"

Aggregate = Literal["sum", "ratio"]
Refresh = Literal["live", "hourly", "daily"]
Chart = Literal["district", "month", "group", "value"]
AGGREGATES: Final[tuple[Aggregate, ...]] = ("sum", "ratio")
REFRESHES: Final[tuple[Refresh, ...]] = ("live", "hourly", "daily")
CHARTS: Final[tuple[Chart, ...]] = ("district", "month", "group", "value")
TABLE: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MEASURE: Final = re.compile(r"^[a-z]+(\.[a-z_]+)+$")


@dataclass(frozen=True, slots=True)
class Target:
    year: int
    value: float
    basis: str


@dataclass(frozen=True, slots=True)
class Indicator:
    """One figure the city reports: what it counts (口径), how it is computed, by whom."""

    code: str
    name: Text
    definition: Text
    unit: Text
    owner: str  # the department answerable for it
    reference: str
    valid_from: date
    valid_to: date | None
    map: str
    aggregate: Aggregate  # sum of values; ratio: sum of values over sum of bases
    scale: float  # ratio × scale (100: a percentage)
    people: bool  # a count of people: cells below k withheld
    refresh: Refresh
    better: Literal["up", "down"]
    charts: tuple[Chart, ...]
    tables: tuple[str, ...]  # data-core tables read (a datacore formula)
    sql: str | None  # the formula over the data core (DuckDB)
    measure: str | None  # or a domain's figures (shuhui.insight.measures)
    groups: dict[str, Text]  # names of the group codes it reports
    targets: tuple[Target, ...]
    drill: bool  # a list behind the figure, for the owner department's officers
    forecast: bool  # the next months forecast from its monthly series, with the error shown

    def target(self, year: int) -> Target | None:
        found = [t for t in self.targets if t.year <= year]
        return max(found, key=lambda t: t.year) if found else None

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Map:
    code: str
    name: Text
    summary: Text
    reference: str
    order: int
    dashboard: tuple[str, ...]  # its indicators shown on the leaders' dashboard


def _text(items: Items, item: Item, key: str) -> Text:
    raw = item.attrs.get(key)
    if not isinstance(raw, dict) or not raw.get("zh") or not raw.get("en"):
        raise ContentError(items.path, f"{item.code}.{key}", "需要 zh 和 en")
    return Text(str(raw["zh"]).strip(), str(raw["en"]).strip())


def _choice(items: Items, item: Item, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = item.attrs.get(key, default)
    if value not in allowed:
        raise ContentError(items.path, f"{item.code}.{key}", f"须为 {'、'.join(allowed)} 之一")
    return str(value)


def _targets(items: Items, item: Item) -> tuple[Target, ...]:
    raw = item.attrs.get("targets", [])
    if not isinstance(raw, list):
        raise ContentError(items.path, f"{item.code}.targets", "须为列表")
    found = []
    for i, t in enumerate(raw):
        where = f"{item.code}.targets[{i}]"
        if not isinstance(t, dict) or not isinstance(t.get("year"), int):
            raise ContentError(items.path, where, "须有 year（整数）和 value")
        value = t.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ContentError(items.path, f"{where}.value", "须为数字")
        found.append(Target(int(t["year"]), float(value), str(t.get("basis", ""))))
    return tuple(found)


def _groups(items: Items, item: Item) -> dict[str, Text]:
    raw = item.attrs.get("groups", {})
    if not isinstance(raw, dict):
        raise ContentError(items.path, f"{item.code}.groups", "须为 代码: {zh, en} 的映射")
    found = {}
    for code, name in raw.items():
        if not isinstance(name, dict) or not name.get("zh") or not name.get("en"):
            raise ContentError(items.path, f"{item.code}.groups.{code}", "需要 zh 和 en")
        found[str(code)] = Text(str(name["zh"]), str(name["en"]))
    return found


def _indicator(items: Items, item: Item, maps: dict[str, Map]) -> Indicator:
    attrs: dict[str, Any] = item.attrs
    where = item.code
    map_code = attrs.get("map")
    if map_code not in maps:
        raise ContentError(items.path, f"{where}.map", f"须为 {'、'.join(maps)} 之一")
    sql, measure = attrs.get("sql"), attrs.get("measure")
    if (sql is None) == (measure is None):
        raise ContentError(items.path, where, "须有 sql（数据底座）或 measure（业务数据）之一")
    tables = attrs.get("tables", [])
    if sql is not None:
        if not isinstance(sql, str) or not sql.strip():
            raise ContentError(items.path, f"{where}.sql", "须为非空 SQL")
        if not isinstance(tables, list) or not tables:
            raise ContentError(items.path, f"{where}.tables", "用 sql 时须列出所读的表")
    if measure is not None and (not isinstance(measure, str) or not MEASURE.match(measure)):
        raise ContentError(items.path, f"{where}.measure", "须为 领域.度量 的名称")
    if not isinstance(tables, list) or not all(
        isinstance(t, str) and TABLE.match(t) for t in tables
    ):
        raise ContentError(items.path, f"{where}.tables", "须为表名列表")
    charts = attrs.get("charts", ["value"])
    if not isinstance(charts, list) or not charts or any(c not in CHARTS for c in charts):
        raise ContentError(items.path, f"{where}.charts", f"须为 {'、'.join(CHARTS)} 的列表")
    scale = attrs.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
        raise ContentError(items.path, f"{where}.scale", "须为正数")
    owner = attrs.get("owner")
    if not isinstance(owner, str) or not owner.strip():
        raise ContentError(items.path, f"{where}.owner", "须写明负责的部门")
    return Indicator(
        code=item.code,
        name=Text(item.name_zh, item.name_en),
        definition=_text(items, item, "definition"),
        unit=_text(items, item, "unit"),
        owner=owner.strip(),
        reference=item.reference,
        valid_from=item.valid_from,
        valid_to=item.valid_to,
        map=str(map_code),
        aggregate=cast(Aggregate, _choice(items, item, "aggregate", AGGREGATES, "sum")),
        scale=float(scale),
        people=bool(attrs.get("people", False)),
        refresh=cast(Refresh, _choice(items, item, "refresh", REFRESHES, "live")),
        better=cast(Literal["up", "down"], _choice(items, item, "better", ("up", "down"), "up")),
        charts=tuple(cast(Chart, c) for c in charts),
        tables=tuple(str(t) for t in tables),
        sql=None if sql is None else str(sql).strip(),
        measure=None if measure is None else str(measure),
        groups=_groups(items, item),
        targets=_targets(items, item),
        drill=bool(attrs.get("drill", False)),
        forecast=bool(attrs.get("forecast", False)),
    )


@cache
def maps(content_dir: Path, city: str) -> dict[str, Map]:
    items = load_items(content_dir / city / MAPS_FILE, "insight-maps")
    found: dict[str, Map] = {}
    for order, item in enumerate(items):
        dashboard = item.attrs.get("dashboard", [])
        if not isinstance(dashboard, list):
            raise ContentError(items.path, f"{item.code}.dashboard", "须为指标代码列表")
        found[item.code] = Map(
            code=item.code,
            name=Text(item.name_zh, item.name_en),
            summary=_text(items, item, "summary"),
            reference=item.reference,
            order=order,
            dashboard=tuple(str(c) for c in dashboard),
        )
    return found


@cache
def indicators(content_dir: Path, city: str) -> dict[str, Indicator]:
    """Every indicator of the city: the maps' files in the maps' order, each in its order."""
    known = maps(content_dir, city)
    folder = content_dir / city / INDICATORS_DIR
    found: dict[str, Indicator] = {}
    for code in known:
        path = folder / f"{code}.yaml"
        if not path.exists():
            continue
        items = load_items(path, "insight-indicators")
        for item in items:
            if item.code in found:
                raise ContentError(path, f"{item.code}.code", "与另一张图的指标重复")
            ind = _indicator(items, item, known)
            if ind.map != code:
                raise ContentError(path, f"{item.code}.map", f"本文件的指标须属于 {code}")
            found[item.code] = ind
    for m in known.values():
        for code in m.dashboard:
            if code not in found:
                raise ContentError(
                    content_dir / city / MAPS_FILE, f"{m.code}.dashboard", f"没有指标 {code}"
                )
    return found

"""The registry's content: asset types (``monitor/asset-types.yaml``) and the plan's yearly
targets per indicator (``monitor/targets.yaml``), checked whole when loaded."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, cast

from shuhui.core.content import ContentError, Item, Items, load_items
from shuhui.standard.vocabularies import ASSET_TYPES

ASSET_TYPES_FILE = "monitor/asset-types.yaml"
TARGETS_FILE = "monitor/targets.yaml"

Measure = Literal["count", "capacity", "villages_covered"]
Denominator = Literal["absolute", "per_10k_people", "share_of_villages"]
MEASURES: tuple[Measure, ...] = ("count", "capacity", "villages_covered")
DENOMINATORS: tuple[Denominator, ...] = ("absolute", "per_10k_people", "share_of_villages")


@dataclass(frozen=True, slots=True)
class AssetType:
    code: str
    name_zh: str
    name_en: str
    prefix: str
    ngsi_type: str
    unit_zh: str
    unit_en: str
    capacity_zh: str | None
    capacity_en: str | None
    reference: str


@dataclass(frozen=True, slots=True)
class Target:
    year: int
    value: float
    inferred: bool
    basis: str


@dataclass(frozen=True, slots=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    asset_type: str
    measure: Measure
    denominator: Denominator
    unit_zh: str
    unit_en: str
    reference: str
    targets: tuple[Target, ...]
    baseline: Target | None
    coverage_km: float | None

    def target(self, year: int) -> Target | None:
        return next((t for t in self.targets if t.year == year), None)


def _bilingual(items: Items, item: Item, key: str, required: bool = True) -> tuple[str, str]:
    raw = item.attrs.get(key)
    if raw is None and not required:
        return "", ""
    if not isinstance(raw, dict) or not raw.get("zh") or not raw.get("en"):
        raise ContentError(items.path, f"{item.code}.{key}", "需要 zh 和 en")
    return str(raw["zh"]), str(raw["en"])


@cache
def asset_types(content_dir: Path, city: str) -> dict[str, AssetType]:
    items = load_items(content_dir / city / ASSET_TYPES_FILE, "monitor-asset-types")
    found: dict[str, AssetType] = {}
    for item in items:
        if item.code not in ASSET_TYPES:
            raise ContentError(items.path, item.code, f"须为 {'、'.join(ASSET_TYPES)} 之一")
        prefix, ngsi_type = item.attrs.get("prefix"), item.attrs.get("ngsi_type")
        if not isinstance(prefix, str) or not isinstance(ngsi_type, str) or not ngsi_type:
            raise ContentError(items.path, item.code, "需要 prefix 和 ngsi_type")
        unit = _bilingual(items, item, "unit")
        capacity = _bilingual(items, item, "capacity", required=False)
        found[item.code] = AssetType(
            item.code,
            item.name_zh,
            item.name_en,
            prefix,
            ngsi_type,
            *unit,
            capacity[0] or None,
            capacity[1] or None,
            item.reference,
        )
    missing = set(ASSET_TYPES) - set(found)
    if missing:
        raise ContentError(items.path, "items", f"缺少 {'、'.join(sorted(missing))}")
    return found


def _target(items: Items, where: str, raw: object) -> Target:
    if not isinstance(raw, dict):
        raise ContentError(items.path, where, "需要 year、value")
    try:
        year, value = int(raw["year"]), float(raw["value"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ContentError(items.path, where, "year 须为年份，value 须为数字") from exc
    if not 2000 <= year <= 2100 or value < 0:
        raise ContentError(items.path, where, "year 须在 2000–2100，value 不得为负")
    return Target(year, value, bool(raw.get("inferred", False)), str(raw.get("basis", "")))


@cache
def indicators(content_dir: Path, city: str) -> dict[str, Indicator]:
    items = load_items(content_dir / city / TARGETS_FILE, "monitor-targets")
    found: dict[str, Indicator] = {}
    for item in items:
        attrs = item.attrs
        if attrs.get("asset_type") not in ASSET_TYPES:
            raise ContentError(items.path, f"{item.code}.asset_type", "未知的设施类型")
        if attrs.get("measure") not in MEASURES:
            raise ContentError(items.path, f"{item.code}.measure", f"须为 {'、'.join(MEASURES)}")
        if attrs.get("denominator") not in DENOMINATORS:
            raise ContentError(
                items.path, f"{item.code}.denominator", f"须为 {'、'.join(DENOMINATORS)}"
            )
        villages = attrs["measure"] == "villages_covered"
        if villages != (attrs["denominator"] == "share_of_villages"):
            raise ContentError(
                items.path, item.code, "villages_covered 与 share_of_villages 须同时使用"
            )
        coverage = attrs.get("coverage_km")
        if villages and (not isinstance(coverage, int | float) or not 0.1 <= coverage <= 20):
            raise ContentError(items.path, f"{item.code}.coverage_km", "须为 0.1–20 公里")
        raw_targets = attrs.get("targets")
        if not isinstance(raw_targets, list) or not raw_targets:
            raise ContentError(items.path, f"{item.code}.targets", "至少一个年度目标")
        targets = tuple(
            _target(items, f"{item.code}.targets[{i}]", raw) for i, raw in enumerate(raw_targets)
        )
        if len({t.year for t in targets}) != len(targets):
            raise ContentError(items.path, f"{item.code}.targets", "同一年份只能有一个目标")
        baseline = attrs.get("baseline")
        unit = _bilingual(items, item, "unit")
        found[item.code] = Indicator(
            item.code,
            item.name_zh,
            item.name_en,
            str(attrs["asset_type"]),
            cast(Measure, attrs["measure"]),
            cast(Denominator, attrs["denominator"]),
            *unit,
            item.reference,
            tuple(sorted(targets, key=lambda t: t.year)),
            None if baseline is None else _target(items, f"{item.code}.baseline", baseline),
            float(coverage) if villages and coverage is not None else None,
        )
    return found

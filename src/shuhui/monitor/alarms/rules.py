"""Alarm rules and responder units as content: ``monitor/alarm-rules.yaml`` and
``monitor/units.yaml`` read strictly.

A file with one bad rule is refused whole (``ContentError`` naming the item and the field), so a
half-valid rule set never goes live. A rule names the sensor type and metric it watches; both
must exist in ``sensor-types.yaml`` (the directory's types), so a typo never leaves a rule
silently watching nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from shuhui.core.content import ContentError, Item, Items, load_items, parse_items
from shuhui.monitor.devices import SCENARIOS, SensorType

RULES_FILE: Final = "monitor/alarm-rules.yaml"
UNITS_FILE: Final = "monitor/units.yaml"
RULES_KIND: Final = "monitor-alarm-rules"
UNITS_KIND: Final = "monitor-units"

KINDS: Final = ("threshold", "rate", "duration", "silence", "correlation")
OPS: Final = (">", ">=", "<", "<=")
LEVELS: Final = (1, 2, 3, 4)
# level → (Chinese name, English name, colour)
LEVEL_NAMES: Final[dict[int, tuple[str, str, str]]] = {
    1: ("一级", "Level 1", "red"),
    2: ("二级", "Level 2", "orange"),
    3: ("三级", "Level 3", "yellow"),
    4: ("四级", "Level 4", "blue"),
}
CLEAR_ACTIONS: Final = ("close", "deescalate")
MAX_MINUTES: Final = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class Condition:
    """``metric op value`` on a reading of ``sensor_type`` (magnitude when ``absolute``)."""

    sensor_type: str
    metric: str
    op: str
    value: float
    absolute: bool = False
    devices: int = 1  # how many devices must agree (correlation only)

    def holds(self, value: float) -> bool:
        v = abs(value) if self.absolute else value
        op = self.op
        if op == ">=":
            return v >= self.value
        if op == ">":
            return v > self.value
        if op == "<=":
            return v <= self.value
        return v < self.value


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    name_zh: str
    name_en: str
    reference: str
    scenario: str
    kind: str
    level: int
    clear_after: int  # minutes the condition must be false
    clear_then: str  # close | deescalate
    valid_from: date
    valid_to: date | None
    conditions: tuple[Condition, ...] = ()  # one, except for correlation
    per_minute: float = 0.0  # rate
    minutes: int = 0  # duration
    intervals: int = 0  # silence
    sensor_type: str = ""  # the watched type (silence; the first condition's otherwise)
    group: str = "site"  # correlation: "site" or "distance"
    within_m: float = 0.0
    window: int = 0  # correlation, minutes
    need: int = 1  # correlation: how many conditions together
    escalate_after: int | None = None
    unit: str | None = None

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name_zh: str
    name_en: str
    role: str  # centre | responder
    department: str
    scenarios: tuple[str, ...]
    # level → {"acknowledge"/"dispatch" (centre) or "on_site"/"resolve" (responder): minutes}
    targets: Mapping[int, Mapping[str, int]]
    escalate_after: Mapping[int, int]
    reference: str


# --- rules ------------------------------------------------------------------------------------


class _Reader:
    """Reads one item's fields, each refusal naming the item and the field."""

    def __init__(self, path: Path, item: Item) -> None:
        self.path = path
        self.item = item

    def fail(self, field: str, reason: str) -> ContentError:
        return ContentError(self.path, f"{self.item.code}.{field}", reason)

    def choice(self, raw: Mapping[str, Any], field: str, allowed: tuple[str, ...]) -> str:
        value = raw.get(field)
        if value not in allowed:
            raise self.fail(field, f"须为 {'、'.join(allowed)} 之一")
        return str(value)

    def number(self, raw: Mapping[str, Any], field: str) -> float:
        value = raw.get(field)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, "须为数字")
        if not math.isfinite(value):
            raise self.fail(field, "须为有限数字")
        return float(value)

    def whole(self, raw: Mapping[str, Any], field: str, low: int, high: int) -> int:
        value = raw.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(field, f"须为 {low}–{high} 的整数")
        return value

    def flag(self, raw: Mapping[str, Any], field: str) -> bool:
        value = raw.get(field, False)
        if not isinstance(value, bool):
            raise self.fail(field, "须为 true 或 false")
        return value


def _condition(
    r: _Reader,
    raw: object,
    where: str,
    types: Mapping[str, SensorType],
    *,
    correlation: bool = False,
) -> Condition:
    if not isinstance(raw, dict):
        raise r.fail(where, "须为 {sensor_type, metric, op, value}")
    known = {"sensor_type", "metric", "op", "value", "abs"} | (
        {"devices"} if correlation else set()
    )
    extra = set(raw) - known
    if extra:
        raise r.fail(f"{where}.{sorted(extra)[0]}", "未知字段")
    sensor_type = raw.get("sensor_type")
    if sensor_type not in types:
        raise r.fail(f"{where}.sensor_type", "不是已登记的传感器类型")
    metric = raw.get("metric")
    if metric not in types[str(sensor_type)].metrics:
        raise r.fail(f"{where}.metric", f"{sensor_type} 没有这个指标")
    op_value = raw.get("op")
    if op_value not in OPS:
        raise r.fail(f"{where}.op", f"须为 {'、'.join(OPS)} 之一")
    value = raw.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise r.fail(f"{where}.value", "须为数字")
    absolute = raw.get("abs", False)
    if not isinstance(absolute, bool):
        raise r.fail(f"{where}.abs", "须为 true 或 false")
    devices = raw.get("devices", 1)
    if isinstance(devices, bool) or not isinstance(devices, int) or not 1 <= devices <= 50:
        raise r.fail(f"{where}.devices", "须为 1–50 的整数")
    return Condition(str(sensor_type), str(metric), str(op_value), float(value), absolute, devices)


COMMON: Final = {"scenario", "kind", "level", "clear", "escalate_after", "unit"}
FIELDS: Final[dict[str, set[str]]] = {
    "threshold": {"sensor_type", "metric", "op", "value", "abs"},
    "rate": {"sensor_type", "metric", "op", "per_minute"},
    "duration": {"sensor_type", "metric", "op", "value", "abs", "minutes"},
    "silence": {"sensor_type", "intervals"},
    "correlation": {"group", "within_m", "window", "need", "conditions"},
}


def _rule(path: Path, item: Item, types: Mapping[str, SensorType], units: set[str]) -> Rule:
    r = _Reader(path, item)
    a = item.attrs
    kind = r.choice(a, "kind", KINDS)
    extra = set(a) - COMMON - FIELDS[kind]
    if extra:
        raise r.fail(sorted(extra)[0], f"{kind} 规则没有这个字段")
    scenario = r.choice(a, "scenario", SCENARIOS)
    level = a.get("level")
    if level not in LEVELS or isinstance(level, bool):
        raise r.fail("level", "须为 1（一级，最严重）至 4（四级）")
    clear = a.get("clear")
    if not isinstance(clear, dict) or set(clear) - {"after", "then"}:
        raise r.fail("clear", "须为 {after: 分钟, then: close 或 deescalate}")
    clear_after = r.whole(clear, "after", 0, MAX_MINUTES)
    if clear.get("then") not in CLEAR_ACTIONS:
        raise r.fail("clear.then", "须为 close 或 deescalate")
    escalate = a.get("escalate_after")
    if escalate is not None:
        escalate = r.whole(a, "escalate_after", 1, MAX_MINUTES)
    unit = a.get("unit")
    if unit is not None and unit not in units:
        raise r.fail("unit", "不是 units.yaml 中的处置单位")
    base: dict[str, Any] = {
        "code": item.code,
        "name_zh": item.name_zh,
        "name_en": item.name_en,
        "reference": item.reference,
        "scenario": scenario,
        "kind": kind,
        "level": int(level),
        "clear_after": clear_after,
        "clear_then": str(clear["then"]),
        "valid_from": item.valid_from,
        "valid_to": item.valid_to,
        "escalate_after": escalate,
        "unit": None if unit is None else str(unit),
    }
    if kind == "silence":
        sensor_type = a.get("sensor_type")
        if sensor_type not in types:
            raise r.fail("sensor_type", "不是已登记的传感器类型")
        intervals = r.whole(a, "intervals", 1, 10_000)
        return Rule(**base, sensor_type=str(sensor_type), intervals=intervals)
    if kind == "correlation":
        raw = a.get("conditions")
        if not isinstance(raw, list) or not raw or len(raw) > 10:
            raise r.fail("conditions", "须为 1–10 个条件的列表")
        conditions = tuple(
            _condition(r, c, f"conditions[{i}]", types, correlation=True) for i, c in enumerate(raw)
        )
        need = r.whole(a, "need", 1, len(conditions))
        window = r.whole(a, "window", 1, MAX_MINUTES)
        if ("group" in a) == ("within_m" in a):
            raise r.fail("group", "须给出 group: site 或 within_m（米）二者之一")
        if "group" in a:
            r.choice(a, "group", ("site",))
            group, within = "site", 0.0
        else:
            within = r.number(a, "within_m")
            if not 1 <= within <= 50_000:
                raise r.fail("within_m", "须为 1–50000 米")
            group = "distance"
        if sum(c.devices for c in conditions) < 2:
            raise r.fail("conditions", "关联规则至少需要两台设备或两个条件共同成立")
        return Rule(
            **base,
            conditions=conditions,
            sensor_type=conditions[0].sensor_type,
            group=group,
            within_m=within,
            window=window,
            need=need,
        )
    single = {k: a[k] for k in ("sensor_type", "metric", "op", "value", "abs") if k in a}
    if kind == "rate":
        single["value"] = r.number(a, "per_minute")
    condition = _condition(r, single, "condition", types)
    if kind == "rate":
        return Rule(
            **base,
            conditions=(condition,),
            sensor_type=condition.sensor_type,
            per_minute=condition.value,
        )
    if kind == "duration":
        minutes = r.whole(a, "minutes", 1, MAX_MINUTES)
        return Rule(
            **base, conditions=(condition,), sensor_type=condition.sensor_type, minutes=minutes
        )
    return Rule(**base, conditions=(condition,), sensor_type=condition.sensor_type)


def rules_from(items: Items, types: Mapping[str, SensorType], units: set[str]) -> dict[str, Rule]:
    return {item.code: _rule(items.path, item, types, units) for item in items}


def parse_rules(
    path: Path, text: str, types: Mapping[str, SensorType], units: set[str]
) -> dict[str, Rule]:
    """A rule file's text read strictly (the hypothesis test feeds it)."""
    return rules_from(parse_items(path, text, RULES_KIND), types, units)


def load_rules(content_dir: Path, city: str, types: Mapping[str, SensorType]) -> dict[str, Rule]:
    """Every rule of the city, in force or not (the engine picks those in force per reading)."""
    units = load_units(content_dir, city)
    items = load_items(content_dir / city / RULES_FILE, RULES_KIND)
    return rules_from(items, types, set(units))


# --- units ------------------------------------------------------------------------------------


def _targets(r: _Reader, raw: object, names: tuple[str, ...]) -> dict[int, dict[str, int]]:
    if not isinstance(raw, dict) or set(raw) != set(LEVELS):
        raise r.fail("targets", "须为 1–4 每个级别的时限")
    out: dict[int, dict[str, int]] = {}
    for level, times in raw.items():
        if not isinstance(times, dict) or set(times) != set(names):
            raise r.fail(f"targets.{level}", f"须给出 {'、'.join(names)}（分钟）")
        out[int(level)] = {n: r.whole(times, n, 1, MAX_MINUTES) for n in names}
    return out


def _unit(path: Path, item: Item) -> Unit:
    r = _Reader(path, item)
    a = item.attrs
    role = r.choice(a, "role", ("centre", "responder"))
    department = a.get("department")
    if not isinstance(department, str) or not department.strip():
        raise r.fail("department", "须为部门名称")
    if role == "centre":
        targets = _targets(r, a.get("targets"), ("acknowledge", "dispatch"))
        escalate = a.get("escalate_after")
        if not isinstance(escalate, dict) or not set(escalate) <= {2, 3, 4}:
            raise r.fail("escalate_after", "须为二至四级各自的分钟数（一级无从升级）")
        escalate_after = {int(k): r.whole(escalate, k, 1, MAX_MINUTES) for k in escalate}
        scenarios: tuple[str, ...] = SCENARIOS
    else:
        targets = _targets(r, a.get("targets"), ("on_site", "resolve"))
        raw = a.get("scenarios")
        if not isinstance(raw, list) or not raw or any(s not in SCENARIOS for s in raw):
            raise r.fail("scenarios", f"须为 {'、'.join(SCENARIOS)} 中的一个或多个")
        scenarios, escalate_after = tuple(str(s) for s in raw), {}
    return Unit(
        item.code,
        item.name_zh,
        item.name_en,
        role,
        department.strip(),
        scenarios,
        targets,
        escalate_after,
        item.reference,
    )


def units_from(items: Items) -> dict[str, Unit]:
    units = {item.code: _unit(items.path, item) for item in items}
    centres = [u for u in units.values() if u.role == "centre"]
    if len(centres) != 1:
        raise ContentError(items.path, "items", "须有且仅有一个监测值守中心（role: centre）")
    return units


def load_units(content_dir: Path, city: str) -> dict[str, Unit]:
    return units_from(load_items(content_dir / city / UNITS_FILE, UNITS_KIND))


def centre_of(units: Mapping[str, Unit]) -> Unit:
    return next(u for u in units.values() if u.role == "centre")

"""The device directory: which sensors exist, what each measures and where it is.

The kinds of sensor are content (``content/<city>/monitor/sensor-types.yaml``: metrics, units,
physical ranges, the scenario a kind serves, its reporting interval); the devices themselves
are the registry's sensors (``registry.service.directory`` builds a ``Directory`` from the data
core's ``infrastructure_assets``). Ingest validates against it; the alarm rules match on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from shuhui.core.content import ContentError, Items, load_items

SENSOR_TYPES_FILE = "monitor/sensor-types.yaml"
SCENARIOS = ("high_rise", "forest", "hazchem")


@dataclass(frozen=True, slots=True)
class Metric:
    code: str
    name_zh: str
    name_en: str
    unit: str
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class SensorType:
    code: str
    name_zh: str
    name_en: str
    scenario: str
    interval: int  # seconds between readings
    metrics: Mapping[str, Metric]
    reference: str


@dataclass(frozen=True, slots=True)
class Device:
    """A sensor of the registry. ``site`` is the building, forest area or chemical plant it
    watches (correlation rules group on it); ``district`` the GB/T 2260 code."""

    id: str
    sensor_type: SensorType
    site: str
    district: str
    lon: float
    lat: float
    name: str = ""


@dataclass(frozen=True)
class Directory:
    devices: Mapping[str, Device]
    types: Mapping[str, SensorType] = field(default_factory=dict)

    def get(self, device_id: str) -> Device | None:
        return self.devices.get(device_id)

    def __len__(self) -> int:
        return len(self.devices)

    @classmethod
    def of(cls, devices: Iterable[Device], types: Mapping[str, SensorType]) -> Directory:
        return cls({d.id: d for d in devices}, dict(types))


def _metric(items: Items, code: str, name: str, raw: object) -> Metric:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), dict):
        raise ContentError(items.path, f"{code}.metrics.{name}", "需要 name、unit、min、max")
    try:
        low, high = float(raw["min"]), float(raw["max"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ContentError(items.path, f"{code}.metrics.{name}", "min、max 须为数字") from exc
    if not low < high:
        raise ContentError(items.path, f"{code}.metrics.{name}", "min 须小于 max")
    return Metric(name, str(raw["name"]["zh"]), str(raw["name"]["en"]), str(raw["unit"]), low, high)


def sensor_types(content_dir: Path, city: str, on: date | None = None) -> dict[str, SensorType]:
    """The kinds of sensor in force on ``on`` (all when ``None``)."""
    items = load_items(content_dir / city / SENSOR_TYPES_FILE, "monitor-sensor-types")
    found: dict[str, SensorType] = {}
    for item in items:
        if on is not None and not item.in_force(on):
            continue
        scenario = item.attrs.get("scenario")
        if scenario not in SCENARIOS:
            raise ContentError(items.path, f"{item.code}.scenario", f"须为 {'、'.join(SCENARIOS)}")
        metrics = item.attrs.get("metrics")
        if not isinstance(metrics, dict) or not metrics:
            raise ContentError(items.path, f"{item.code}.metrics", "至少一个指标")
        interval = item.attrs.get("interval")
        if not isinstance(interval, int) or not 1 <= interval <= 86_400:
            raise ContentError(items.path, f"{item.code}.interval", "须为 1–86400 秒")
        found[item.code] = SensorType(
            item.code,
            item.name_zh,
            item.name_en,
            scenario,
            interval,
            {name: _metric(items, item.code, name, raw) for name, raw in metrics.items()},
            item.reference,
        )
    return found

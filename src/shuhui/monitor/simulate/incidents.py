"""Injected incidents and near-misses: which devices each takes, how their values move, which
rules should (and should not) answer; and the plan of a run (its devices and its incidents).

The rule codes named are Qingdao's (``content/qingdao/monitor/alarm-rules.yaml``): ``expect``
holds the rules whose alarm counts as the incident detected, ``also`` the others it may
rightly raise (neither is a false alarm). A near-miss expects nothing: any alarm it raises is
a false alarm."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from shuhui.monitor.devices import Device, Directory

WARMUP: Final = timedelta(minutes=3)  # every device heard before the first incident
MARGIN: Final = timedelta(minutes=4)  # the last incident ends this long before the run


def ramp(t: float, over: float, start: float, end: float) -> float:
    return end if t >= over else start + (end - start) * max(t, 0.0) / over


def _metres(a: Device, b: Device) -> float:
    lat = math.radians((a.lat + b.lat) / 2)
    dx = math.radians(b.lon - a.lon) * math.cos(lat)
    return 6_371_000.0 * math.hypot(dx, math.radians(b.lat - a.lat))


# A profile: (the device's place in the incident, seconds since the start, its quiet values) →
# the values it sends, or None for nothing at all.
Profile = Callable[[int, float, dict[str, float]], dict[str, float] | None]


def _fire(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    lag = 30.0 * i
    return {
        **v,
        "smoke": ramp(t - lag, 180, v["smoke"], 12.0 if i == 0 else 7.0),
        "temperature": ramp(t - lag, 240, v["temperature"], v["temperature"] + (55 - 12 * i)),
    }


def _forest_fire(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    if i == 0:
        return {
            "smoke": ramp(t, 600, v["smoke"], 20.0),
            "temperature": ramp(t, 900, v["temperature"], 52.0),
            "humidity": ramp(t, 900, v["humidity"], 15.0),
            "wind_speed": ramp(t, 600, v["wind_speed"], 10.0),
        }
    return {**v, "smoke": ramp(t, 900, v["smoke"], 8.0), "temperature": v["temperature"] + 6.0}


def _gas_leak(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    return {"gas_lel": ramp(t - 30.0 * i, 360 + 60 * i, v["gas_lel"], 60.0 if i == 0 else 35.0)}


def _tank(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    return {**v, "pressure": ramp(t, 120, v["pressure"], 1.9)}


def _tilt(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    return {**v, "tilt": ramp(t, 600, v["tilt"], 0.4)}


def _silent(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    return None


def _smoke_blip(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    return {**v, "smoke": ramp(t, 60, v["smoke"], 3.0), "temperature": v["temperature"] + 2.0}


def _gas_whiff(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    peak = 18.0
    up = ramp(t, 480, v["gas_lel"], peak)
    return {"gas_lel": up if t < 480 else ramp(t - 480, 480, peak, v["gas_lel"])}


def _tank_spike(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    return {**v, "pressure": 1.7} if t < 70 else v


def _hot_dry_calm(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    return {**v, "temperature": 33.0, "humidity": 34.0, "wind_speed": 1.5}


def _small_tilt(i: int, t: float, v: dict[str, float]) -> dict[str, float] | None:
    return {**v, "tilt": ramp(t, 600, v["tilt"], 0.2)}


@dataclass(frozen=True)
class Kind:
    code: str
    name_zh: str
    name_en: str
    sensor_types: tuple[str, ...]  # the lead device's type (the first that the site has)
    minutes: float
    profile: Profile
    expect: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    near_miss: bool = False
    together: int = 1  # devices of the site taken: the lead and its neighbours
    within_m: float | None = None  # the neighbours at most this far from the lead


KINDS: Final[dict[str, Kind]] = {
    k.code: k
    for k in (
        Kind("high_rise_fire", "高层建筑火灾", "High-rise fire", ("smoke-detector",), 12,
             _fire, ("hr-fire-confirmed",), ("hr-smoke", "hr-heat-rise"), together=3),
        Kind("forest_fire", "森林火灾", "Forest fire", ("forest-station",), 30, _forest_fire,
             ("fo-fire-suspect",), ("fo-smoke", "fo-fire-weather"), together=2, within_m=950),
        Kind("gas_leak", "可燃气体泄漏", "Gas leak", ("gas-detector",), 10, _gas_leak,
             ("hz-gas-cluster",), ("hz-gas-first", "hz-gas-second", "hz-gas-rise"),
             together=3, within_m=180),
        Kind("tank_overpressure", "储罐超压", "Tank over-pressure", ("tank-monitor",), 10,
             _tank, ("hz-tank-pressure",)),
        Kind("structural_tilt", "建筑结构倾斜", "Structural tilt", ("structure-monitor",), 55,
             _tilt, ("hr-tilt",)),
        Kind("device_silent", "设备离线", "Device gone silent",
             ("smoke-detector", "gas-detector"), 10, _silent,
             ("hr-detector-silent", "hz-detector-silent")),
        Kind("smoke_blip", "烟雾轻微波动（未达阈值）", "Smoke blip under the threshold",
             ("smoke-detector",), 4, _smoke_blip, near_miss=True),
        Kind("gas_whiff", "单点微量可燃气体", "A slow whiff of gas at one detector",
             ("gas-detector",), 16, _gas_whiff, near_miss=True),
        Kind("tank_spike", "储罐压力瞬时波动", "A pressure spike shorter than the rule",
             ("tank-monitor",), 3, _tank_spike, near_miss=True),
        Kind("hot_dry_calm", "高温干燥但无风", "Hot and dry but calm", ("forest-station",), 40,
             _hot_dry_calm, near_miss=True, together=99),
        Kind("small_tilt", "轻微倾斜（未达预警值）", "A tilt under the warning value",
             ("structure-monitor",), 40, _small_tilt, near_miss=True),
    )
}  # fmt: skip
INCIDENTS: Final = tuple(k for k, v in KINDS.items() if not v.near_miss)
NEAR_MISSES: Final = tuple(k for k, v in KINDS.items() if v.near_miss)


@dataclass(frozen=True)
class Incident:
    id: str
    kind: str
    site: str
    devices: tuple[str, ...]
    start: datetime
    end: datetime

    @property
    def spec(self) -> Kind:
        return KINDS[self.kind]

    def as_json(self) -> dict[str, Any]:
        k = self.spec
        return {
            "type": "incident",
            "id": self.id,
            "kind": self.kind,
            "name_zh": k.name_zh,
            "name_en": k.name_en,
            "near_miss": k.near_miss,
            "site": self.site,
            "devices": list(self.devices),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "expect": list(k.expect),
            "also": list(k.also),
        }


@dataclass
class Plan:
    start: datetime
    end: datetime
    devices: list[Device]
    incidents: list[Incident] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # kinds no free site could take

    def by_device(self) -> dict[str, list[tuple[Incident, int]]]:
        found: dict[str, list[tuple[Incident, int]]] = {}
        for incident in self.incidents:
            for i, device in enumerate(incident.devices):
                found.setdefault(device, []).append((incident, i))
        return found


def pick_devices(
    directory: Directory, count: int, rng: random.Random, exclude: frozenset[str] = frozenset()
) -> list[Device]:
    """Whole sites (not those in ``exclude``), taken in turn from each scenario, until
    ``count`` devices (0: all)."""
    sites: dict[str, list[Device]] = {}
    for d in sorted(directory.devices.values(), key=lambda d: d.id):
        if d.site not in exclude:
            sites.setdefault(d.site, []).append(d)
    if count <= 0 or count >= sum(len(g) for g in sites.values()):
        return [d for group in sites.values() for d in group]
    by_scenario: dict[str, list[list[Device]]] = {}
    for group in sites.values():
        by_scenario.setdefault(group[0].sensor_type.scenario, []).append(group)
    for groups in by_scenario.values():
        rng.shuffle(groups)
    chosen: list[Device] = []
    while len(chosen) < count and any(by_scenario.values()):
        for groups in by_scenario.values():
            if groups and len(chosen) < count:
                chosen += groups.pop()
    return chosen


def _candidates(kind: Kind, devices: Sequence[Device]) -> list[tuple[str, tuple[str, ...]]]:
    """(site, devices) the kind could take among ``devices``: the lead and its neighbours."""
    sites: dict[str, list[Device]] = {}
    for d in devices:
        sites.setdefault(d.site, []).append(d)
    found: list[tuple[str, tuple[str, ...]]] = []
    for site, group in sites.items():
        for wanted in kind.sensor_types:
            of_type = [d for d in group if d.sensor_type.code == wanted]
            if not of_type:
                continue
            lead = of_type[0]
            near = [
                d for d in of_type[1:] if kind.within_m is None or _metres(lead, d) <= kind.within_m
            ]
            taken = [lead, *near][: kind.together]
            need = 2 if kind.together > 1 and kind.together < 99 else 1
            if len(taken) >= need:
                found.append((site, tuple(d.id for d in taken)))
                break
    return found


def plan(
    directory: Directory,
    *,
    start: datetime,
    minutes: float,
    devices: int,
    incidents: int,
    near_misses: int,
    seed: int,
    run_id: str,
    exclude_sites: frozenset[str] = frozenset(),
) -> Plan:
    """The run's devices and its incidents: the kinds taken in turn (every kind of incident
    before any repeats), spread over the run after the warm-up, at sites free at the time."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    chosen = pick_devices(directory, devices, rng, exclude_sites)
    end = start + timedelta(minutes=minutes)
    made = Plan(start, end, chosen)
    wanted = [INCIDENTS[i % len(INCIDENTS)] for i in range(incidents)]
    wanted += [NEAR_MISSES[i % len(NEAR_MISSES)] for i in range(near_misses)]
    if not wanted:
        return made
    first, last = start + WARMUP, end - MARGIN
    # Longest first, so the long ones get the early slots they need.
    order = sorted(range(len(wanted)), key=lambda i: (-KINDS[wanted[i]].minutes, i))
    span = max((last - first).total_seconds(), 0.0)
    busy: dict[str, list[tuple[datetime, datetime]]] = {}
    options = {code: _candidates(KINDS[code], chosen) for code in set(wanted)}
    for n, i in enumerate(order):
        kind = KINDS[wanted[i]]
        length = timedelta(minutes=kind.minutes)
        at = first + timedelta(seconds=span * n / len(order))
        if at + length > last:
            at = last - length
        if at < first:
            made.skipped.append(kind.code)
            continue
        free = [
            (site, ids)
            for site, ids in options[kind.code]
            if all(at >= e or at + length <= s for s, e in busy.get(site, []))
        ]
        if not free:
            made.skipped.append(kind.code)
            continue
        site, ids = free[rng.randrange(len(free))]
        busy.setdefault(site, []).append((at, at + length))
        made.incidents.append(
            Incident(
                f"{run_id}-{len(made.incidents) + 1:03d}", kind.code, site, ids, at, at + length
            )
        )
    made.incidents.sort(key=lambda x: (x.start, x.id))
    return made

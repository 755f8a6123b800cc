"""What each kind of sensor reports when nothing happens: daily cycles, per-device offsets and
measurement noise, inside the physical range and clear of the alarm rules."""

from __future__ import annotations

import hashlib
import math
import random
from datetime import datetime, timedelta, timezone

from shuhui.monitor.devices import Device

CST = timezone(timedelta(hours=8))


def device_seed(device_id: str, seed: int) -> int:
    digest = hashlib.blake2b(f"{seed}|{device_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _hour(ts: datetime) -> float:
    local = ts.astimezone(CST)
    return local.hour + local.minute / 60 + local.second / 3600


def outdoor_temperature(ts: datetime, offset: float) -> float:
    """About 10 °C before dawn to 22 °C mid-afternoon (a Qingdao spring day)."""
    return 16.0 + offset + 6.0 * math.sin(2 * math.pi * (_hour(ts) - 9.0) / 24)


class Baseline:
    """One device's quiet stream: its offsets drawn once, noise drawn per reading."""

    def __init__(self, device: Device, seed: int) -> None:
        self.device = device
        self.rng = random.Random(device_seed(device.id, seed))  # noqa: S311 - simulated noise
        r = self.rng
        self.offset = r.uniform(-1.5, 1.5)
        self.indoor = r.uniform(20.5, 24.5)
        self.water = r.uniform(0.28, 0.45)
        self.tilt = r.uniform(-0.06, 0.06)
        self.strain = r.uniform(-250, 250)
        self.tank_pressure = r.uniform(0.55, 1.05)
        self.tank_level = r.uniform(35, 70)
        self.gas = r.uniform(0.2, 1.2)
        self.wind = r.uniform(2.0, 4.0)

    def values(self, ts: datetime) -> dict[str, float]:
        r = self.rng
        code = self.device.sensor_type.code
        hour = _hour(ts)
        day_wave = math.sin(2 * math.pi * (hour - 9.0) / 24)
        out: dict[str, float]
        if code == "smoke-detector":
            out = {
                "smoke": max(0.0, r.gauss(0.15, 0.05)),
                "temperature": self.indoor + 1.2 * day_wave + r.gauss(0, 0.1),
            }
        elif code == "fire-water-pressure":
            out = {"water_pressure": self.water + r.gauss(0, 0.005)}
        elif code == "structure-monitor":
            out = {
                "tilt": self.tilt + 0.01 * day_wave + r.gauss(0, 0.003),
                "strain": self.strain + 40 * day_wave + r.gauss(0, 8),
            }
        elif code == "forest-station":
            temperature = outdoor_temperature(ts, self.offset) + r.gauss(0, 0.3)
            out = {
                "temperature": temperature,
                "humidity": 66.0 - 1.6 * (temperature - 16.0) + r.gauss(0, 1.5),
                "wind_speed": max(0.0, self.wind + 1.2 * day_wave + r.gauss(0, 0.6)),
                "smoke": max(0.0, r.gauss(0.2, 0.08)),
            }
        elif code == "gas-detector":
            out = {"gas_lel": max(0.0, self.gas + r.gauss(0, 0.15))}
        elif code == "tank-monitor":
            out = {
                "pressure": self.tank_pressure + 0.04 * day_wave + r.gauss(0, 0.01),
                "temperature": 18.0 + 5.0 * day_wave + self.offset + r.gauss(0, 0.2),
                "level": self.tank_level + r.gauss(0, 0.2),
            }
        else:
            out = {
                name: (m.low + m.high) / 2 for name, m in self.device.sensor_type.metrics.items()
            }
        return clip(self.device, out)


def clip(device: Device, values: dict[str, float]) -> dict[str, float]:
    """Inside each metric's physical range, rounded as a device sends it."""
    metrics = device.sensor_type.metrics
    out: dict[str, float] = {}
    for name, value in values.items():
        m = metrics.get(name)
        if m is None:
            continue
        out[name] = round(min(m.high, max(m.low, value)), 3)
    return out

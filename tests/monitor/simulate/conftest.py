"""A small city of sensors for the simulator's tests: a few buildings, forest areas and
chemical plants, several devices of each kind per site, neighbours close enough for the
correlation rules."""

from __future__ import annotations

from shuhui.core.content import DEFAULT_DIR
from shuhui.monitor.devices import Device, Directory, sensor_types

TYPES = sensor_types(DEFAULT_DIR, "qingdao")
LAYOUT = {
    "high_rise": (
        "370202",
        120.38,
        36.06,
        (("smoke-detector", 4), ("fire-water-pressure", 1), ("structure-monitor", 1)),
    ),
    "forest": ("370212", 120.60, 36.20, (("forest-station", 4),)),
    "hazchem": ("370211", 120.15, 35.96, (("gas-detector", 4), ("tank-monitor", 2))),
}


def small_city(sites: dict[str, int] | None = None) -> Directory:
    """``sites`` per scenario (default: 4 buildings, 2 forest areas, 3 plants); devices of a
    site within ~100 m (a forest station ~300 m) of each other."""
    counts = sites or {"high_rise": 4, "forest": 2, "hazchem": 3}
    devices: list[Device] = []
    n = 0
    for scenario, many in counts.items():
        district, lon, lat, kinds = LAYOUT[scenario]
        step = 0.003 if scenario == "forest" else 0.0004
        for s in range(many):
            site = f"SITE-{district}-{s + 1:04d}"
            k = 0
            for kind, per_site in kinds:
                for _ in range(per_site):
                    n += 1
                    k += 1
                    devices.append(
                        Device(
                            f"SNS-{district}-{n:06d}",
                            TYPES[kind],
                            site,
                            district,
                            lon + 0.05 * s + step * k,
                            lat + 0.05 * s,
                        )
                    )
    return Directory.of(devices, TYPES)

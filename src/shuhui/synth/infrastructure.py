"""The synthetic city's digital infrastructure: the registry, the villages and the population.

Three tables of the standard (:mod:`shuhui.standard.tables`):

- ``infrastructure_assets`` — 5G base stations, 10G-PON port groups, data-centre rack groups,
  EV charging points, smart poles, traffic signals and safety-risk sensors, at the scale of
  the *Digital Qingdao 2023* article (``/work/shared/seed``; 30,000+ 5G stations at the end of
  2022 and 3,500 more a year, 185,000 10G-PON ports, 37,000 → 45,000 racks, 32,000 charging
  points and 9,000 more a year). Each type's cumulative count at dated knots (``KNOTS``) is
  interpolated month by month and commissioning dates are drawn from it, so monthly progress
  curves rise as the real ones did. A few per cent are still being built (no date) and a few
  retired (a ``retired_on``).
- ``administrative_villages`` — Qingdao's villages per district (``VILLAGES``, plausible
  counts after the 2019–2021 mergers; the urban districts have none), each with a village
  committee's location. Rural 5G coverage is drawn per village (``VILLAGE_COVERAGE``): a
  station within a kilometre of the committee from the date it is covered.
- ``district_population`` — year-end resident population per district (the 2020 census,
  ``vocab.DISTRICT_POPULATION``, with each district's growth), the denominator of the "per
  10,000 people" indicators.

``scale`` multiplies every count (the population too, so per-10,000 figures stay realistic);
the demo and ``shuhui synth`` use 1.0. At any scale each type, each sensor scenario and each
kind of sensor appear, with several sensors per site.

Locations lie inside their district as the platform draws it: points are drawn around the
district's urban centre and over its extent and kept when inside the district's polygons in
``shuhui/web/static/maps/qingdao.json`` (read as a file, not imported: the boundary data is the
web package's static asset, extracted from a registry package, see its README).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import shapely
import shapely.geometry

from shuhui.datacore.schema import TableSpec
from shuhui.standard import tables
from shuhui.synth import vocab
from shuhui.synth.columns import NEVER, batch, dates, weighted_index
from shuhui.synth.context import Stream, day_number, rng_for
from shuhui.synth.population import DISTRICT_CODES, surnames

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Cumulative assets commissioned (full scale) by date; interpolated linearly between knots.
# Sources: the article's end-2022 figures and 2023 targets; the rest inferred from the national
# build-out (5G from mid-2019) and the article's yearly increments.
KNOTS: dict[str, tuple[tuple[str, float], ...]] = {
    "5g-base-station": (
        ("2019-06-01", 0), ("2019-12-31", 2_300), ("2020-12-31", 12_500),
        ("2021-12-31", 22_600), ("2022-12-31", 31_000), ("2023-12-31", 34_500),
        ("2024-12-31", 38_300), ("2025-12-31", 42_000), ("2026-12-31", 45_600),
    ),
    # 10G-PON ports (the groups are drawn to add up to them).
    "pon-port-group": (
        ("2019-06-01", 0), ("2019-12-31", 40_000), ("2020-12-31", 95_000),
        ("2021-12-31", 147_000), ("2022-12-31", 191_000), ("2023-12-31", 215_000),
        ("2024-12-31", 240_000), ("2025-12-31", 262_000), ("2026-12-31", 282_000),
    ),
    # Standard racks.
    "dc-rack-group": (
        ("2015-01-01", 0), ("2018-12-31", 18_000), ("2020-12-31", 28_000),
        ("2021-12-31", 33_000), ("2022-12-31", 38_200), ("2023-12-31", 45_400),
        ("2024-12-31", 50_500), ("2025-12-31", 55_000), ("2026-12-31", 59_000),
    ),
    "ev-charger": (
        ("2015-01-01", 0), ("2018-12-31", 5_500), ("2019-12-31", 9_000),
        ("2020-12-31", 14_000), ("2021-12-31", 22_000), ("2022-12-31", 33_200),
        ("2023-12-31", 42_000), ("2024-12-31", 51_500), ("2025-12-31", 61_000),
        ("2026-12-31", 70_500),
    ),
    "smart-pole": (
        ("2019-06-01", 0), ("2020-12-31", 600), ("2021-12-31", 1_500),
        ("2022-12-31", 2_700), ("2023-12-31", 4_100), ("2024-12-31", 5_400),
        ("2025-12-31", 6_600), ("2026-12-31", 7_700),
    ),
    "traffic-signal": (
        ("2015-01-01", 0), ("2018-12-31", 1_300), ("2020-12-31", 2_000),
        ("2022-12-31", 2_700), ("2023-12-31", 3_150), ("2024-12-31", 3_550),
        ("2025-12-31", 3_950), ("2026-12-31", 4_300),
    ),
    # Sensors (drawn as sites, each with its sensors commissioned together).
    "sensor": (
        ("2021-03-01", 0), ("2021-12-31", 1_500), ("2022-12-31", 4_500),
        ("2023-12-31", 7_000), ("2024-12-31", 8_600), ("2025-12-31", 9_700),
        ("2026-12-31", 10_600),
    ),
}  # fmt: skip

# Share of each type being built (no date yet) and retired, of those commissioned.
BUILDING = 0.03
RETIRED = {
    "5g-base-station": 0.01, "pon-port-group": 0.005, "dc-rack-group": 0.02, "ev-charger": 0.03,
    "smart-pole": 0.005, "traffic-signal": 0.02, "sensor": 0.02,
}  # fmt: skip
PON_PORTS = (8, 16)

# Administrative villages per district (full scale; inferred, after the mergers into larger
# villages and communities). The urban districts 市南, 市北 and 李沧 have none.
VILLAGES: dict[str, int] = {
    "370211": 1_150, "370212": 140, "370214": 220, "370215": 1_000,
    "370281": 800, "370283": 1_600, "370285": 700,
}  # fmt: skip
# Share of villages with a 5G station of their own by date: a rural station covers its
# neighbours too (villages lie about a kilometre apart), so coverage runs well above it.
VILLAGE_COVERAGE = (
    ("2019-12-31", 0.0),
    ("2020-12-31", 0.05),
    ("2021-12-31", 0.12),
    ("2022-12-31", 0.2),
    ("2023-12-31", 0.28),
    ("2024-12-31", 0.33),
    ("2025-12-31", 0.38),
    ("2026-12-31", 0.41),
)
VILLAGE_STATION_KM = (0.15, 0.9)

# Yearly population growth per district (the new areas grow, the old centre barely).
POPULATION_GROWTH: dict[str, float] = {
    "370202": -0.002, "370203": 0.0, "370211": 0.015, "370212": 0.02, "370213": 0.004,
    "370214": 0.018, "370215": 0.01, "370281": 0.006, "370283": -0.003, "370285": -0.003,
}  # fmt: skip

# Urban centre (lon, lat) and its spread in km per district.
CENTRES: dict[str, tuple[float, float, float]] = {
    "370202": (120.385, 36.070, 2.5), "370203": (120.370, 36.095, 2.5),
    "370211": (120.180, 35.960, 9.0), "370212": (120.465, 36.110, 4.0),
    "370213": (120.430, 36.160, 3.0), "370214": (120.390, 36.300, 5.0),
    "370215": (120.450, 36.390, 7.0), "370281": (120.030, 36.280, 6.0),
    "370283": (119.960, 36.780, 7.0), "370285": (120.520, 36.880, 6.0),
}  # fmt: skip
# How urban each type is: the share drawn around the centre (the rest over the district).
CENTRED = {"5g-base-station": 1.0, "pon-port-group": 0.8, "ev-charger": 0.8,
           "smart-pole": 0.9, "traffic-signal": 0.9, "high_rise": 1.0, "forest": 0.0,
           "hazchem": 0.3}  # fmt: skip
# District weights beyond population: (type or scenario) -> weights in DISTRICT_CODES order.
URBAN_TILT = np.array([1.6, 1.5, 1.1, 1.3, 1.3, 1.1, 0.9, 0.8, 0.6, 0.6])
SITE_WEIGHTS: dict[str, tuple[float, ...]] = {
    "high_rise": (18, 20, 20, 12, 12, 10, 5, 2, 0.5, 0.5),
    "forest": (0, 0, 25, 35, 0, 8, 10, 5, 12, 5),
    "hazchem": (0, 0, 45, 2, 3, 6, 12, 12, 12, 8),
}
SITES = {"high_rise": 700, "forest": 100, "hazchem": 160}
# Sensors per site: (sensor type, low, high) drawn uniformly per site.
SITE_SENSORS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "high_rise": (("smoke-detector", 4, 10), ("fire-water-pressure", 1, 2),
                  ("structure-monitor", 1, 2)),
    "forest": (("forest-station", 6, 14),),
    "hazchem": (("gas-detector", 6, 14), ("tank-monitor", 2, 6)),
}  # fmt: skip
SENSOR_NAMES = {
    "smoke-detector": "感烟探测器", "fire-water-pressure": "消防水压监测装置",
    "structure-monitor": "结构监测仪", "forest-station": "森林防火监测站",
    "gas-detector": "可燃气体探测器", "tank-monitor": "储罐监测仪",
}  # fmt: skip
SITE_SPREAD_KM = {"high_rise": 0.03, "forest": 1.5, "hazchem": 0.25}
SCENARIO_OPERATOR = {"high_rise": "市消防救援支队", "forest": "市园林和林业局"}
FOREST_NAMES: dict[str, tuple[str, ...]] = {
    "370211": ("大珠山", "小珠山", "藏马山", "铁橛山", "灵山岛"),
    "370212": ("崂顶", "北九水", "华严", "仰口", "流清河", "太清"),
    "370214": ("三标山", "毛公山"),
    "370215": ("马山", "豹山", "鹤山"),
    "370281": ("艾山", "少海"),
    "370283": ("大泽山", "茶山", "云山"),
    "370285": ("产芝", "莲花山"),
}
BUILDING_WORDS = ("大厦", "国际中心", "广场", "金融中心", "公寓", "商务楼")
PLANT_WORDS = ("石化", "化工", "精细化工", "新材料", "液化气储运", "化学品仓储")

OPERATORS: dict[str, tuple[tuple[str, float], ...]] = {
    "5g-base-station": (("中国移动", 45), ("中国电信", 25), ("中国联通", 22), ("中国广电", 8)),
    "pon-port-group": (("中国移动", 40), ("中国电信", 30), ("中国联通", 25), ("中国广电", 5)),
    "ev-charger": (("特来电", 38), ("国家电网", 24), ("星星充电", 12), ("云快充", 8),
                   ("小桔充电", 6), ("青岛城运控股", 6), ("蔚来", 3), ("特斯拉", 3)),
    "smart-pole": (("中国铁塔", 45), ("青岛城市建设投资集团", 35), ("华通集团", 20)),
    "traffic-signal": (("市公安局交通警察支队", 1),),
}  # fmt: skip
# Data centres: name, operator, district, (lon, lat), share of the racks.
DATA_CENTRES: tuple[tuple[str, str, str, float, float, float], ...] = (
    ("中国联通青岛西海岸数据中心", "中国联通", "370211", 120.168, 35.933, 0.22),
    ("中国电信青岛云基地", "中国电信", "370215", 120.471, 36.422, 0.2),
    ("中国移动青岛数据中心", "中国移动", "370214", 120.357, 36.287, 0.18),
    ("卡奥斯工业互联网数据中心", "卡奥斯物联科技", "370212", 120.481, 36.118, 0.12),
    ("华通云数据中心", "华通集团", "370203", 120.378, 36.104, 0.1),
    ("青岛超算中心", "海洋试点国家实验室", "370212", 120.613, 36.242, 0.08),
    ("浪潮青岛数据中心", "浪潮云", "370281", 120.010, 36.275, 0.1),
)
RACK_GROUP = (80, 400)

KM_PER_DEG_LAT = 111.0


@dataclass(frozen=True)
class District:
    code: str
    shape: shapely.MultiPolygon  # prepared: point tests are vectorised
    west: float
    south: float
    east: float
    north: float


@cache
def districts() -> dict[str, District]:
    """The districts' polygons, from the boundary file the pages draw."""
    path = files("shuhui").joinpath("web/static/maps/qingdao.json")
    found: dict[str, District] = {}
    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        shape = shapely.geometry.shape(feature["geometry"])
        shapely.prepare(shape)
        west, south, east, north = shape.bounds
        code = feature["properties"]["adcode"]
        found[code] = District(code, shape, west, south, east, north)
    return found


def inside(district: District, lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    result: npt.NDArray[np.bool_] = shapely.contains_xy(district.shape, lon, lat)
    return result


def points_in(
    rng: np.random.Generator, code: str, n: int, centred: float, around: tuple[float, float, float]
) -> tuple[FloatArray, FloatArray]:
    """``n`` points inside district ``code``: ``centred`` of them normal around ``around``
    (lon, lat, spread in km), the rest uniform over the district."""
    district = districts()[code]
    lon_out = np.empty(n)
    lat_out = np.empty(n)
    filled = 0
    near = rng.random(n) < centred
    clon, clat, spread = around
    km_lon = KM_PER_DEG_LAT * np.cos(np.radians(clat))
    while filled < n:
        want = n - filled
        k = max(64, want * 2)
        pick_near = near[filled : filled + want]
        pick_near = np.resize(pick_near, k) if pick_near.shape[0] else np.zeros(k, dtype=bool)
        lon = np.where(
            pick_near,
            clon + rng.normal(0, spread / km_lon, k),
            rng.uniform(district.west, district.east, k),
        )
        lat = np.where(
            pick_near,
            clat + rng.normal(0, spread / KM_PER_DEG_LAT, k),
            rng.uniform(district.south, district.north, k),
        )
        ok = np.flatnonzero(inside(district, lon, lat))[:want]
        lon_out[filled : filled + ok.shape[0]] = lon[ok]
        lat_out[filled : filled + ok.shape[0]] = lat[ok]
        filled += ok.shape[0]
    return np.round(lon_out, 6), np.round(lat_out, 6)


def _knot_days(knots: tuple[tuple[str, float], ...]) -> tuple[FloatArray, FloatArray]:
    days = np.array([day_number(date.fromisoformat(d)) for d, _ in knots], dtype=np.float64)
    return days, np.array([v for _, v in knots], dtype=np.float64)


def cumulative(knots: tuple[tuple[str, float], ...], on: date) -> float:
    days, values = _knot_days(knots)
    return float(np.interp(day_number(on), days, values))


def draw_days(
    rng: np.random.Generator, knots: tuple[tuple[str, float], ...], n: int, as_of: date
) -> IntArray:
    """``n`` dates following the knots' cumulative curve, up to ``as_of``."""
    days, values = _knot_days(knots)
    top = cumulative(knots, as_of)
    drawn = np.interp(rng.random(n) * top, values, days)
    return np.minimum(np.floor(drawn).astype(np.int64), day_number(as_of))


@dataclass
class Assets:
    """Columns of ``infrastructure_assets`` being gathered, type by type, as Arrow arrays."""

    columns: dict[str, list[pa.Array]]

    @classmethod
    def empty(cls) -> Assets:
        return cls({c.name: [] for c in tables.INFRASTRUCTURE_ASSETS.columns})

    def add(self, **values: object) -> None:
        n = len(values["asset_id"])  # type: ignore[arg-type]
        for spec_column in tables.INFRASTRUCTURE_ASSETS.columns:
            value = values.get(spec_column.name)
            kind = spec_column.arrow_type
            if value is None:
                array = pa.nulls(n, type=kind)
            elif isinstance(value, pa.Array):
                array = value.cast(kind)
            else:
                array = pa.array(value, type=kind)
            self.columns[spec_column.name].append(array)

    def batch(self) -> pa.RecordBatch:
        spec = tables.INFRASTRUCTURE_ASSETS
        return batch(spec, {name: pa.concat_arrays(parts) for name, parts in self.columns.items()})


def _count(full: float, scale: float, least: int) -> int:
    return max(least, round(full * scale))


def _district_split(rng: np.random.Generator, n: int, weights: npt.ArrayLike) -> IntArray:
    return weighted_index(rng, np.asarray(weights, dtype=np.float64), n)


def _states(
    rng: np.random.Generator, kind: str, days: IntArray, as_of: date
) -> tuple[npt.NDArray[np.str_], pa.Array, pa.Array]:
    """Status, commissioning and retirement dates; ``days`` of -1 are still being built."""
    end = day_number(as_of)
    retire = (rng.random(days.shape[0]) < RETIRED[kind]) & (days >= 0)
    retired_day = (
        days + 180 + (rng.random(days.shape[0]) * np.maximum(end - days - 180, 0))
    ).astype(np.int64)
    retire &= retired_day < end
    status = np.where(days < 0, "建设中", np.where(retire, "停用", "在用"))
    return status, dates(days, days >= 0), dates(retired_day, retire)


def _with_building(rng: np.random.Generator, days: IntArray, share: float) -> IntArray:
    building = rng.random(days.shape[0]) < share
    return np.where(building, -1, days)


def _ids(
    prefix: str, codes: list[str], width: int = 6, counters: dict[str, int] | None = None
) -> list[str]:
    """``<prefix>-<district>-<n>``, numbered from 1 within each district in order (after
    the numbers ``counters`` says are taken, which it then moves on)."""
    keys = np.array(codes)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.r_[0, np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, keys.shape[0]]))
    number = np.empty(keys.shape[0], dtype=np.int64)
    number[order] = np.arange(keys.shape[0]) - run_start + 1
    if counters is not None:
        number += np.array([counters.get(c, 0) for c in codes], dtype=np.int64)
        for code, last in zip(codes, number.tolist(), strict=True):
            counters[code] = max(counters.get(code, 0), last)
    return [f"{prefix}-{c}-{k:0{width}d}" for c, k in zip(codes, number.tolist(), strict=True)]


def _choice(rng: np.random.Generator, values: tuple[str, ...], n: int) -> list[str]:
    return [values[i] for i in rng.integers(0, len(values), n)]


def _roads(rng: np.random.Generator, codes: list[str]) -> list[str]:
    drawn = rng.random(len(codes))
    return [
        roads[int(u * len(roads))]
        for roads, u in zip((vocab.DISTRICT_ROADS[c] for c in codes), drawn, strict=True)
    ]


def _operators(rng: np.random.Generator, kind: str, n: int) -> list[str]:
    pairs = OPERATORS[kind]
    index = weighted_index(rng, [w for _, w in pairs], n)
    return [pairs[i][0] for i in index]


def _place(
    rng: np.random.Generator, codes: list[str], centred: float, tighter: float = 1.0
) -> tuple[FloatArray, FloatArray]:
    lon = np.empty(len(codes))
    lat = np.empty(len(codes))
    as_array = np.array(codes)
    for code in sorted(set(codes)):
        rows = np.flatnonzero(as_array == code)
        clon, clat, spread = CENTRES[code]
        lon[rows], lat[rows] = points_in(
            rng, code, rows.shape[0], centred, (clon, clat, spread * tighter)
        )
    return lon, lat


@dataclass(frozen=True)
class Villages:
    code: list[str]
    name: list[str]
    district: list[str]
    town: list[str]
    lon: FloatArray
    lat: FloatArray
    covered_day: IntArray  # when the village's own 5G station came; NEVER if not yet

    def batch(self) -> pa.RecordBatch:
        return batch(
            tables.ADMINISTRATIVE_VILLAGES,
            {
                "village_code": pa.array(self.code, pa.string()),
                "name": pa.array(self.name, pa.string()),
                "district_code": pa.array(self.district, pa.string()),
                "town": pa.array(self.town, pa.string()),
                "lon": self.lon,
                "lat": self.lat,
            },
        )


def draw_villages(rng: np.random.Generator, scale: float, as_of: date) -> Villages:
    codes: list[str] = []
    names: list[str] = []
    districts_of: list[str] = []
    towns: list[str] = []
    for district, full in VILLAGES.items():
        n = _count(full, scale, 2)
        town_names = vocab.DISTRICT_TOWNS[district]
        town = rng.integers(0, len(town_names), n)
        per_town: dict[int, int] = {}
        family = surnames(rng, n).to_pylist()
        suffix = _choice(rng, vocab.VILLAGE_SUFFIXES, n)
        for i in range(n):
            t = int(town[i])
            per_town[t] = per_town.get(t, 0) + 1
            codes.append(f"{district}{t + 1:03d}{per_town[t]:03d}")
            names.append(f"{family[i]}家{suffix[i]}")
            districts_of.append(district)
            towns.append(town_names[t])
    lon, lat = _place(rng, districts_of, 0.15)
    days, shares = _knot_days(VILLAGE_COVERAGE)
    u = rng.random(len(codes))
    reached = shares.max() >= u
    covered = np.where(
        (u <= np.interp(day_number(as_of), days, shares)) & reached,
        np.floor(np.interp(u, shares, days)).astype(np.int64),
        NEVER,
    )
    return Villages(codes, names, districts_of, towns, lon, lat, covered)


def population_batch(scale: float, as_of: date) -> pa.RecordBatch:
    years = list(range(2019, as_of.year + 1))
    rows_year, rows_code, rows_pop = [], [], []
    for year in years:
        for code in DISTRICT_CODES:
            base = vocab.DISTRICT_POPULATION[code] * 10_000
            value = base * (1 + POPULATION_GROWTH[code]) ** (year - 2020)
            rows_year.append(year)
            rows_code.append(code)
            rows_pop.append(max(1, round(value * scale)))
    return batch(
        tables.DISTRICT_POPULATION,
        {
            "year": np.array(rows_year, dtype=np.int16),
            "district_code": pa.array(rows_code, pa.string()),
            "population": np.array(rows_pop, dtype=np.int64),
        },
    )


def _five_g(
    rng: np.random.Generator, out: Assets, villages: Villages, scale: float, as_of: date
) -> None:
    kind = "5g-base-station"
    total = _count(cumulative(KNOTS[kind], as_of), scale, 4)
    covered = np.flatnonzero(villages.covered_day != NEVER)
    # Village stations: one within a kilometre of each covered village's committee.
    v_codes = [villages.district[i] for i in covered]
    distance = rng.uniform(*VILLAGE_STATION_KM, covered.shape[0])
    bearing = rng.uniform(0, 2 * np.pi, covered.shape[0])
    v_lat = villages.lat[covered] + distance * np.sin(bearing) / KM_PER_DEG_LAT
    v_lon = villages.lon[covered] + distance * np.cos(bearing) / (
        KM_PER_DEG_LAT * np.cos(np.radians(villages.lat[covered]))
    )
    urban = max(2, total - covered.shape[0])
    weights = np.array([vocab.DISTRICT_POPULATION[c] for c in DISTRICT_CODES])
    u_codes = [DISTRICT_CODES[i] for i in _district_split(rng, urban, weights)]
    # Towns' stations: around the urban centres (the villages' own are drawn above).
    u_lon, u_lat = _place(rng, u_codes, CENTRED[kind], tighter=0.4)
    codes = v_codes + u_codes
    days = np.concatenate(
        [villages.covered_day[covered], draw_days(rng, KNOTS[kind], urban, as_of)]
    )
    days = np.concatenate(
        [days[: covered.shape[0]], _with_building(rng, days[covered.shape[0] :], BUILDING)]
    )
    status, commissioned, retired = _states(rng, kind, days, as_of)
    # A village's own station stays in use (its coverage date is the village's).
    status[: covered.shape[0]] = "在用"
    retired = pa.concat_arrays(
        [pa.nulls(covered.shape[0], pa.date32()), retired.slice(covered.shape[0])]
    )
    operator = _operators(rng, kind, len(codes))
    street = [villages.town[i] for i in covered] + _roads(rng, u_codes)
    village = [villages.code[i] for i in covered] + [None] * urban
    place = [villages.name[i] for i in covered] + street[covered.shape[0] :]
    ids = _ids("5G", codes)
    out.add(
        asset_id=list(ids),
        asset_type=[kind] * len(codes),
        name=[f"{o}{p}5G基站{i[-4:]}" for o, p, i in zip(operator, place, ids, strict=True)],
        district_code=list(codes),
        street=list(street),
        village_code=list(village),
        lon=np.round(np.concatenate([v_lon, u_lon]), 6).tolist(),
        lat=np.round(np.concatenate([v_lat, u_lat]), 6).tolist(),
        operator=list(operator),
        status=status,
        commissioned_on=commissioned,
        retired_on=retired,
    )


def _simple(
    rng: np.random.Generator,
    out: Assets,
    kind: str,
    prefix: str,
    n: int,
    as_of: date,
    weights: npt.ArrayLike,
    label: str,
    capacity: list[int] | None = None,
) -> None:
    codes = [DISTRICT_CODES[i] for i in _district_split(rng, n, weights)]
    lon, lat = _place(rng, codes, CENTRED[kind])
    days = _with_building(rng, draw_days(rng, KNOTS[kind], n, as_of), BUILDING)
    status, commissioned, retired = _states(rng, kind, days, as_of)
    operator = _operators(rng, kind, n)
    street = _roads(rng, codes)
    ids = _ids(prefix, codes)
    if kind == "traffic-signal":
        other = _roads(rng, codes)
        names = [f"{a}与{b}路口信号灯" if a != b else f"{a}{i[-4:]}号路口信号灯"
                 for a, b, i in zip(street, other, ids, strict=True)]  # fmt: skip
    elif kind == "smart-pole":
        names = [f"{s}多功能智能杆{i[-4:]}" for s, i in zip(street, ids, strict=True)]
    else:
        names = [f"{o}{s}{label}{i[-4:]}" for o, s, i in zip(operator, street, ids, strict=True)]
    out.add(
        asset_id=list(ids),
        asset_type=[kind] * n,
        name=list(names),
        district_code=list(codes),
        street=list(street),
        lon=lon.tolist(),
        lat=lat.tolist(),
        operator=list(operator),
        status=status,
        commissioned_on=commissioned,
        retired_on=retired,
        capacity=list(capacity) if capacity is not None else [None] * n,
    )


def _racks(rng: np.random.Generator, out: Assets, scale: float, as_of: date) -> None:
    kind = "dc-rack-group"
    racks = cumulative(KNOTS[kind], as_of) * scale
    sizes: list[int] = []
    while sum(sizes) < racks or len(sizes) < len(DATA_CENTRES):
        sizes.append(int(rng.integers(RACK_GROUP[0] // 10, RACK_GROUP[1] // 10 + 1)) * 10)
    n = len(sizes)
    centre = (
        list(range(len(DATA_CENTRES)))
        + weighted_index(rng, [d[5] for d in DATA_CENTRES], n - len(DATA_CENTRES)).tolist()
    )
    days = _with_building(rng, draw_days(rng, KNOTS[kind], n, as_of), BUILDING)
    status, commissioned, retired = _states(rng, kind, days, as_of)
    codes = [DATA_CENTRES[c][2] for c in centre]
    ids = _ids("DC", codes)
    room: dict[int, int] = {}
    names = []
    for c in centre:
        room[c] = room.get(c, 0) + 1
        names.append(f"{DATA_CENTRES[c][0]}{room[c]}号机房")
    out.add(
        asset_id=list(ids),
        asset_type=[kind] * n,
        name=names,
        district_code=list(codes),
        lon=[round(DATA_CENTRES[c][3] + rng.normal(0, 0.0005), 6) for c in centre],
        lat=[round(DATA_CENTRES[c][4] + rng.normal(0, 0.0005), 6) for c in centre],
        operator=[DATA_CENTRES[c][1] for c in centre],
        status=status,
        commissioned_on=commissioned,
        retired_on=retired,
        capacity=list(sizes),
    )


Plants = Mapping[str, Sequence[tuple[str, str]]]  # district code -> (credit code, name), ordered


def _plants_of(
    scenario: str, codes: list[str], plants: Plants | None
) -> list[tuple[str, str] | None]:
    """The enterprise each hazardous-chemicals site is, where the district has a manufacturer
    to be it: its k-th site the district's k-th plant (no draw: the other columns' random
    streams stay as they were). Other sites, and districts without one, are nobody's."""
    if scenario != "hazchem" or not plants:
        return [None] * len(codes)
    seen: dict[str, int] = {}
    found: list[tuple[str, str] | None] = []
    for code in codes:
        mine = plants.get(code, ())
        k = seen.get(code, 0)
        seen[code] = k + 1
        found.append(mine[k % len(mine)] if mine else None)
    return found


def _sensors(
    rng: np.random.Generator, out: Assets, scale: float, as_of: date, plants: Plants | None = None
) -> None:
    kind = "sensor"
    taken_sites: dict[str, int] = {}
    taken_sensors: dict[str, int] = {}
    for scenario, full in SITES.items():
        n_sites = _count(full, scale, 2)
        weights = SITE_WEIGHTS[scenario]
        site_codes = [DISTRICT_CODES[i] for i in _district_split(rng, n_sites, weights)]
        if scenario == "forest":
            s_lon, s_lat = _place(rng, site_codes, 0.0)
        else:
            s_lon, s_lat = _place(rng, site_codes, CENTRED[scenario])
        site_days = _with_building(rng, draw_days(rng, KNOTS[kind], n_sites, as_of), BUILDING)
        site_ids = _ids("SITE", site_codes, width=4, counters=taken_sites)
        site_names = _site_names(rng, scenario, site_codes, site_ids)
        owners = _plants_of(scenario, site_codes, plants)
        site_names = [o[1] if o else n for o, n in zip(owners, site_names, strict=True)]
        ids: list[str] = []
        rows: list[tuple[int, str]] = []
        for s in range(n_sites):
            for sensor_type, low, high in SITE_SENSORS[scenario]:
                for _ in range(int(rng.integers(low, high + 1))):
                    rows.append((s, sensor_type))
        codes = [site_codes[s] for s, _ in rows]
        ids = _ids("SNS", codes, counters=taken_sensors)
        spread = SITE_SPREAD_KM[scenario]
        site_of = np.array([s for s, _ in rows])
        lat = s_lat[site_of] + rng.normal(0, spread, len(rows)) / KM_PER_DEG_LAT
        lon = s_lon[site_of] + rng.normal(0, spread, len(rows)) / (
            KM_PER_DEG_LAT * np.cos(np.radians(s_lat[site_of]))
        )
        # A sensor blown outside its district's outline (a coastal forest) sits at its site.
        for code in set(codes):
            rows_here = np.flatnonzero(np.array(codes) == code)
            out_here = rows_here[~inside(districts()[code], lon[rows_here], lat[rows_here])]
            lon[out_here], lat[out_here] = s_lon[site_of[out_here]], s_lat[site_of[out_here]]
        days = site_days[site_of] + np.where(
            site_days[site_of] >= 0, rng.integers(0, 20, len(rows)), 0
        )
        days = np.where(days >= 0, np.minimum(days, day_number(as_of)), -1)
        status, commissioned, retired = _states(rng, kind, days, as_of)
        number: dict[tuple[int, str], int] = {}
        names = []
        for s, sensor_type in rows:
            number[(s, sensor_type)] = number.get((s, sensor_type), 0) + 1
            names.append(f"{site_names[s]}{SENSOR_NAMES[sensor_type]}{number[(s, sensor_type)]}号")
        operator = [SCENARIO_OPERATOR.get(scenario, site_names[s]) for s, _ in rows]
        out.add(
            asset_id=ids,
            asset_type=[kind] * len(rows),
            name=names,
            district_code=codes,
            lon=np.round(lon, 6).tolist(),
            lat=np.round(lat, 6).tolist(),
            operator=operator,
            status=status,
            commissioned_on=commissioned,
            retired_on=retired,
            sensor_type=[t for _, t in rows],
            site_id=[site_ids[s] for s, _ in rows],
            site_name=[site_names[s] for s, _ in rows],
            site_credit_code=[o[0] if (o := owners[s]) else None for s, _ in rows],
        )


def _site_names(
    rng: np.random.Generator, scenario: str, codes: list[str], ids: list[str]
) -> list[str]:
    if scenario == "high_rise":
        roads = _roads(rng, codes)
        words = _choice(rng, BUILDING_WORDS, len(codes))
        return [f"{r}{int(rng.integers(1, 300))}号{w}" for r, w in zip(roads, words, strict=True)]
    if scenario == "forest":
        return [
            f"{FOREST_NAMES[c][int(rng.integers(0, len(FOREST_NAMES[c])))]}林区{i[-2:]}片"
            for c, i in zip(codes, ids, strict=True)
        ]
    trade = surnames(rng, len(codes)).to_pylist()
    words = _choice(rng, PLANT_WORDS, len(codes))
    chars = _choice(rng, vocab.TRADE_NAME_CHARS, len(codes))
    return [f"青岛{t}{c}{w}有限公司" for t, c, w in zip(trade, chars, words, strict=True)]


def generate(
    scale: float, seed: int, as_of: date, plants: Plants | None = None
) -> list[tuple[TableSpec, pa.RecordBatch]]:
    """The three tables' batches for a city of ``scale`` (1.0: Qingdao's); ``plants``, the
    city's live manufacturers by district, are the enterprises the hazardous-chemicals sites
    are."""
    rng = rng_for(seed, Stream.INFRASTRUCTURE)
    population = np.array([vocab.DISTRICT_POPULATION[c] for c in DISTRICT_CODES])
    villages = draw_villages(rng, scale, as_of)
    out = Assets.empty()
    _five_g(rng, out, villages, scale, as_of)
    ports = cumulative(KNOTS["pon-port-group"], as_of) * scale
    groups = max(2, round(ports / np.mean(PON_PORTS)))
    capacity = [int(PON_PORTS[i]) for i in rng.integers(0, len(PON_PORTS), groups)]
    _simple(rng, out, "pon-port-group", "PON", groups, as_of, population, "10G-PON端口组", capacity)
    _racks(rng, out, scale, as_of)
    for kind, prefix, label in (
        ("ev-charger", "EVC", "充电桩"),
        ("smart-pole", "POLE", "多功能智能杆"),
        ("traffic-signal", "SIG", "信号灯"),
    ):
        n = _count(cumulative(KNOTS[kind], as_of), scale, 2)
        _simple(rng, out, kind, prefix, n, as_of, population * URBAN_TILT, label)
    _sensors(rng, out, scale, as_of, plants)
    return [
        (tables.INFRASTRUCTURE_ASSETS, out.batch()),
        (tables.ADMINISTRATIVE_VILLAGES, villages.batch()),
        (tables.DISTRICT_POPULATION, population_batch(scale, as_of)),
    ]

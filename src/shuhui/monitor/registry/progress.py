"""Progress against the plan, computed in DuckDB over the data core's registry.

An asset counts at a month's end when it was commissioned on or before that day and not
retired by then (a retirement on the last day counts as gone). ``count`` adds assets,
``capacity`` their capacity (ports, racks). ``villages_covered`` counts the villages of
``administrative_villages`` with such a station within the indicator's ``coverage_km`` of the
village committee (pairs found through a grid of cells one distance wide, then measured on an
equirectangular projection, which at Qingdao's latitude errs by well under a per cent over a
few kilometres). The denominators: ``per_10k_people`` divides by the district's year-end
population (``district_population``, the month's year, or the nearest year it holds), times
10,000; ``share_of_villages`` by the district's villages, in per cent. The city's figure is the
districts' sum divided by the city's denominator, never an average of district ratios.

Each figure is one set-based query: monthly changes per district (an asset adds its weight in
the month it is commissioned and takes it away in the month it retires), summed up to each
month of the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import duckdb

from shuhui.core.regions import qingdao_districts
from shuhui.monitor.registry.content import Indicator

ASSETS = "infrastructure_assets"
VILLAGES = "administrative_villages"
POPULATION = "district_population"
TABLES = (ASSETS, VILLAGES, POPULATION)
# The northernmost latitude of the city (莱西市 reaches about 37.1°N), for the grid's width.
_NORTH = 37.5
_KM_LAT = 110.57
_KM_LON_EQUATOR = 111.32

_MONTHS = """
months AS (
    SELECT m::DATE AS m, (m + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS e
    FROM generate_series($start::DATE, $end::DATE, INTERVAL 1 MONTH) AS t(m)
)"""


@dataclass(frozen=True)
class Series:
    """An indicator's figure per month (first days), for the city and each district."""

    indicator: Indicator
    months: list[date]
    city: list[float | None]
    districts: dict[str, list[float | None]]


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def latest_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The registry's last known date: its newest commissioning or retirement."""
    row = con.execute(
        f"SELECT greatest(max(commissioned_on), max(retired_on)) FROM {ASSETS}"  # noqa: S608
    ).fetchone()
    return None if row is None else row[0]


def _measured(
    con: duckdb.DuckDBPyConnection, indicator: Indicator, start: date, end: date
) -> dict[tuple[date, str], float]:
    params = {"type": indicator.asset_type, "start": start, "end": end}
    if indicator.measure == "villages_covered":
        km = float(indicator.coverage_km or 1.0)
        params |= {
            "km": km,
            "dx": km / (_KM_LON_EQUATOR * math.cos(math.radians(_NORTH))),
            "dy": km / _KM_LAT,
        }
        sql = f"""
        WITH {_MONTHS},
        s AS (
            SELECT commissioned_on AS c, retired_on AS r, lon, lat,
                   floor(lon / $dx)::BIGINT AS cx, floor(lat / $dy)::BIGINT AS cy
            FROM {ASSETS} WHERE asset_type = $type AND commissioned_on IS NOT NULL
        ),
        v AS (
            SELECT village_code, district_code, lon, lat,
                   floor(lon / $dx)::BIGINT + ox AS qx, floor(lat / $dy)::BIGINT + oy AS qy
            FROM {VILLAGES}, (SELECT unnest([-1, 0, 1]) AS ox), (SELECT unnest([-1, 0, 1]) AS oy)
        ),
        pairs AS (
            SELECT v.village_code, v.district_code, s.c, s.r
            FROM v JOIN s ON s.cx = v.qx AND s.cy = v.qy
            WHERE sqrt(
                pow((s.lon - v.lon) * {_KM_LON_EQUATOR} * cos(radians(v.lat)), 2)
                + pow((s.lat - v.lat) * {_KM_LAT}, 2)
            ) <= $km
        ),
        -- Of the stations never retired only a village's first matters: it covers from then on.
        spans AS (
            SELECT village_code, district_code, min(c) AS c, NULL::DATE AS r
            FROM pairs WHERE r IS NULL GROUP BY ALL
            UNION ALL
            SELECT village_code, district_code, c, r FROM pairs WHERE r IS NOT NULL
        )
        SELECT months.m, pairs.district_code, count(DISTINCT pairs.village_code)
        FROM months JOIN spans AS pairs
            ON pairs.c <= months.e AND (pairs.r IS NULL OR pairs.r > months.e)
        GROUP BY ALL
        """  # noqa: S608
    else:
        weight = "coalesce(capacity, 0)" if indicator.measure == "capacity" else "1"
        sql = f"""
        WITH {_MONTHS},
        a AS (
            SELECT district_code, commissioned_on AS c, retired_on AS r, {weight} AS w
            FROM {ASSETS} WHERE asset_type = $type AND commissioned_on IS NOT NULL
        ),
        deltas AS (
            SELECT district_code, date_trunc('month', c)::DATE AS m, sum(w) AS d
            FROM a GROUP BY ALL
            UNION ALL
            SELECT district_code, date_trunc('month', r)::DATE AS m, -sum(w) AS d
            FROM a WHERE r IS NOT NULL GROUP BY ALL
        )
        SELECT months.m, deltas.district_code, sum(deltas.d)
        FROM months JOIN deltas ON deltas.m <= months.m
        GROUP BY ALL
        """  # noqa: S608
    return {(m, d): float(v) for m, d, v in con.execute(sql, params).fetchall()}


def _denominators(
    con: duckdb.DuckDBPyConnection, indicator: Indicator
) -> dict[int | None, dict[str, float]]:
    """Per year (None: the same every year) and district: what the figure is divided by."""
    if indicator.denominator == "share_of_villages":
        rows = con.execute(
            f"SELECT district_code, count(*) FROM {VILLAGES} GROUP BY ALL"  # noqa: S608
        ).fetchall()
        return {None: {d: float(n) / 100.0 for d, n in rows}}
    if indicator.denominator == "per_10k_people":
        found: dict[int | None, dict[str, float]] = {}
        for year, district, people in con.execute(
            f"SELECT year, district_code, population FROM {POPULATION}"  # noqa: S608
        ).fetchall():
            found.setdefault(int(year), {})[district] = float(people) / 10_000.0
        return found
    return {}


def _for_year(table: dict[int | None, dict[str, float]], year: int) -> dict[str, float] | None:
    if None in table:
        return table[None]
    years = [y for y in table if y is not None]
    if not years:
        return None
    before = [y for y in years if y <= year]
    return table[max(before) if before else min(years)]


def series(con: duckdb.DuckDBPyConnection, indicator: Indicator, start: date, end: date) -> Series:
    """The indicator month by month from ``start`` to ``end`` (first days of months)."""
    start, end = first_of_month(start), first_of_month(end)
    measured = _measured(con, indicator, start, end)
    denominators = _denominators(con, indicator)
    months: list[date] = []
    month = start
    while month <= end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    codes = [r.code for r in qingdao_districts()]
    districts: dict[str, list[float | None]] = {code: [] for code in codes}
    city: list[float | None] = []
    for month in months:
        values = {code: measured.get((month, code), 0.0) for code in codes}
        if indicator.denominator == "absolute":
            for code in codes:
                districts[code].append(values[code])
            city.append(sum(values.values()))
            continue
        base = _for_year(denominators, month.year) or {}
        for code in codes:
            below = base.get(code, 0.0)
            districts[code].append(values[code] / below if below > 0 else None)
        total = sum(base.values())
        city.append(sum(values.values()) / total if total > 0 else None)
    return Series(indicator, months, city, districts)

"""The digital economy as facts (``core.facts.Fact``) for ``shuhui.insight``: revenue and its
year-on-year growth, the projects' investment, enablement against the plan's target — at the
finest grain the data core keeps (district, month, field or stage), so insight can sum them for
any months and districts. Each figure is defined as ``industry`` defines it for the bureau's
console, so the two agree wherever they show the same thing:

- revenue (``digital_economy_output``) per month, key field and the district of the enterprise
  (``enterprises``), in fen;
- growth: for each month whose month a year before the table holds, the month's revenue less
  the revenue of the same month a year before (the value) over the latter (the base), per field
  and district: summed over January to the latest month, exactly the console's year-so-far
  growth;
- investment (``industry_projects``) by the month of signing, the project's district and the
  furthest stage it has reached (``industry.STAGES``);
- enablement: enterprises enabled for the first time (``platform_enablements``) per month and
  district of the enterprise, against the year's target as the console scales it to this city
  (``industry.enablement_figures``), shared out to the districts by their enterprises in
  business and to the months evenly (按时间进度); summed over a whole year, the console's share
  of the target.

Nothing here is personal: enterprises and projects only, and the facts are sums.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb

from shuhui.core.facts import Fact, month_of
from shuhui.datacore.store import DataCore
from shuhui.enterprise import industry
from shuhui.enterprise.industry import ENABLEMENTS, ENTERPRISES, OUTPUT, PROJECTS, STAGES

REVENUE_TABLES: Final = (OUTPUT, ENTERPRISES)
PROJECT_TABLES: Final = (PROJECTS,)
ENABLEMENT_TABLES: Final = (ENABLEMENTS, ENTERPRISES)
# The furthest stage a project reached: the last of STAGES whose date it has.
_STAGE_NOW: Final = (
    "CASE "
    + " ".join(f"WHEN {col} IS NOT NULL THEN '{code}'" for code, col, _, _ in reversed(STAGES))
    + " END"
)


def _rows(
    core: DataCore, tables: tuple[str, ...], sql: str, params: Any = None
) -> list[tuple[Any, ...]]:
    con: duckdb.DuckDBPyConnection = core.connect(tables=tables)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def revenue(core: DataCore) -> list[Fact]:
    """Revenue in fen per month, key field (the group) and district of the enterprise."""
    rows = _rows(
        core,
        REVENUE_TABLES,
        f"""SELECT e.district_code, o.month, o.field_code, sum(o.revenue_fen)
            FROM {OUTPUT} o LEFT JOIN {ENTERPRISES} e USING (credit_code)
            GROUP BY ALL""",  # noqa: S608
    )
    return [
        Fact(value=float(fen), district=d, month=month_of(m), group=field)
        for d, m, field, fen in rows
    ]


def revenue_growth(core: DataCore) -> list[Fact]:
    """Per month, field and district: the change from the same month a year before (value) and
    that month's revenue (base), for the months whose month a year before the table holds. A
    field or district with revenue in only one of the two months counts on its side, as it
    does in the console's totals."""
    rows = _rows(
        core,
        REVENUE_TABLES,
        f"""WITH cells AS (
                SELECT e.district_code AS d, o.field_code AS f, o.month AS m,
                       sum(o.revenue_fen) AS r
                FROM {OUTPUT} o LEFT JOIN {ENTERPRISES} e USING (credit_code)
                GROUP BY ALL
            ),
            span AS (SELECT min(month) AS first, max(month) AS last FROM {OUTPUT}),
            before AS (SELECT d, f, (m + INTERVAL 12 MONTH)::DATE AS m, r FROM cells),
            paired AS (
                SELECT coalesce(n.d, b.d) AS d, coalesce(n.f, b.f) AS f,
                       coalesce(n.m, b.m) AS m,
                       coalesce(n.r, 0) - coalesce(b.r, 0) AS value, coalesce(b.r, 0) AS base
                FROM cells n FULL JOIN before b
                  ON n.d IS NOT DISTINCT FROM b.d AND n.f = b.f AND n.m = b.m
            )
            SELECT d, m, f, value, base FROM paired, span
            WHERE m >= (span.first + INTERVAL 12 MONTH)::DATE AND m <= span.last""",  # noqa: S608
    )
    return [
        Fact(value=float(v), base=float(b), district=d, month=month_of(m), group=f)
        for d, m, f, v, b in rows
    ]


def investment(core: DataCore) -> list[Fact]:
    """Planned investment in fen per month of signing, district of the project and the stage
    it has reached (the group)."""
    rows = _rows(
        core,
        PROJECT_TABLES,
        f"""SELECT district_code, signed_date, {_STAGE_NOW}, sum(investment_fen)
            FROM {PROJECTS} WHERE signed_date IS NOT NULL GROUP BY ALL""",  # noqa: S608
    )
    return [
        Fact(value=float(fen), district=d, month=month_of(m), group=stage)
        for d, m, stage, fen in rows
    ]


def projects(
    core: DataCore,
    content: Path,
    *,
    start: date | None,
    end: date | None,
    district: str | None,
    limit: int = 200,
) -> tuple[list[dict[str, Any]], int]:
    """The projects signed from ``start``'s month to ``end``'s (of one district), largest
    investment first; at most ``limit``, with how many there are in all."""
    where = ["signed_date IS NOT NULL"]
    params: dict[str, Any] = {}
    if start is not None:
        where.append("signed_date >= $start")
        params["start"] = month_of(start)
    if end is not None:
        where.append("signed_date < $after")
        after = month_of(end)
        params["after"] = date(after.year + after.month // 12, after.month % 12 + 1, 1)
    if district is not None:
        where.append("district_code = $district")
        params["district"] = district
    filters = " AND ".join(where)
    total = _rows(
        core,
        PROJECT_TABLES,
        f"SELECT count(*) FROM {PROJECTS} WHERE {filters}",  # noqa: S608
        params,
    )[0][0]
    rows = _rows(
        core,
        PROJECT_TABLES,
        f"""SELECT project_code, name, field_code, park_code, district_code, investment_fen,
                   signed_date, {_STAGE_NOW} AS stage
            FROM {PROJECTS} WHERE {filters}
            ORDER BY investment_fen DESC, project_code LIMIT {max(int(limit), 0)}""",  # noqa: S608
        params,
    )
    system = industry.system(content)
    stages = {code: zh for code, _, zh, _ in STAGES}
    found = []
    for code, name, field, park, d, fen, signed, stage in rows:
        known_field, known_park = system.field(field), system.park(park)
        found.append(
            {
                "code": code,
                "name": name,
                "field": known_field.name_zh if known_field else field,
                "park": known_park.name_zh if known_park else park,
                "district": d,
                "investment_fen": int(fen),
                "signed_date": signed,
                "stage": stages.get(stage, stage),
            }
        )
    return found, int(total)


def enablement(core: DataCore, content: Path) -> list[Fact]:
    """Per district and month of each year the plan has a target for, up to the newest
    enablement: the enterprises enabled for the first time (value) and the year's target scaled
    to this city (the console's), times the district's share of the enterprises in business,
    over 12 (base)."""
    figures = industry.enablement_figures(core, content)
    targets = {y.year: y.target for y in figures.years if y.target is not None}
    if figures.as_of is None or not targets:
        return []
    live = dict(
        _rows(
            core,
            ENABLEMENT_TABLES,
            f"""SELECT district_code, count(*) FROM {ENTERPRISES}
                WHERE status = '存续' GROUP BY 1""",  # noqa: S608
        )
    )
    firsts = {
        (d, month_of(m)): int(n)
        for d, m, n in _rows(
            core,
            ENABLEMENT_TABLES,
            f"""SELECT e.district_code, date_trunc('month', f.d)::DATE, count(*)
                FROM (SELECT credit_code, min(enabled_date) AS d FROM {ENABLEMENTS} GROUP BY 1) f
                LEFT JOIN {ENTERPRISES} e USING (credit_code)
                GROUP BY ALL""",  # noqa: S608
        )
    }
    total_live = sum(int(n) for n in live.values())
    last = month_of(figures.as_of)
    months = [date(y, m, 1) for y in sorted(targets) for m in range(1, 13) if date(y, m, 1) <= last]
    found: list[Fact] = []
    for month in months:
        target = targets[month.year]
        districts = set(live) | {d for d, m in firsts if m == month}
        for d in sorted(districts, key=lambda x: (x is None, x or "")):
            share = int(live.get(d, 0)) / total_live if total_live and d is not None else 0.0
            found.append(
                Fact(
                    value=float(firsts.get((d, month), 0)),
                    base=target * share / 12,
                    district=d,
                    month=month,
                )
            )
    return found

"""The decisions map's indicators (辅助决策一张图) on the small city: each figure, read through
``insight.service.Reader``, equals a count made here by hand — the data core's rows fetched as
they are (DuckDB) and counted in Python, with ages, bands and months worked out here — for the
whole city, a district and a time range; a cell counting fewer than 10 people is withheld."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI

from shuhui.core.regions import qingdao_districts
from shuhui.datacore.store import DataCore
from shuhui.insight import engine, service
from shuhui.insight.engine import Figure, Scope

DISTRICTS = [r.code for r in qingdao_districts()]
K = 10


def fetch(app: FastAPI, sql: str) -> list[tuple[Any, ...]]:
    con = DataCore.from_settings(app.state.settings).connect()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def figure(app: FastAPI, code: str, scope: Scope | None = None) -> Figure:
    settings = app.state.settings
    with app.state.session_factory() as db:
        shown = service.Reader(settings, db, date(2026, 12, 7)).outcome(
            service.indicator(settings, code), scope or Scope()
        )
    assert shown.problem is None, shown.problem
    assert shown.figure is not None
    return shown.figure


def cells(found: tuple[engine.Cell, ...]) -> dict[str, tuple[float | None, bool]]:
    return {c.key: (c.value, c.withheld) for c in found}


def count_shown(n: float) -> tuple[float | None, bool]:
    """A count of people as it may be shown: withheld below 10 (but not 0)."""
    return (None, True) if 0 < n < K else (n, False)


def share_shown(part: float, whole: float) -> tuple[float | None, bool]:
    """A share of people as it may be shown: withheld where fewer than 10 are counted, or
    fewer than 10 are not."""
    if any(0 < n < K for n in (part, whole, whole - part)):
        return None, True
    return (part / whole * 100 if whole else None), False


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February, in a year without one
        return date(day.year - years, 2, 28)


def month(day: date) -> date:
    return day.replace(day=1)


def add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def last_twelve(latest: date) -> tuple[date, date]:
    return add_months(latest, -11), latest


def small_cell(counts: Counter[Any]) -> Any:
    """A key counting between 1 and 9."""
    found = [k for k, n in counts.items() if 0 < n < K]
    assert found, "the small city has small cells"
    return sorted(found, key=str)[0]


def like(shown: tuple[float | None, bool]) -> tuple[Any, bool]:
    """A value and whether it is withheld, the value compared as a float."""
    value, hidden = shown
    return (None if value is None else pytest.approx(value), hidden)


def approx_cells(values: dict[str, tuple[float | None, bool]]) -> dict[str, Any]:
    return {k: like(v) for k, v in values.items()}


def monthly_counts(
    items: Iterable[tuple[str | None, date, str | None]],
) -> tuple[Counter[date], Counter[str | None], Counter[str | None], Counter[tuple[Any, ...]]]:
    by_month: Counter[date] = Counter()
    by_district: Counter[str | None] = Counter()
    by_group: Counter[str | None] = Counter()
    by_cell: Counter[tuple[Any, ...]] = Counter()
    for district, day, group in items:
        by_month[month(day)] += 1
        by_district[district] += 1
        by_group[group] += 1
        by_cell[(district, month(day))] += 1
    return by_month, by_district, by_group, by_cell


# --- the population: pension insurance -----------------------------------------------------------


def bands(app: FastAPI) -> tuple[date, dict[str, tuple[str, date]], set[str]]:
    """Today as the data core counts it, each resident's district and birth date, and who has
    a pension enrolment not ended."""
    today = fetch(app, "SELECT current_date")[0][0]
    people = {
        c: (d, b)
        for c, d, b in fetch(app, "SELECT citizen_id, district_code, birth_date FROM residents")
    }
    insured = {
        c
        for c, kind, status in fetch(
            app, "SELECT citizen_id, insurance_type, status FROM insurance_enrolments"
        )
        if kind == "养老" and status != "终止参保"
    }
    return today, people, insured


def band_of(today: date, born: date) -> str | None:
    """The age band in whole years on ``today``; None under 16. A person is n when born on or
    before the day n years ago (29 February less a year is the 28th, as in the data core)."""
    age = today.year - born.year
    while years_before(today, age) < born:
        age -= 1
    if age < 16:
        return None
    for upper, name in ((30, "16-29"), (40, "30-39"), (50, "40-49"), (60, "50-59")):
        if age < upper:
            return name
    return "60+"


def test_pension_coverage_by_district_and_age_band(city_app: FastAPI) -> None:
    app = city_app
    today, people, insured = bands(app)
    part: dict[tuple[str, str], float] = defaultdict(float)
    whole: dict[tuple[str, str], float] = defaultdict(float)
    for citizen, (district, born) in people.items():
        band = band_of(today, born)
        if band is None or band == "60+":
            continue
        whole[(district, band)] += 1
        part[(district, band)] += citizen in insured

    def share(keep: Any) -> tuple[float | None, bool]:
        return share_shown(
            sum(v for k, v in part.items() if keep(*k)),
            sum(v for k, v in whole.items() if keep(*k)),
        )

    shown = figure(app, "pension-coverage")
    assert shown.start is None  # a stock, as of today
    assert (shown.value, shown.withheld) == like(share(lambda d, b: True))
    assert shown.value is not None and 50 < shown.value < 100
    assert cells(shown.by_district) == approx_cells(
        {d: share(lambda x, b, d=d: x == d) for d in DISTRICTS}
    )
    groups = ("16-29", "30-39", "40-49", "50-59")
    assert cells(shown.by_group) == approx_cells(
        {g: share(lambda d, b, g=g: b == g) for g in groups}
    )
    # One district, by age band: its small cells withheld.
    place = max(DISTRICTS, key=lambda d: sum(v for k, v in whole.items() if k[0] == d))
    there = figure(app, "pension-coverage", Scope(district=place))
    assert (there.value, there.withheld) == like(share(lambda d, b: d == place))
    assert cells(there.by_group) == approx_cells(
        {g: share(lambda d, b, g=g: d == place and b == g) for g in groups}
    )
    smallest = min(DISTRICTS, key=lambda d: sum(v for k, v in whole.items() if k[0] == d))
    tiny = figure(app, "pension-coverage", Scope(district=smallest))
    assert any(w for _, w in cells(tiny.by_group).values()), "a small district's bands"


def test_insured_people_by_district_and_age_band(city_app: FastAPI) -> None:
    app = city_app
    today, people, insured = bands(app)
    by: Counter[tuple[str, str]] = Counter()
    for citizen in insured:
        district, born = people[citizen]
        band = band_of(today, born)
        assert band is not None  # nobody under 16 is enrolled
        by[(district, band)] += 1
    shown = figure(app, "insured-persons")
    assert (shown.value, shown.withheld) == (len(insured), False)
    assert cells(shown.by_district) == {
        d: count_shown(sum(n for k, n in by.items() if k[0] == d)) for d in DISTRICTS
    }
    groups = ("16-29", "30-39", "40-49", "50-59", "60+")
    assert cells(shown.by_group) == {
        g: count_shown(sum(n for k, n in by.items() if k[1] == g)) for g in groups
    }
    # A district: its total, and a band of it below 10 withheld, never shown as 0.
    district, band = small_cell(by)
    there = figure(app, "insured-persons", Scope(district=district))
    assert there.value == sum(n for k, n in by.items() if k[0] == district)
    assert cells(there.by_group)[band] == (None, True)


# --- employment flows ----------------------------------------------------------------------------


def spells(app: FastAPI, column: str) -> list[tuple[str | None, date, str | None]]:
    """(employer's district, the date, employer's size) of each spell's start or end."""
    employers = {
        code: (district, size)
        for code, district, size in fetch(
            app, "SELECT credit_code, district_code, size_class FROM enterprises"
        )
    }
    found = []
    for code, day in fetch(app, f"SELECT credit_code, {column} FROM employment_spells"):
        if day is not None:
            district, size = employers.get(code, (None, None))
            found.append((district, day, size))
    return found


@pytest.mark.parametrize(
    ("code", "column"), [("jobs-started", "start_date"), ("jobs-ended", "end_date")]
)
def test_jobs_started_and_ended_per_month(city_app: FastAPI, code: str, column: str) -> None:
    app = city_app
    items = spells(app, column)
    by_month, _, _, by_cell = monthly_counts(items)
    start, end = last_twelve(max(by_month))
    shown = figure(app, code)
    assert (shown.start, shown.end) == (start, end)
    within = [i for i in items if start <= month(i[1]) <= end]
    assert (shown.value, shown.withheld) == count_shown(len(within))
    assert cells(shown.by_month) == {
        add_months(start, i).isoformat(): count_shown(by_month[add_months(start, i)])
        if by_month[add_months(start, i)]
        else (None, False)
        for i in range(12)
    }
    sizes = Counter(i[2] for i in within)
    assert cells(shown.by_group) == {
        g: count_shown(sizes[g]) if sizes[g] else (None, False)
        for g in ("大型", "中型", "小型", "微型")
    }
    # A quarter, and one district over the twelve months.
    spring = figure(app, code, Scope(date(2026, 3, 1), date(2026, 5, 1)))
    quarter = sum(n for m, n in by_month.items() if date(2026, 3, 1) <= m <= date(2026, 5, 1))
    assert (spring.value, spring.withheld) == count_shown(quarter)
    place = Counter(i[0] for i in within).most_common(1)[0][0]
    there = figure(app, code, Scope(district=place))
    assert (there.value, there.withheld) == count_shown(sum(1 for i in within if i[0] == place))
    # One district in one month: fewer than 10, withheld.
    district, first = small_cell(by_cell)
    cell = figure(app, code, Scope(first, first, district))
    assert (cell.value, cell.withheld) == (None, True)


# --- unemployment ---------------------------------------------------------------------------------


def test_unemployment_registrations_per_month_by_reason(city_app: FastAPI) -> None:
    app = city_app
    items = [
        (district, day, reason)
        for district, day, reason in fetch(
            app, "SELECT district_code, registered_date, reason FROM unemployment_registrations"
        )
    ]
    by_month, _, _, by_cell = monthly_counts(items)
    start, end = last_twelve(max(by_month))
    within = [i for i in items if start <= month(i[1]) <= end]
    shown = figure(app, "unemployment-registrations")
    assert (shown.start, shown.end) == (start, end)
    assert (shown.value, shown.withheld) == count_shown(len(within))
    reasons = Counter(i[2] for i in within)
    assert cells(shown.by_group) == {
        r: count_shown(reasons[r]) if reasons[r] else (None, False)
        for r in ("劳动合同期满", "单位裁员", "单位解除劳动合同", "单位破产")
    }
    # The previous twelve months, for the change shown beside the figure.
    before = [i for i in items if add_months(start, -12) <= month(i[1]) <= add_months(end, -12)]
    assert shown.previous == (count_shown(len(before))[0] if before else None)
    district, first = small_cell(by_cell)
    cell = figure(app, "unemployment-registrations", Scope(first, first, district))
    assert (cell.value, cell.withheld) == (None, True)
    place = Counter(i[0] for i in within).most_common(1)[0][0]
    there = figure(app, "unemployment-registrations", Scope(district=place))
    assert (there.value, there.withheld) == count_shown(sum(1 for i in within if i[0] == place))


def test_unemployment_benefit_paid_in_yuan(city_app: FastAPI) -> None:
    app = city_app
    where = dict(
        fetch(app, "SELECT registration_id, district_code FROM unemployment_registrations")
    )
    paid: dict[tuple[str | None, date], int] = defaultdict(int)
    for registration, first, fen in fetch(
        app, "SELECT registration_id, month, amount_fen FROM unemployment_benefits"
    ):
        paid[(where.get(registration), month(first))] += fen
    start, end = last_twelve(max(m for _, m in paid))
    shown = figure(app, "unemployment-benefits")
    assert (shown.start, shown.end) == (start, end)
    total = sum(fen for (_, m), fen in paid.items() if start <= m <= end)
    assert shown.value == pytest.approx(total / 100) and total > 0
    by_district = {
        d: sum(fen for (x, m), fen in paid.items() if x == d and start <= m <= end)
        for d in DISTRICTS
    }
    assert {k: v for k, (v, _) in cells(shown.by_district).items()} == {
        d: (pytest.approx(fen / 100) if fen else None) for d, fen in by_district.items()
    }
    # Money, not people: a small amount is shown as it is.
    district, first = min((k for k, fen in paid.items() if fen), key=lambda k: paid[k])
    cell = figure(app, "unemployment-benefits", Scope(first, first, district))
    assert (cell.value, cell.withheld) == (pytest.approx(paid[(district, first)] / 100), False)


# --- start-ups and graduates ----------------------------------------------------------------------


def test_startups_per_month_and_district(city_app: FastAPI) -> None:
    app = city_app
    items = [
        (district, day, None)
        for district, day in fetch(app, "SELECT district_code, established_date FROM enterprises")
        if day is not None
    ]
    by_month, _, _, _ = monthly_counts(items)
    start, end = last_twelve(max(by_month))
    within = [i for i in items if start <= month(i[1]) <= end]
    shown = figure(app, "startups")
    assert (shown.value, shown.withheld) == (len(within), False)
    place = Counter(i[0] for i in within).most_common(1)[0][0]
    there = figure(app, "startups", Scope(start, end, place))
    assert there.value == sum(1 for i in within if i[0] == place)
    june = figure(app, "startups", Scope(date(2026, 6, 1), date(2026, 6, 1)))
    assert june.value == (by_month[date(2026, 6, 1)] or None)


def test_graduates_placed_by_degree(city_app: FastAPI) -> None:
    app = city_app
    lives = dict(fetch(app, "SELECT citizen_id, district_code FROM residents"))
    cohort: list[tuple[str | None, date, str, bool]] = [
        (lives.get(citizen), graduated, degree, status in ("已就业", "升学"))
        for citizen, graduated, degree, status in fetch(
            app,
            "SELECT citizen_id, graduation_date, degree, employment_status FROM college_graduates",
        )
    ]
    latest = max(month(g[1]) for g in cohort)
    start, end = last_twelve(latest)

    def share(keep: Any) -> tuple[float | None, bool]:
        picked = [g for g in cohort if keep(g)]
        return share_shown(sum(g[3] for g in picked), len(picked))

    shown = figure(app, "graduate-placement-rate")
    assert (shown.start, shown.end) == (start, end)
    this_year = lambda g: start <= month(g[1]) <= end  # noqa: E731
    assert (shown.value, shown.withheld) == like(share(this_year))
    assert cells(shown.by_group) == approx_cells(
        {
            d: share(lambda g, d=d: this_year(g) and g[2] == d)
            if any(this_year(g) and g[2] == d for g in cohort)
            else (None, False)
            for d in ("专科", "本科", "硕士", "博士")
        }
    )
    # The cohort a year before, asked for by its months.
    year_before = figure(
        app, "graduate-placement-rate", Scope(add_months(start, -12), add_months(end, -12))
    )
    earlier = lambda g: add_months(start, -12) <= month(g[1]) <= add_months(end, -12)  # noqa: E731
    assert (year_before.value, year_before.withheld) == like(share(earlier))
    assert shown.previous == year_before.value
    # A district's graduates: few, so withheld.
    counts = Counter(g[0] for g in cohort if this_year(g))
    small = small_cell(counts)
    there = figure(app, "graduate-placement-rate", Scope(district=small))
    assert (there.value, there.withheld) == (None, True)

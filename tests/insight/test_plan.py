"""The plan map (数字青岛建设一张图): each indicator through the one reader, against a count
written out here by hand (SQL over the alarms' table, DuckDB over the small city's data core),
for the whole city and one district; its targets against the domains' own content, and the
domains' own pages' figures where they show the same thing."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shuhui.core.content import DEFAULT_DIR
from shuhui.core.errors import Problem
from shuhui.core.settings import Settings
from shuhui.datacore.store import DataCore
from shuhui.enterprise import industry, platforms
from shuhui.insight import content, engine, service
from shuhui.insight.engine import Figure, Scope
from shuhui.insight.measures import measures
from shuhui.monitor.alarms import service as alarms
from shuhui.monitor.alarms.rules import centre_of, load_units
from shuhui.monitor.registry import content as registry_content
from shuhui.monitor.registry import service as registry
from shuhui.trust.identity.models import User
from tests.fixtures import as_user
from tests.monitor.alarms.conftest import GAS, SMOKE, STATION, Feed, reading

CITY = DEFAULT_DIR / "qingdao"
# The small city is made as of 2026-10-31 (synth.CityConfig.as_of).
TODAY = date(2026, 11, 15)
DISTRICT = "370211"  # 黄岛区: villages, projects, plants — a district with something of each
CODES = (
    "plan-infrastructure-attainment",
    "plan-5g-stations",
    "plan-5g-village-coverage",
    "plan-open-alarms",
    "plan-open-alarms-scenario",
    "plan-digital-revenue",
    "plan-digital-revenue-growth",
    "plan-project-investment",
    "plan-enablement-progress",
)
FEN_TO_YI = 1e-10


def _close(a: float | None, b: float, rel: float = 1e-9) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


@contextmanager
def _reader(app: FastAPI) -> Iterator[service.Reader]:
    engine.forget()
    settings: Settings = app.state.settings
    with app.state.session_factory() as db:
        yield service.Reader(settings, db, TODAY)


def _figure(reader: service.Reader, code: str, scope: Scope | None = None) -> Figure:
    outcome = reader.outcome(service.indicator(reader.settings, code), scope or Scope())
    assert outcome.problem is None and outcome.figure is not None, (code, outcome.problem)
    return outcome.figure


def _rows(app: FastAPI, tables: tuple[str, ...], sql: str) -> list[tuple[Any, ...]]:
    con = DataCore.from_settings(app.state.settings).connect(tables=tables)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --- the content --------------------------------------------------------------------------------


def test_the_plan_map_has_its_indicators_each_with_its_measure() -> None:
    found = {c: i for c, i in content.indicators(DEFAULT_DIR, "qingdao").items() if i.map == "plan"}
    assert tuple(found) == CODES
    known = measures()
    departments = (CITY / "departments.yaml").read_text("utf-8")
    centre = centre_of(load_units(DEFAULT_DIR, "qingdao")).department
    for ind in found.values():
        assert ind.measure in known, ind.code
        assert ind.owner in departments or ind.owner == centre, ind.code
        m = known[ind.measure]
        assert m.operational == ind.code.startswith("plan-open-alarms"), ind.code
        assert (m.listing is not None) == ind.drill, ind.code


def test_the_infrastructure_targets_are_the_registrys() -> None:
    inds = content.indicators(DEFAULT_DIR, "qingdao")
    plan = registry_content.indicators(DEFAULT_DIR, "qingdao")
    for code, source in (
        ("plan-5g-stations", "5g-stations"),
        ("plan-5g-village-coverage", "5g-village-coverage"),
    ):
        mine = [(t.year, t.value) for t in inds[code].targets]
        assert mine == [(t.year, t.value) for t in plan[source].targets], code
    # The coverage distance the definition states is the registry's.
    km = plan["5g-village-coverage"].coverage_km
    assert f"{km:g}公里" in inds["plan-5g-village-coverage"].definition
    # The attainment's groups are the registry's indicators, named as there.
    groups = inds["plan-infrastructure-attainment"].groups
    assert {c: str(g) for c, g in groups.items()} == {c: i.name_zh for c, i in plan.items()}


def test_the_economy_groups_are_the_industry_systems_fields() -> None:
    fields = {f.code: f.name_zh for f in industry.system(CITY).fields}
    inds = content.indicators(DEFAULT_DIR, "qingdao")
    for code in ("plan-digital-revenue", "plan-digital-revenue-growth"):
        assert {c: str(g) for c, g in inds[code].groups.items()} == fields
    stages = {c for c, _, _, _ in industry.STAGES}
    assert set(inds["plan-project-investment"].groups) == stages
    # The enablement target is on schedule every year the plan has a target for.
    plan = platforms.enablement_plan(CITY)
    ind = inds["plan-enablement-progress"]
    for t in plan.targets:
        found = ind.target(t.year)
        assert found is not None and found.value == 100


# --- the digital infrastructure -----------------------------------------------------------------

ASSETS = ("infrastructure_assets", "administrative_villages", "district_population")


def _registry_end(app: FastAPI) -> date:
    (latest,) = _rows(
        app,
        ASSETS,
        "SELECT greatest(max(commissioned_on), max(retired_on)) FROM infrastructure_assets",
    )[0]
    after = date(latest.year + latest.month // 12, latest.month % 12 + 1, 1)
    return date.fromordinal(after.toordinal() - 1)


def _in_use(app: FastAPI, asset_type: str, weight: str, end: date) -> dict[str, float]:
    return {
        d: float(n)
        for d, n in _rows(
            app,
            ASSETS,
            f"SELECT district_code, sum({weight}) FROM infrastructure_assets "
            f"WHERE asset_type = '{asset_type}' AND commissioned_on <= DATE '{end}' "
            f"AND (retired_on IS NULL OR retired_on > DATE '{end}') GROUP BY 1",
        )
    }


def _covered(app: FastAPI, km: float, end: date) -> tuple[dict[str, int], dict[str, int]]:
    """Villages covered and all villages per district: every village against every station,
    no grid (the definition itself, as tests/monitor/registry/test_progress.py)."""
    covered = dict(
        _rows(
            app,
            ASSETS,
            "SELECT v.district_code, count(DISTINCT v.village_code) "
            "FROM administrative_villages v, infrastructure_assets s "
            "WHERE s.asset_type = '5g-base-station' "
            f"AND s.commissioned_on <= DATE '{end}' "
            f"AND (s.retired_on IS NULL OR s.retired_on > DATE '{end}') "
            "AND sqrt(pow((s.lon - v.lon) * 111.32 * cos(radians(v.lat)), 2) "
            f"+ pow((s.lat - v.lat) * 110.57, 2)) <= {km} GROUP BY 1",
        )
    )
    villages = dict(
        _rows(app, ASSETS, "SELECT district_code, count(*) FROM administrative_villages GROUP BY 1")
    )
    return covered, villages


def test_5g_stations_now_match_the_registry_and_hand_sql(city_app: FastAPI) -> None:
    end = _registry_end(city_app)
    expected = _in_use(city_app, "5g-base-station", "1", end)
    with _reader(city_app) as reader:
        whole = _figure(reader, "plan-5g-stations")
        one = _figure(reader, "plan-5g-stations", Scope(district=DISTRICT))
    assert whole.value == sum(expected.values()) and whole.start is None  # a stock
    assert one.value == expected[DISTRICT] and not one.notes
    assert {c.key: c.value for c in whole.by_district} == {
        c.key: expected.get(c.key, 0.0) for c in whole.by_district
    }
    assert whole.target is not None and whole.target.value == 44_000  # 2026's
    # The registry's own page shows the same figure.
    core = DataCore.from_settings(city_app.state.settings)
    shown = registry.progress_of(core, DEFAULT_DIR, "qingdao", "5g-stations")
    assert shown.value == whole.value
    assert whole.attainment is not None and _close(whole.attainment, whole.value / 44_000)


def test_village_coverage_matches_a_plain_cross_join(city_app: FastAPI) -> None:
    end = _registry_end(city_app)
    km = registry_content.indicators(DEFAULT_DIR, "qingdao")["5g-village-coverage"].coverage_km
    assert km is not None
    covered, villages = _covered(city_app, km, end)
    with _reader(city_app) as reader:
        whole = _figure(reader, "plan-5g-village-coverage")
        one = _figure(reader, "plan-5g-village-coverage", Scope(district=DISTRICT))
    assert _close(whole.value, sum(covered.values()) / sum(villages.values()) * 100)
    assert _close(one.value, covered.get(DISTRICT, 0) / villages[DISTRICT] * 100)
    core = DataCore.from_settings(city_app.state.settings)
    shown = registry.progress_of(core, DEFAULT_DIR, "qingdao", "5g-village-coverage")
    assert _close(whole.value, shown.value or 0.0)
    # A district without villages has no share, rather than 0 %.
    cells = {c.key: c.value for c in whole.by_district}
    assert all(cells[d] is None for d in cells if d not in villages)


def test_the_attainment_is_the_mean_capped_share_of_every_target(city_app: FastAPI) -> None:
    end = _registry_end(city_app)
    plan = registry_content.indicators(DEFAULT_DIR, "qingdao")
    (people,) = _rows(
        city_app,
        ASSETS,
        "SELECT sum(population) FROM district_population WHERE year = ("
        f"SELECT coalesce(max(year) FILTER (WHERE year <= {end.year}), min(year)) "
        "FROM district_population)",
    )[0]
    shares: dict[str, float] = {}
    for code, ind in plan.items():
        target = ind.target(end.year)
        assert target is not None
        if ind.measure == "villages_covered":
            covered, villages = _covered(city_app, ind.coverage_km or 0.0, end)
            value = sum(covered.values()) / sum(villages.values()) * 100
        else:
            weight = "capacity" if ind.measure == "capacity" else "1"
            value = sum(_in_use(city_app, ind.asset_type, weight, end).values())
            if ind.denominator == "per_10k_people":
                value = value / float(people) * 10_000
        shares[code] = min(value / target.value, 1.0) * 100
    with _reader(city_app) as reader:
        whole = _figure(reader, "plan-infrastructure-attainment")
        one = _figure(reader, "plan-infrastructure-attainment", Scope(district=DISTRICT))
    assert _close(whole.value, sum(shares.values()) / len(shares))
    assert {c.key: round(c.value or 0, 9) for c in whole.by_group} == {
        k: round(v, 9) for k, v in shares.items()
    }
    # The targets are the city's: a district is shown the city's figure, and told so.
    assert one.value == whole.value and [n.en for n in one.notes] == [
        "this figure is for the whole city only"
    ]
    assert whole.target is not None and whole.target.value == 100


# --- the safety alarms now ----------------------------------------------------------------------


def _open_by(db: Session, column: str, district: str | None = None) -> dict[str, int]:
    where = "state <> 'closed'" + ("" if district is None else f" AND district = '{district}'")
    return {
        str(k): int(n)
        for k, n in db.execute(
            text(f"SELECT {column}, count(*) FROM monitor_alarms WHERE {where} GROUP BY 1")
        )
    }


def test_open_alarms_by_level_and_scenario_match_the_table(app: FastAPI) -> None:
    with _reader(app) as reader:
        quiet = _figure(reader, "plan-open-alarms")
    assert quiet.value == 0  # nothing open shows as 0, not as no data
    assert quiet.start is None and all(c.value == 0 for c in quiet.by_district)
    feed = Feed(app.state.session_factory)
    feed(reading(SMOKE, "smoke", 8.0))  # 市南区, high-rise
    feed(reading(GAS, "gas_lel", 60.0))  # 黄岛区, hazardous chemicals
    feed(reading(STATION, "smoke", 6.0))  # 崂山区, forest
    (smoke,) = feed.alarms("hr-smoke")
    duty = as_user(app, "duty")
    closed = duty.post(f"/api/v1/monitor/alarms/{smoke.code}/close", json={"note": "误报，已核实"})
    assert closed.status_code == 200
    with app.state.session_factory() as db:
        by_level, by_scenario = _open_by(db, "level"), _open_by(db, "scenario")
        here = _open_by(db, "level", DISTRICT)
        here_scenarios = _open_by(db, "scenario", DISTRICT)
        open_total = sum(by_level.values())
    assert open_total >= 3 and "high_rise" not in by_scenario  # the one closed is not counted
    # The same reader as before: the ledger grew with each alarm, so the figure follows.
    with app.state.session_factory() as db:
        reader = service.Reader(app.state.settings, db, TODAY)
        levels = _figure(reader, "plan-open-alarms")
        scenarios = _figure(reader, "plan-open-alarms-scenario")
        one = _figure(reader, "plan-open-alarms", Scope(district=DISTRICT))
        one_scenario = _figure(reader, "plan-open-alarms-scenario", Scope(district=DISTRICT))
    assert levels.value == open_total == scenarios.value
    assert {c.key: c.value for c in levels.by_group} == {
        k: float(by_level.get(k, 0)) for k in ("1", "2", "3", "4")
    }
    assert {c.key: c.value for c in scenarios.by_group} == {
        k: float(by_scenario.get(k, 0)) for k in ("high_rise", "forest", "hazchem")
    }
    assert one.value == sum(here.values()) > 0 and one_scenario.value == one.value
    assert {c.key: c.value for c in one.by_group} == {
        k: float(here.get(k, 0)) for k in ("1", "2", "3", "4")
    }
    assert {c.key: c.value for c in one_scenario.by_group}["hazchem"] == here_scenarios["hazchem"]
    # The wall counts the same for the city.
    with app.state.session_factory() as db:
        user = db.scalar(select(User).where(User.username == "duty"))
        assert user is not None
        wall = alarms.open_counts(db, alarms.scope_of(user, alarms.catalogue(app.state.settings)))
    assert {k: float(v) for k, v in wall["levels"].items()} == {
        c.key: c.value for c in levels.by_group
    }


def test_the_centre_lists_the_open_alarms_of_a_district(app: FastAPI) -> None:
    feed = Feed(app.state.session_factory)
    feed(reading(SMOKE, "smoke", 8.0))
    feed(reading(GAS, "gas_lel", 60.0))
    settings: Settings = app.state.settings
    centre = alarms.catalogue(settings).centre.department
    ind = service.indicator(settings, "plan-open-alarms")
    with app.state.session_factory() as db:
        expected = _open_by(db, "level", DISTRICT)
        reader = service.Reader(settings, db, TODAY)
        shown = service.listing(
            reader, ind, Scope(district=DISTRICT), actor="duty", department=centre, is_officer=True
        )
        assert shown.total == sum(expected.values()) == len(shown.rows) and not shown.personal
        assert all(r["district_name"] == "黄岛区" for r in shown.rows)
        assert [r["level"] for r in shown.rows] == sorted(r["level"] for r in shown.rows)
        assert {r["scenario_name"] for r in shown.rows} == {"危险化学品"}
        assert all(r["rule_name"] and r["raised_at"].startswith("2026-03-02") for r in shown.rows)
        with pytest.raises(Problem):
            service.listing(
                reader,
                ind,
                Scope(),
                actor="ndrc",
                department="青岛市发展和改革委员会",
                is_officer=True,
            )


# --- the digital economy ------------------------------------------------------------------------

REVENUE = ("digital_economy_output", "enterprises")


def _months(figure: Figure) -> tuple[date, date]:
    assert figure.start is not None and figure.end is not None
    return figure.start, figure.end


def _revenue(app: FastAPI, start: date, end: date, district: str | None = None) -> float:
    where = f"o.month BETWEEN DATE '{start}' AND DATE '{end}'"
    if district is not None:
        where += f" AND e.district_code = '{district}'"
    (fen,) = _rows(
        app,
        REVENUE,
        "SELECT coalesce(sum(o.revenue_fen), 0) FROM digital_economy_output o "
        f"JOIN enterprises e USING (credit_code) WHERE {where}",
    )[0]
    return float(fen)


def test_revenue_matches_hand_sums(city_app: FastAPI) -> None:
    ((latest,),) = _rows(city_app, REVENUE, "SELECT max(month) FROM digital_economy_output")
    with _reader(city_app) as reader:
        whole = _figure(reader, "plan-digital-revenue")
        one = _figure(reader, "plan-digital-revenue", Scope(district=DISTRICT))
        year = _figure(
            reader, "plan-digital-revenue", Scope(start=date(2025, 1, 1), end=date(2025, 12, 1))
        )
    start, end = _months(whole)
    assert end == latest and start == date(latest.year - 1, latest.month + 1, 1)
    assert _close(whole.value, _revenue(city_app, start, end) * FEN_TO_YI)
    assert _close(one.value, _revenue(city_app, start, end, DISTRICT) * FEN_TO_YI)
    assert _close(year.value, _revenue(city_app, date(2025, 1, 1), date(2025, 12, 1)) * FEN_TO_YI)
    # The months before, for the change.
    before = _revenue(
        city_app, date(start.year - 1, start.month, 1), date(end.year - 1, end.month, 1)
    )
    assert _close(whole.previous, before * FEN_TO_YI)
    # By field: one field by hand.
    (field_fen,) = _rows(
        city_app,
        REVENUE,
        "SELECT sum(revenue_fen) FROM digital_economy_output WHERE field_code = 'software' "
        f"AND month BETWEEN DATE '{start}' AND DATE '{end}'",
    )[0]
    cells = {c.key: c.value for c in whole.by_group}
    assert _close(cells["software"], float(field_fen) * FEN_TO_YI)


def test_revenue_growth_is_the_consoles_year_so_far_growth(city_app: FastAPI) -> None:
    ((latest,),) = _rows(city_app, REVENUE, "SELECT max(month) FROM digital_economy_output")
    start, end = date(latest.year, 1, 1), latest
    scope = Scope(start=start, end=end)
    with _reader(city_app) as reader:
        whole = _figure(reader, "plan-digital-revenue-growth", scope)
        one = _figure(reader, "plan-digital-revenue-growth", Scope(start, end, DISTRICT))
    a_year_before = date(start.year - 1, 1, 1), date(end.year - 1, end.month, 1)
    for figure, district in ((whole, None), (one, DISTRICT)):
        now = _revenue(city_app, start, end, district)
        before = _revenue(city_app, *a_year_before, district)
        assert before > 0 and _close(figure.value, (now / before - 1) * 100), district
    core = DataCore.from_settings(city_app.state.settings)
    console = industry.industry_figures(core, CITY)
    assert console.output_month == latest and console.growth is not None
    assert _close(whole.value, console.growth * 100)
    # The first months of the table have no month a year before: no growth there.
    ((first,),) = _rows(city_app, REVENUE, "SELECT min(month) FROM digital_economy_output")
    with _reader(city_app) as reader:
        early = _figure(reader, "plan-digital-revenue-growth", Scope(first, first))
    assert early.value is None


def test_project_investment_and_its_list(city_app: FastAPI) -> None:
    projects = ("industry_projects",)
    with _reader(city_app) as reader:
        whole = _figure(reader, "plan-project-investment")
        start, end = _months(whole)
        one = _figure(reader, "plan-project-investment", Scope(start, end, DISTRICT))
        settings: Settings = city_app.state.settings
        ind = service.indicator(settings, "plan-project-investment")
        shown = service.listing(
            reader,
            ind,
            Scope(district=DISTRICT),
            actor="industry",
            department=ind.owner,
            is_officer=True,
        )
    after = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    signed = f"signed_date >= DATE '{start}' AND signed_date < DATE '{after}'"
    rows = _rows(
        city_app,
        projects,
        "SELECT district_code, investment_fen, "
        "CASE WHEN producing_date IS NOT NULL THEN 'producing' "
        "WHEN completed_date IS NOT NULL THEN 'completed' "
        "WHEN started_date IS NOT NULL THEN 'started' ELSE 'signed' END "
        f"FROM industry_projects WHERE {signed}",
    )
    assert rows, "the small city signs projects in the last twelve months"
    assert _close(whole.value, sum(float(r[1]) for r in rows) * FEN_TO_YI)
    mine = [r for r in rows if r[0] == DISTRICT]
    assert _close(one.value, sum(float(r[1]) for r in mine) * FEN_TO_YI) or (
        not mine and one.value is None
    )
    by_stage = {c.key: c.value for c in whole.by_group}
    for stage in ("signed", "started", "completed", "producing"):
        total = sum(float(r[1]) for r in rows if r[2] == stage)
        assert (by_stage[stage] is None and total == 0) or _close(
            by_stage[stage], total * FEN_TO_YI
        )
    # The list: the district's projects signed in those months, largest first.
    assert shown.total == len(mine) == len(shown.rows)
    assert [r["investment_fen"] for r in shown.rows] == sorted(
        (int(r[1]) for r in mine), reverse=True
    )
    # Over all time the investment is the console's.
    with _reader(city_app) as reader:
        ever = _figure(reader, "plan-project-investment", Scope(date(2000, 1, 1), end))
    console = industry.industry_figures(DataCore.from_settings(settings), CITY)
    assert _close(ever.value, console.investment_fen * FEN_TO_YI)


def test_enablement_against_the_scaled_target(city_app: FastAPI) -> None:
    tables = ("platform_enablements", "enterprises")
    plan = platforms.enablement_plan(CITY)
    live = dict(
        _rows(
            city_app,
            tables,
            "SELECT district_code, count(*) FROM enterprises WHERE status = '存续' GROUP BY 1",
        )
    )
    firsts = _rows(
        city_app,
        tables,
        "SELECT e.district_code, date_trunc('month', min(p.enabled_date))::DATE "
        "FROM platform_enablements p JOIN enterprises e USING (credit_code) "
        "GROUP BY e.credit_code, 1",
    )
    all_live = sum(live.values())

    def expected(start: date, end: date, district: str | None) -> float:
        new = sum(1 for d, m in firsts if start <= m <= end and district in (None, d))
        target = 0.0
        month = start
        while month <= end:
            year = plan.target(month.year)
            assert year is not None
            scaled = round(year.newly_enabled * all_live / plan.real_enterprises)
            share = 1.0 if district is None else live[district] / all_live
            target += scaled * share / 12
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        return new / target * 100

    with _reader(city_app) as reader:
        whole = _figure(reader, "plan-enablement-progress")
        start, end = _months(whole)
        one = _figure(reader, "plan-enablement-progress", Scope(start, end, DISTRICT))
        full = _figure(
            reader, "plan-enablement-progress", Scope(date(2025, 1, 1), date(2025, 12, 1))
        )
    assert end == date(2026, 10, 1)
    assert _close(whole.value, expected(start, end, None))
    assert _close(one.value, expected(start, end, DISTRICT))
    # A whole year is the console's share of that year's target.
    console = industry.enablement_figures(DataCore.from_settings(city_app.state.settings), CITY)
    (y2025,) = [y for y in console.years if y.year == 2025]
    assert y2025.share_of_target is not None
    assert _close(full.value, y2025.share_of_target * 100)
    assert whole.target is not None and whole.target.value == 100

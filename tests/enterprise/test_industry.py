"""The industry system and the enablement figures: the content checked whole, each figure
against a query written out by hand on the small test city, a new table version computed
afresh, the API and the bureau's console page."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.core.content import DEFAULT_DIR, ContentError
from shuhui.datacore.store import DataCore
from shuhui.enterprise import industry, platforms
from shuhui.enterprise.industry import INDUSTRY_FILE
from shuhui.standard.tables import PLATFORM_ENABLEMENTS
from tests.fixtures import as_user
from tests.test_plain_chinese import page_offences

CITY = DEFAULT_DIR / "qingdao"


# --- the industry system as content ---------------------------------------------------------------


def test_the_system_has_three_layers_ten_fields_six_actions_and_20_tasks() -> None:
    found = industry.system(CITY)
    assert [layer.name_zh for layer in found.layers] == ["优势产业", "新兴产业", "未来产业"]
    assert len(found.fields) == 10 and len(found.actions) == 6 and len(found.tasks) == 20
    names = {f.name_zh for f in found.fields}
    # The fields the plan names, and its layers' examples.
    assert {"特色软件", "工业互联网", "虚拟现实", "数字文创", "量子科技"} <= names
    chips, quantum = found.field("integrated-circuits"), found.field("quantum")
    assert chips is not None and quantum is not None
    assert (chips.layer, quantum.layer) == ("emerging", "future")
    assert found.actions[0].name_zh == "数字技术融合创新行动"
    park = found.park("qingdao-software-park")
    assert park is not None and park.district_code == "370202" and park.district_zh == "市南区"
    assert all(p.fields for p in found.parks)
    # What the plan does not say is marked so.
    assert all("待核实" in t.reference or "方案" in t.reference for t in found.tasks)


def _city_with(tmp_path: Path, change: Any) -> Path:
    folder = tmp_path / "city"
    (folder / "enterprise").mkdir(parents=True)
    doc = yaml.safe_load((CITY / INDUSTRY_FILE).read_text("utf-8"))
    change(doc["items"])
    (folder / INDUSTRY_FILE).write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return folder


def _item(items: list[dict[str, Any]], code: str) -> dict[str, Any]:
    return next(i for i in items if i["code"] == code)


def _drop_parks(items: list[dict[str, Any]]) -> None:
    items[:] = [i for i in items if i.get("type") != "park"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda items: _item(items, "software").update(layer="middle"), "software.layer"),
        (lambda items: _item(items, "task-03").update(action="dreaming"), "task-03.action"),
        (
            lambda items: _item(items, "blue-valley").update(district_code="110101"),
            "blue-valley.district_code",
        ),
        (
            lambda items: _item(items, "blue-valley")["fields"].append("alchemy"),
            "blue-valley.fields[2]",
        ),
        (lambda items: _item(items, "blue-valley").update(fields=[]), "blue-valley.fields"),
        (lambda items: _item(items, "quantum").update(type="wish"), "quantum.type"),
        (_drop_parks, "items"),
    ],
)
def test_a_bad_system_is_refused_by_name(tmp_path: Path, change: Any, where: str) -> None:
    with pytest.raises(ContentError) as refused:
        industry.system(_city_with(tmp_path, change))
    assert refused.value.where == where


# --- figures against queries by hand ------------------------------------------------------------


@pytest.fixture
def core(city_app: FastAPI) -> DataCore:
    industry.forget()
    found: DataCore = city_app.state.datacore
    return found


def _all(core: DataCore, sql: str) -> list[tuple[Any, ...]]:
    con = core.connect()
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_pipeline_figures_are_the_projects(core: DataCore) -> None:
    found = industry.industry_figures(core, CITY)
    ((n, invest, started, completed, producing, newest),) = _all(
        core,
        """SELECT count(*), sum(investment_fen), count(started_date), count(completed_date),
                  count(producing_date),
                  max(greatest(signed_date, started_date, completed_date, producing_date))
           FROM industry_projects""",
    )
    assert n > 0
    assert (found.projects, found.investment_fen) == (n, invest)
    assert [s.projects for s in found.funnel] == [n, started, completed, producing]
    assert [s.projects for s in found.stages] == [
        n - started, started - completed, completed - producing, producing,
    ]  # fmt: skip
    assert sum(s.investment_fen for s in found.stages) == invest
    by_year = _all(
        core,
        """SELECT year(signed_date), count(*),
                  sum(CASE WHEN year(started_date) = year(signed_date) THEN 1 ELSE 0 END)
           FROM industry_projects GROUP BY 1 ORDER BY 1""",
    )
    assert [(s.year, s.signed, s.started_same_year) for s in found.same_year] == [
        (int(y), int(a), int(b)) for y, a, b in by_year
    ]
    assert all(s.share == s.started_same_year / s.signed for s in found.same_year)
    parks = {
        code: (int(a), int(b), int(c), int(d or 0))
        for code, a, b, c, d in _all(
            core,
            """SELECT park_code, count(*), sum(investment_fen), count(producing_date),
                      sum(annual_output_fen) FROM industry_projects GROUP BY 1""",
        )
    }
    for park in found.parks:
        got = (park.projects, park.investment_fen, park.producing, park.annual_output_fen)
        assert got == parks.get(park.code, (0, 0, 0, 0)), park.code
    assert sum(p.projects for p in found.parks) == n
    assert found.as_of is not None and found.as_of >= newest


def test_output_and_growth_by_field_and_layer(core: DataCore) -> None:
    found = industry.industry_figures(core, CITY)
    ((latest,),) = _all(core, "SELECT max(month) FROM digital_economy_output")
    assert found.output_month == latest
    now_from, now_to = date(latest.year, 1, 1), latest
    then_from, then_to = date(latest.year - 1, 1, 1), date(latest.year - 1, latest.month, 1)
    rows = _all(
        core,
        f"""SELECT field_code,
                   sum(revenue_fen) FILTER (WHERE month BETWEEN '{now_from}' AND '{now_to}'),
                   sum(revenue_fen) FILTER (WHERE month BETWEEN '{then_from}' AND '{then_to}')
            FROM digital_economy_output GROUP BY 1""",
    )
    by_hand = {code: (int(now or 0), int(before or 0)) for code, now, before in rows}
    reporting = dict(
        _all(
            core,
            f"SELECT field_code, count(*) FROM digital_economy_output WHERE month = '{latest}'"
            " GROUP BY 1",
        )
    )
    assert {f.code: f.enterprises for f in found.fields if f.enterprises} == reporting
    for f in found.fields:
        now, before = by_hand.get(f.code, (0, 0))
        assert (f.revenue_fen, f.previous_fen) == (now, before), f.code
        assert f.growth == (None if before == 0 else now / before - 1)
    sys = industry.system(CITY)
    for layer in found.layers:
        codes = {f.code for f in sys.fields if f.layer == layer.code}
        assert layer.revenue_fen == sum(by_hand.get(c, (0, 0))[0] for c in codes)
        assert layer.previous_fen == sum(by_hand.get(c, (0, 0))[1] for c in codes)
    assert found.revenue_fen == sum(now for now, _ in by_hand.values())
    years = dict(
        _all(core, "SELECT year(month), sum(revenue_fen) FROM digital_economy_output GROUP BY 1")
    )
    assert found.output_years == tuple(sorted(years))
    assert [sum(layer.yearly_fen[i] for layer in found.layers) for i in range(len(years))] == [
        years[y] for y in found.output_years
    ]


def test_enablement_against_the_scaled_targets(core: DataCore) -> None:
    found = industry.enablement_figures(core, CITY)
    ((live,),) = _all(core, "SELECT count(*) FROM enterprises WHERE status = '存续'")
    assert found.live_enterprises == live and found.real_enterprises == 600_000
    assert found.scale == live / 600_000
    first = "(SELECT credit_code, min(enabled_date) AS d FROM platform_enablements GROUP BY 1)"
    new = dict(_all(core, f"SELECT year(d), count(*) FROM {first} GROUP BY 1"))
    every = dict(
        _all(core, "SELECT year(enabled_date), count(*) FROM platform_enablements GROUP BY 1")
    )
    years = {y.year: y for y in found.years}
    assert set(new) <= set(years)
    for year, y in years.items():
        assert (y.newly_enabled, y.enablements) == (new.get(year, 0), every.get(year, 0))
    target = years[2023]
    assert target.target_real == 20_000 and target.target == round(20_000 * live / 600_000)
    assert target.share_of_target == (
        target.newly_enabled / target.target if target.target else None
    )
    assert years[min(years)].target is None or min(years) >= 2023
    ((newest, firms),) = _all(
        core, "SELECT max(enabled_date), count(DISTINCT credit_code) FROM platform_enablements"
    )
    assert found.as_of == newest and found.year == newest.year
    assert found.enabled_enterprises == firms
    assert found.months == tuple(date(newest.year, m, 1) for m in range(1, newest.month + 1))
    assert sum(found.monthly_new) == new.get(newest.year, 0) == found.cumulative_new[-1]
    per_platform = dict(
        _all(core, "SELECT platform_code, count(*) FROM platform_enablements GROUP BY 1")
    )
    for p in found.platforms:
        assert p.enablements == per_platform.get(p.code, 0) == sum(p.by_year)
    assert len(found.platforms) == 40 and found.figures[0].value == 900_000


def test_a_new_table_version_is_computed_afresh(core: DataCore) -> None:
    before = industry.enablement_figures(core, CITY)
    assert industry.enablement_figures(core, CITY) is before  # the same version: kept
    rows = core.sql("SELECT * FROM platform_enablements")
    kept = rows.filter(pc.not_equal(rows["platform_code"], "cosmoplat"))
    core.load(PLATFORM_ENABLEMENTS, kept, source="test")
    after = industry.enablement_figures(core, CITY)
    assert after is not before
    cosmoplat = next(p for p in after.platforms if p.code == "cosmoplat")
    assert cosmoplat.enablements == 0
    assert sum(p.enablements for p in after.platforms) == kept.num_rows


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def site(city_app: FastAPI) -> FastAPI:
    industry.forget()
    return city_app


def test_the_bureau_reads_the_figures_over_the_api(site: FastAPI) -> None:
    bureau = as_user(site, "industry")
    enablement = bureau.get("/api/v1/enterprise/enablement")
    assert enablement.status_code == 200, enablement.text
    body = enablement.json()
    assert body["real_enterprises"] == 600_000 and len(body["platforms"]) == 40
    assert body["years"] and "target" in body["years"][-1]
    system = bureau.get("/api/v1/enterprise/industry")
    assert system.status_code == 200, system.text
    found = system.json()
    assert len(found["system"]["fields"]) == 10 and len(found["system"]["actions"]) == 6
    assert [s["stage"] for s in found["figures"]["funnel"]] == [
        "signed", "started", "completed", "producing",
    ]  # fmt: skip
    assert as_user(site, "admin").get("/api/v1/enterprise/industry").status_code == 200


def test_only_the_bureau_sees_the_console(site: FastAPI) -> None:
    for username in ("officer", "enterprise", "citizen"):
        client = as_user(site, username)
        assert client.get("/api/v1/enterprise/enablement").status_code == 403, username
        assert client.get("/api/v1/enterprise/industry").status_code == 403, username
        page = client.get("/enterprise/console", headers={"accept": "text/html"})
        assert page.status_code == 403, username
    stranger = TestClient(site, raise_server_exceptions=False)
    assert stranger.get("/api/v1/enterprise/enablement").status_code == 401


def test_the_console_page(site: FastAPI) -> None:
    bureau = as_user(site, "industry")
    page = bureau.get("/enterprise/console")
    assert page.status_code == 200, page.text
    text = page.text
    for part in (
        "enablement-progress", "enablement-years", "platform-enablement", "industry-system",
        "pipeline", "output", "parks", "chart-funnel", "chart-same-year", "chart-fields",
    ):  # fmt: skip
        assert f'id="{part}"' in text, part
    assert "/static/vendor/echarts.min.js" in text
    # Every chart says what it shows, and a table beside it has the figures.
    charts = re.findall(
        r'<div class="console-chart[^"]*" id="([^"]+)" role="img" aria-label="([^"]+)"', text
    )
    assert len(charts) == 8 and all("表" in label for _, label in charts)
    assert text.count("<table") >= 8 and '<th scope="col">' in text
    enabled = industry.enablement_figures(site.state.datacore, CITY)
    assert f'id="target-this-year">{enabled.target_this_year:,}<' in text
    offences, _ = page_offences("/enterprise/console", page)
    assert not offences
    # The bureau's place for the needs stays empty until the needs are passed in.
    assert "needs-by-status" not in text


def test_the_console_without_the_data_says_so(app: FastAPI) -> None:
    industry.forget()
    site = app
    bureau = as_user(site, "industry")
    page = bureau.get("/enterprise/console")
    assert page.status_code == 200
    assert "数据底座中还没有" in page.text and 'id="industry-system"' in page.text
    refused = bureau.get("/api/v1/enterprise/enablement")
    assert refused.status_code == 404
    assert "platform_enablements" in refused.json()["detail"]


def test_the_platforms_are_the_same_catalogue() -> None:
    # The console and the generator read one catalogue: the figures name its platforms.
    assert [p.code for p in platforms.load(CITY).platforms][:2] == ["cosmoplat", "lemondou"]

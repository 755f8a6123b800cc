"""The maps, an indicator's definition, the dashboard and the CSV, through the API and the pages
as the demo leader and others see them: who may look, what a bad scope gets, and that a
figure on the page is the one an independent count gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from shuhui.cli import app as cli
from shuhui.core.db import transaction
from shuhui.core.display import quantity
from shuhui.core.settings import get_settings
from shuhui.datacore.store import DataCore
from shuhui.insight import engine
from shuhui.insight import service as insight_service
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user
from tests.test_plain_chinese import page_offences


def _latest_twelve(con: object) -> tuple[date, date]:
    latest = con.execute("SELECT max(date_trunc('month', established_date)) FROM enterprises")  # type: ignore[attr-defined]
    end = latest.fetchone()[0]
    start = (
        date(end.year - 1, end.month, 1)
        if end.month == 12
        else date(end.year - 1, end.month + 1, 1)
    )
    return start, end


def test_a_leader_sees_the_maps_and_a_figure_agrees_with_a_count(city_app: FastAPI) -> None:
    engine.forget()
    leader = as_user(city_app, "leader")
    index = leader.get("/insight")
    assert index.status_code == 200
    for name in (
        "数据资产一张图",
        "政务服务一张图",
        "风险防控一张图",
        "经办管理一张图",
        "辅助决策一张图",
    ):
        assert name in index.text
    core = DataCore.from_settings(city_app.state.settings)
    con = core.connect(tables=["enterprises"])
    try:
        start, end = _latest_twelve(con)
        (expected,) = con.execute(
            "SELECT count(*) FROM enterprises WHERE established_date >= ? "
            "AND established_date < ? + INTERVAL 1 MONTH",
            [start, end],
        ).fetchone()
        (in_shinan,) = con.execute(
            "SELECT count(*) FROM enterprises WHERE district_code = '370202' "
            "AND established_date >= ? AND established_date < ? + INTERVAL 1 MONTH",
            [start, end],
        ).fetchone()
    finally:
        con.close()
    found = leader.get("/api/v1/insight/indicators/startups")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["figure"]["value"] == expected > 0
    assert body["figure"]["start"] == f"{start:%Y-%m}" and body["figure"]["end"] == f"{end:%Y-%m}"
    assert body["formula"]["kind"] == "sql" and "enterprises" in body["formula"]["tables"]
    assert body["figure"]["sources"]["tables"][0]["table"] == "enterprises"
    shinan = leader.get("/api/v1/insight/indicators/startups", params={"district": "370202"})
    assert shinan.json()["figure"]["value"] == in_shinan
    page = leader.get("/insight/maps/decisions")
    assert page.status_code == 200
    assert "新设企业数" in page.text and quantity(expected) in page.text
    assert "怎么算的？" in page.text and "/insight/indicators/startups" in page.text
    assert not page_offences("/insight/maps/decisions", page)[0]
    how = leader.get("/insight/indicators/startups")
    assert how.status_code == 200
    assert "口径" in how.text and "FROM enterprises" in how.text and "第" in how.text


def test_the_dashboard_and_the_csv(city_app: FastAPI) -> None:
    leader = as_user(city_app, "leader")
    page = leader.get("/dashboard")
    assert page.status_code == 200 and "领导驾驶舱" in page.text and "全屏显示" in page.text
    data = leader.get("/api/v1/insight/dashboard")
    assert data.status_code == 200 and [m["code"] for m in data.json()["maps"]][:1] == [
        "data-assets"
    ]
    csv = leader.get("/api/v1/insight/indicators/pension-coverage/csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8")
    assert text.startswith("\ufeff指标,分组方式,项,数值,单位,说明")
    assert "按区（市）,市南区" in text


def test_who_may_look_and_what_a_bad_scope_gets(city_app: FastAPI) -> None:
    citizen = as_user(city_app, "citizen")
    refused = citizen.get("/api/v1/insight/maps")
    assert refused.status_code == 403
    assert citizen.get("/insight").status_code == 403
    leader = as_user(city_app, "leader")
    for params, field in (
        ({"start": "2026-13"}, "start"),
        ({"district": "999999"}, "district"),
        ({"district": "37020"}, "district"),
        ({"start": "2026-05", "end": "2026-01"}, None),
        ({"start": "2000-01", "end": "2026-01"}, "start"),
        ({"colour": "red"}, "colour"),
    ):
        bad = leader.get("/api/v1/insight/maps/decisions", params=params)
        assert bad.status_code == 422, (params, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
        if field:
            assert field in [e["field"].split(".")[-1] for e in bad.json()["errors"]], bad.json()
    assert leader.get("/api/v1/insight/maps/nowhere").status_code == 404
    assert leader.get("/api/v1/insight/indicators/NOPE").status_code == 422
    page = leader.get("/insight/maps/decisions", params={"start": "2026-13"})
    assert page.status_code == 422
    # A leader sees aggregates only: no list behind any figure.
    rows = leader.get("/api/v1/insight/indicators/startups/rows")
    assert rows.status_code == 403


@pytest.fixture
def shuhui(city_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    settings = city_app.state.settings
    monkeypatch.setenv("SHUHUI_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SHUHUI_DATABASE_URL", settings.sqlalchemy_url)
    monkeypatch.setenv("SHUHUI_DEFAULT_LOCALE", "zh-CN")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_the_command_line_prints_every_indicator_with_its_sources(
    shuhui: CliRunner, city_app: FastAPI
) -> None:
    done = shuhui.invoke(cli, ["insight", "indicators", "--json"])
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    by_code = {r["code"]: r for r in rows}
    assert set(by_code) == set(insight_service.indicators(city_app.state.settings))
    startups = by_code["startups"]
    assert startups["definition"]["zh"] and startups["unit"]["zh"] == "户"
    assert startups["figure"]["value"] > 0
    assert startups["figure"]["sources"]["tables"][0]["table"] == "enterprises"
    table = shuhui.invoke(cli, ["insight", "indicators", "--map", "decisions", "--wide"])
    assert table.exit_code == 0 and "新设企业数" in table.stdout and "enterprises v" in table.stdout
    refused = shuhui.invoke(cli, ["insight", "indicators", "--district", "999999"])
    assert refused.exit_code == 2 and "区（市）" in refused.stdout
    nowhere = shuhui.invoke(cli, ["insight", "indicators", "--map", "nowhere"])
    assert nowhere.exit_code == 2


def test_the_monthly_report_is_a_pdf_of_the_map_s_figures(
    city_app: FastAPI, shuhui: CliRunner, tmp_path: Path
) -> None:
    import pypdfium2 as pdfium

    leader = as_user(city_app, "leader")
    made = leader.get("/api/v1/insight/maps/decisions/report", params={"month": "2026-10"})
    assert made.status_code == 200, made.text
    assert made.headers["content-type"] == "application/pdf"
    assert "attachment" in made.headers["content-disposition"]
    pdf = pdfium.PdfDocument(made.content)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "辅助决策一张图月度分析报告（2026年10月）" in text.replace("\r\n", "")
    assert "新设企业数" in text and "口径" in text
    bad = leader.get("/api/v1/insight/maps/decisions/report", params={"month": "2026-13"})
    assert bad.status_code == 422
    done = shuhui.invoke(
        cli, ["insight", "report", "decisions", "--month", "2026-10", "--out", str(tmp_path)]
    )
    assert done.exit_code == 0, done.output
    (written,) = tmp_path.glob("*.pdf")
    assert written.read_bytes()[:5] == b"%PDF-"


def test_the_list_behind_a_figure_is_its_department_s_and_in_the_ledger(
    catalogued: FastAPI,
) -> None:
    """The data bureau's operator opens the catalogue entries behind the bureau's figure, from
    the map's card; the leader and another department's officer get the aggregates only."""
    operator = as_user(catalogued, "operator")
    card = operator.get("/insight/maps/data-assets")
    assert "/insight/indicators/catalog-resources/rows" in card.text
    page = operator.get("/insight/indicators/catalog-resources/rows")
    assert page.status_code == 200, page.text
    assert "明细" in page.text and "<td>" in page.text
    assert not page_offences("/insight/indicators/catalog-resources/rows", page)[0]
    rows = operator.get("/api/v1/insight/indicators/catalog-resources/rows").json()
    assert rows["total"] > 0 and not rows["personal"]
    for other in ("leader", "officer"):
        seen = as_user(catalogued, other)
        assert "/rows" not in seen.get("/insight/maps/data-assets").text
        refused = seen.get("/insight/indicators/catalog-resources/rows")
        assert refused.status_code == 403 and "汇总" in refused.text
    with transaction(catalogued.state.session_factory) as db:
        views = db.scalars(
            select(LedgerEntry).where(LedgerEntry.action == "insight.list_viewed")
        ).all()
    assert [v.actor for v in views] == ["user:operator", "user:operator"]

"""The data-assets map (数据资产一张图): each indicator computed through the one engine equals a
count made here by hand — from the city's content, the data core and SQL over the operational
database — after the catalog, the data channel and the asset registry were worked through their
services and API; filters by month narrow it; the lists behind the figures are for the owner
department's officers only; a broken indicator file is refused naming the field."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from shuhui.catalog import service as catalog_service
from shuhui.channel.common import month_of
from shuhui.channel.models import Call
from shuhui.core.clock import local_today, utcnow
from shuhui.core.content import ContentError
from shuhui.core.db import transaction
from shuhui.core.errors import Problem
from shuhui.core.facts import month_of as first_of
from shuhui.insight import content, engine, service
from shuhui.insight.engine import Figure, Scope
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from tests.channel.conftest import PURPOSE, grant_for, patient_of, register
from tests.fixtures import add_account, as_user

BUREAU = "青岛市大数据发展管理局"  # the owner of every indicator of this map
UNDERWRITING = "underwriting-health-check"
FIRST_TIER_FEN = 200  # content/qingdao/data-products.yaml: its first 10,000 calls a month


# --- reading figures ----------------------------------------------------------------------------


def figure(app: FastAPI, code: str, scope: Scope | None = None) -> Figure:
    """The indicator's figure as pages and the API get it: through ``service.Reader``."""
    settings = app.state.settings
    with app.state.session_factory() as db:
        found = service.Reader(settings, db, local_today()).outcome(
            service.indicator(settings, code), scope or Scope()
        )
    assert found.problem is None, found.problem
    assert found.figure is not None
    return found.figure


def fresh(app: FastAPI) -> None:
    """Forget kept facts: hourly figures would otherwise stand for an hour after a change."""
    settings = app.state.settings
    engine.forget(engine.place_of(app.state.datacore, settings.city_content))


def groups(f: Figure) -> dict[str, float]:
    return {c.key: c.value for c in f.by_group if c.value is not None}


def months(f: Figure) -> dict[str, float]:
    return {c.key: c.value for c in f.by_month if c.value is not None}


def sql(app: FastAPI, query: str, **params: Any) -> list[Any]:
    with app.state.session_factory() as db:
        return list(db.execute(text(query), params).all())


def department_codes(app: FastAPI) -> dict[str, str]:
    """Departments' credit codes by the short names the data core's tables give."""
    departments = yaml.safe_load(
        (app.state.settings.city_content / "departments.yaml").read_text(encoding="utf-8")
    )
    return {d["short"]: str(d["code"]) for d in departments["items"]}


def governance(app: FastAPI) -> dict[str, dict[str, Any]]:
    """The catalog's governance decisions per table, as the content writes them."""
    resources = yaml.safe_load(
        (app.state.settings.city_content / "catalog-resources.yaml").read_text(encoding="utf-8")
    )
    return {r["code"]: r for r in resources["items"]}


def public_tables(app: FastAPI) -> dict[str, tuple[str, int]]:
    """The data core's published tables (truth aside): (department's credit code, version)."""
    codes = department_codes(app)
    return {
        t.name: (codes[t.department], t.version) for t in app.state.datacore.tables() if not t.truth
    }


def ratios(hits: Counter[str], totals: Counter[str], scale: float = 100) -> dict[str, float]:
    return {g: hits[g] / n * scale for g, n in totals.items()}


def assert_groups(shown: dict[str, float], expected: dict[str, float]) -> None:
    assert shown.keys() == expected.keys()
    for key, value in expected.items():
        assert shown[key] == pytest.approx(value), key


# --- the catalog --------------------------------------------------------------------------------


def test_the_catalogs_figures_are_the_contents_decisions_over_the_data_core(
    catalogued: FastAPI,
) -> None:
    app = catalogued
    tables = public_tables(app)
    decided = governance(app)
    catalogued_tables = {t: d for t, d in decided.items() if t in tables}
    assert catalogued_tables, "the small city has catalogued tables"

    # Entries per theme: every class the catalog holds, counted by the content's category.
    by_theme = Counter(str(d["category"]) for d in catalogued_tables.values())
    shown = figure(app, "catalog-resources")
    assert (
        shown.value
        == len(catalogued_tables)
        == sql(app, "SELECT count(*) FROM catalog_classes")[0][0]
    )
    assert_groups(groups(shown), {k: float(n) for k, n in by_theme.items()})

    # Shared and opened, per providing department, from the content's share and open attributes.
    totals: Counter[str] = Counter()
    shared: Counter[str] = Counter()
    opened: Counter[str] = Counter()
    for table, decision in catalogued_tables.items():
        department = tables[table][0]
        totals[department] += 1
        shared[department] += decision["share"] in ("unconditional", "conditional")
        opened[department] += decision["open"] in ("open", "conditional")
    assert 0 < sum(opened.values()) < sum(totals.values())
    for code, hits in (("catalog-shared", shared), ("catalog-open", opened)):
        shown = figure(app, code)
        assert shown.value == pytest.approx(sum(hits.values()) / sum(totals.values()) * 100)
        assert_groups(groups(shown), ratios(hits, totals))
        assert shown.start is None and shown.by_month == ()  # a stock, as of now

    # Coverage: every table with governance in content is catalogued at its version.
    listed = Counter(tables[t][0] for t in catalogued_tables)
    every = Counter(department for department, _ in tables.values())
    shown = figure(app, "catalog-coverage")
    assert shown.value == pytest.approx(sum(listed.values()) / len(tables) * 100)
    assert_groups(groups(shown), ratios(listed, every))


def test_a_new_version_is_not_catalogued_until_registered(catalogued: FastAPI) -> None:
    app = catalogued
    core = app.state.datacore
    assert figure(app, "catalog-coverage").value == 100.0
    core.load(
        core.spec("enterprise_electricity"),
        core.sql("SELECT * FROM enterprise_electricity LIMIT 100"),
        source="test",
    )
    fresh(app)

    # By hand: a table counts where the catalog's dataset names its current version.
    versions = dict(sql(app, "SELECT table_name, version FROM catalog_datasets"))
    tables = public_tables(app)
    described: Counter[str] = Counter()
    every: Counter[str] = Counter()
    for name, (department, version) in tables.items():
        every[department] += 1
        described[department] += versions.get(name) == version
    power = department_codes(app)["国网青岛供电公司"]
    assert described[power] == 0 < every[power]
    shown = figure(app, "catalog-coverage")
    assert shown.value is not None and shown.value < 100
    assert shown.value == pytest.approx(sum(described.values()) / len(tables) * 100)
    assert_groups(groups(shown), ratios(described, every))
    assert groups(shown)[power] == 0.0

    with transaction(app.state.session_factory) as db:
        catalog_service.sync_datacore(
            db, core, app.state.city_catalog, actor="test", assess_quality=False
        )
    fresh(app)
    assert figure(app, "catalog-coverage").value == 100.0


def test_quality_is_the_mean_score_of_the_assessed_datasets(catalogued: FastAPI) -> None:
    app = catalogued
    core = app.state.datacore
    # The city was catalogued without assessing: nothing to average, nothing shown as 0.
    assert figure(app, "data-quality").value is None
    with transaction(app.state.session_factory) as db:
        for name in ("enterprises", "enterprise_electricity", "residents"):
            dataset = catalog_service.get_dataset(db, name)
            catalog_service.assess_dataset(core, dataset, core.spec(name))
    fresh(app)

    codes = department_codes(app)
    scores: dict[str, list[int]] = {}
    for name, score in sql(
        app, "SELECT name, quality_score FROM catalog_datasets WHERE quality_score IS NOT NULL"
    ):
        scores.setdefault(codes[core.table(name).department], []).append(int(score))
    assert sum(len(s) for s in scores.values()) == 3
    every = [s for found in scores.values() for s in found]
    shown = figure(app, "data-quality")
    assert shown.value is not None and shown.value > 0
    assert shown.value == pytest.approx(sum(every) / len(every))
    assert_groups(groups(shown), {d: sum(s) / len(s) for d, s in scores.items()})


def test_the_catalogs_list_is_for_the_bureaus_officers_and_recorded(catalogued: FastAPI) -> None:
    app = catalogued
    settings = app.state.settings
    ind = service.indicator(settings, "catalog-resources")
    with transaction(app.state.session_factory) as db:
        reader = service.Reader(settings, db, local_today())
        with pytest.raises(Problem) as refused:
            service.listing(
                reader,
                ind,
                Scope(),
                actor="user:health",
                department="青岛市卫生健康委员会",
                is_officer=True,
            )
        assert refused.value.slug == "forbidden"
        found = service.listing(
            reader, ind, Scope(), actor="user:operator", department=BUREAU, is_officer=True
        )
    classes = sql(app, "SELECT count(*) FROM catalog_classes")[0][0]
    assert found.total == len(found.rows) == classes and not found.personal
    by_name = {row["name"]: row for row in found.rows}
    assert by_name["enterprises"]["open"] == "无条件开放"
    assert by_name["residents"]["share"] == "有条件共享"
    assert by_name["residents"]["department"] == "青岛市公安局"
    assert by_name["residents"]["category"] == "人口户籍"
    # The view is in the ledger; the refused one is not.
    views = sql(app, "SELECT count(*) FROM ledger_entries WHERE action = 'insight.list_viewed'")
    assert views[0][0] == 1


# --- the data channel ---------------------------------------------------------------------------


@dataclass
class Channel:
    app: FastAPI
    bureau: TestClient
    patient_id: str
    key: str


@pytest.fixture
def channel(synced_city_app: FastAPI) -> Channel:
    """An insurer granted the underwriting check (the health commission and the bureau
    approving) and a patient who authorised it, as the channel's own tests set it up."""
    app = synced_city_app
    patient_id = patient_of(app)
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="patient",
                display_name="孙投保",
                password=DEMO_PASSWORD,
                roles=[Role.citizen],
                citizen_id=patient_id,
            ),
        )
    bureau = as_user(app, "operator")
    insurer = as_user(app, "insurer")
    register(insurer, "青岛示范人寿保险股份有限公司", "insurer", "finance", bureau)
    grant = grant_for(insurer, as_user(app, "health"), bureau, [UNDERWRITING], PURPOSE)
    issued = insurer.post("/api/v1/channel/keys", json={"grants": [grant], "label": "核保系统"})
    assert issued.status_code == 201, issued.text
    patient = as_user(app, "patient")
    drafted = patient.post(
        "/api/v1/authorisations/cert-uses",
        json={
            "relying_party": {
                "kind": "enterprise",
                "id": "91370200MA3R7B9K1L",
                "name": "青岛示范人寿",
            },
            "certificate_types": ["就诊记录"],
            "purpose": PURPOSE,
            "valid_to": (utcnow() + timedelta(days=30)).isoformat(),
        },
    )
    assert drafted.status_code == 201, drafted.text
    signed = patient.post(
        f"/api/v1/authorisations/{drafted.json()['code']}/sign", json={"password": DEMO_PASSWORD}
    )
    assert signed.json()["status"] == "active", signed.text
    return Channel(app, bureau, patient_id, issued.json()["secret"])


def call(ch: Channel, purpose: str = PURPOSE) -> int:
    answer = TestClient(ch.app).post(
        f"/api/v1/channel/products/{UNDERWRITING}",
        json={"purpose": purpose, "params": {"citizen_id": ch.patient_id, "years": 5}},
        headers={"X-API-Key": ch.key},
    )
    return answer.status_code


def previous_month() -> date:
    return (month_of(utcnow()) - timedelta(days=1)).replace(day=1)


def test_calls_and_revenue_are_the_metered_calls_and_the_bills(channel: Channel) -> None:
    ch = channel
    app = ch.app
    assert [call(ch) for _ in range(3)] == [200] * 3
    assert call(ch, purpose="营销推广") == 403  # refused: neither counted nor billed
    # Time passes: these calls become last month's (made on its 15th), as billing's tests do.
    last, this = previous_month(), month_of(utcnow())
    with transaction(app.state.session_factory) as db:
        db.execute(
            update(Call)
            .where(Call.month == this)
            .values(month=last, at=datetime(last.year, last.month, 15, 4, tzinfo=UTC))
        )
    assert [call(ch) for _ in range(2)] == [200] * 2
    fresh(app)

    answered = {
        date.fromisoformat(str(m)[:10]).isoformat(): n
        for m, n in sql(
            app, "SELECT month, count(*) FROM channel_calls WHERE status = 200 GROUP BY month"
        )
    }
    assert answered == {last.isoformat(): 3, this.isoformat(): 2}
    refused = sql(app, "SELECT count(*) FROM channel_calls WHERE status <> 200")[0][0]
    assert refused == 1

    calls = figure(app, "channel-calls")
    assert calls.value == 5 and calls.end == this
    assert months(calls) == answered
    assert groups(calls) == {UNDERWRITING: 5}
    assert figure(app, "channel-calls", Scope(start=this, end=this)).value == 2
    assert figure(app, "channel-calls", Scope(start=last, end=last)).value == 3
    # The channel keeps no district: a district asked for gets the city's figure, said so.
    in_district = figure(app, "channel-calls", Scope(district="370202"))
    assert in_district.value == 5 and in_district.by_district == ()
    assert in_district.notes == ["该指标只有全市数"]

    # Revenue in yuan: the answered calls at the first tier's price.
    revenue = figure(app, "channel-revenue")
    assert revenue.value == pytest.approx(5 * FIRST_TIER_FEN / 100)
    assert months(revenue) == pytest.approx(
        {m: n * FIRST_TIER_FEN / 100 for m, n in answered.items()}
    )
    assert groups(revenue) == pytest.approx({UNDERWRITING: 10.0})
    assert figure(app, "channel-revenue", Scope(start=last, end=last)).value == pytest.approx(6.0)

    # Issued, last month's bill is the sealed statement, and the figure is its total.
    issued = ch.bureau.post(f"/api/v1/channel/statements/{last:%Y-%m}/issue")
    assert issued.status_code == 200, issued.text
    (total,) = sql(app, "SELECT total_fen FROM channel_statements WHERE month = :m", m=last)
    fresh(app)
    assert figure(app, "channel-revenue", Scope(start=last, end=last)).value == pytest.approx(
        total[0] / 100
    )
    assert total[0] == 3 * FIRST_TIER_FEN
    assert figure(app, "channel-revenue").value == pytest.approx(5 * FIRST_TIER_FEN / 100)


# --- the data-asset registry --------------------------------------------------------------------


def application(dataset: str, title: str) -> dict[str, Any]:
    return {
        "kind": "dataset",
        "dataset": dataset,
        "title": title,
        "holder_name": BUREAU,
        "holder_code": "11370200MA69M3DT40",
        "rights": ["holding", "processing"],
        "sources": "各提供部门按目录汇交的公共数据。",
        "processing": "统一社会信用代码校验、去重、按月汇总。",
        "scenarios": "企业经营状况监测，普惠金融风险评估。",
    }


def test_assets_registered_and_valued(catalogued: FastAPI) -> None:
    app = catalogued
    operator, reviewer = as_user(app, "operator"), as_user(app, "operator2")
    assert figure(app, "assets-registered").value is None  # none registered yet

    codes = []
    for dataset, title in (
        ("enterprise_electricity", "企业月度用电量数据资源"),
        ("enterprises", "企业登记信息数据资源"),
        ("enterprise_tax", "企业纳税信息数据资源"),
    ):
        applied = operator.post("/api/v1/assets", json=application(dataset, title))
        assert applied.status_code == 201, applied.text
        codes.append(applied.json()["code"])
    for code in codes[:2]:
        accepted = reviewer.post(f"/api/v1/assets/{code}/review", json={"decision": "accept"})
        assert accepted.status_code == 200, accepted.text
    # A live figure follows the registry at once: each decision is a ledger entry.
    assert figure(app, "assets-registered").value == 2
    returned = reviewer.post(
        f"/api/v1/assets/{codes[2]}/review", json={"decision": "return", "reason": "请补充来源"}
    )
    assert returned.json()["status"] == "returned"

    # One was registered last year (time passes for it).
    this = first_of(local_today())
    # Thirteen months back: outside the twelve months a figure shows unless asked for.
    back = this.replace(year=this.year - 1) - timedelta(days=20)
    earlier = datetime(back.year, back.month, back.day, 2, tzinfo=UTC)
    with transaction(app.state.session_factory) as db:
        db.execute(
            text("UPDATE catalog_assets SET reviewed_at = :at WHERE code = :code"),
            {"at": earlier, "code": codes[0]},
        )
    fresh(app)
    by_month: Counter[str] = Counter()
    for (reviewed_at,) in sql(
        app, "SELECT reviewed_at FROM catalog_assets WHERE status = 'registered'"
    ):
        at = (
            reviewed_at
            if isinstance(reviewed_at, datetime)
            else datetime.fromisoformat(reviewed_at)
        )
        by_month[first_of(local_today(at)).isoformat()] += 1
    assert by_month == {this.isoformat(): 1, first_of(earlier.date()).isoformat(): 1}

    whole = figure(app, "assets-registered", Scope(start=first_of(earlier.date()), end=this))
    assert whole.value == 2 and groups(whole) == {"dataset": 2}
    assert months(whole) == by_month
    assert figure(app, "assets-registered", Scope(start=this, end=this)).value == 1
    assert figure(app, "assets-registered").value == 1  # the twelve months to this one

    # Valued: the concluded value, in 10,000 yuan.
    assert figure(app, "assets-value").value is None
    valued = operator.post(
        f"/api/v1/assets/{codes[1]}/valuation",
        json={"cost": {"acquisition": "100000", "processing": "50000"}, "useful_life_years": 5},
    )
    assert valued.status_code == 200, valued.text
    (stored,) = sql(app, "SELECT valuation FROM catalog_assets WHERE code = :c", c=codes[1])
    concluded = Decimal(json.loads(stored[0])["reconciled"]["value"])
    assert concluded > 0
    shown = figure(app, "assets-value")
    assert shown.value == pytest.approx(float(concluded) / 10_000)
    assert groups(shown) == pytest.approx({"dataset": float(concluded) / 10_000})

    # The list behind the registrations: this month's one, named as registered.
    settings = app.state.settings
    with transaction(app.state.session_factory) as db:
        listed = service.listing(
            service.Reader(settings, db, local_today()),
            service.indicator(settings, "assets-registered"),
            Scope(start=this, end=this),
            actor="user:operator",
            department=BUREAU,
            is_officer=True,
        )
    (row,) = listed.rows
    number = sql(app, "SELECT certificate_no FROM catalog_assets WHERE code = :c", c=codes[1])
    assert listed.total == 1 and row["code"] == codes[1]
    assert row["certificate_no"] == number[0][0] and row["holder"] == BUREAU
    assert row["value"] == f"{concluded:,.2f}"


# --- the content ------------------------------------------------------------------------------


def test_every_indicator_names_a_measure_and_the_bureau(catalogued: FastAPI) -> None:
    settings = catalogued.state.settings
    mine = service.of_map(settings, "data-assets", local_today())
    assert len(mine) == 9
    for ind in mine:
        assert service.measure_of(ind) is not None
        assert ind.owner == BUREAU


def test_an_indicator_without_an_owner_is_refused_naming_the_field(tmp_path: Path) -> None:
    shipped = Path(__file__).parents[2] / "content" / "qingdao" / "insight"
    folder = tmp_path / "qingdao" / "insight"
    (folder / "indicators").mkdir(parents=True)
    shutil.copy(shipped / "maps.yaml", folder / "maps.yaml")
    raw = (shipped / "indicators" / "data-assets.yaml").read_text(encoding="utf-8")
    owner = "    owner: 青岛市大数据发展管理局\n"
    assert raw.count(owner) == 9
    broken = raw.replace(owner, "", 1)
    (folder / "indicators" / "data-assets.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(ContentError) as refused:
        content.indicators(tmp_path, "qingdao")
    assert refused.value.where == "catalog-coverage.owner"

"""Enterprise data custody (数据托管) through the API, end to end: an enterprise hosts a CSV of
its own data under its own name, it is listed in the catalog as enterprise data and offered
through the data channel; a bank applies, the enterprise and then the data bureau approve, the
bank calls it with its key, the enterprise sees the calls on its statement, withdraws the data,
and the next call is refused — every step in the ledger. A file with a bad row is refused with
the row and column named, and nothing is published."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.catalog import service as catalog_service
from shuhui.channel.common import month_of
from shuhui.channel.models import Call, HostedProduct
from shuhui.core.clock import utcnow
from shuhui.datacore.errors import QueryRefused, TableNotFound
from shuhui.enterprise.models import HostedData
from shuhui.trust.ledger.models import LedgerEntry
from tests.channel.conftest import register
from tests.fixtures import as_user

ENTERPRISE = "91370202MA3C4D5E6T"  # the demo enterprise's credit code
BANK = "9137021460181590X0"
TABLE = "hosted_91370202ma3c4d5e6t_orders"
PURPOSE = "小微企业信贷审批中核实订单流水"
API = "/api/v1/enterprise/custody"
COLUMNS: list[dict[str, Any]] = [
    {"name": "month", "title": "所属月份", "type": "date", "required": True},
    {"name": "region", "title": "区域代码", "type": "string", "required": True},
    {"name": "orders", "title": "订单数", "type": "int64"},
    {"name": "amount", "title": "金额（元）", "type": "float64"},
    {"name": "contact", "title": "联系人", "type": "string", "personal": True},
]
REGIONS = ("370202", "370203", "370211")


def csv_text(rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header or [c["name"] for c in COLUMNS])
    writer.writerows(rows)
    return out.getvalue()


def good_rows(n: int = 30) -> list[list[Any]]:
    return [
        [
            f"2026-{1 + i % 12:02d}-01",
            REGIONS[i % 3],
            10 + i,
            f"{1000 + i * 12.5:.2f}",
            f"联系人{i:03d}号",
        ]
        for i in range(n)
    ]


def hosting(csv_body: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "orders",
        "title": "订单月度汇总",
        "description": "本企业各区域每月的订单数与金额，由企业销售系统导出。",
        "columns": COLUMNS,
        "keys": ["region"],
        "category": "11",
        "zone": "finance",
        "terms": "conditional",
        "condition": "仅限金融机构信贷审批使用",
        "price": "0.50",
        "csv": csv_body,
    }
    return body | changes


@pytest.fixture
def custody(catalogued: FastAPI) -> FastAPI:
    return catalogued


def ledger_entries(app: FastAPI, *actions: str) -> list[LedgerEntry]:
    with app.state.session_factory() as db:
        query = select(LedgerEntry).order_by(LedgerEntry.seq)
        if actions:
            query = query.where(LedgerEntry.action.in_(actions))
        return list(db.scalars(query))


def detail(entry: LedgerEntry) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(bytes(entry.leaf))["detail"] or {}
    return found


def call(
    app: FastAPI, key: str, params: dict[str, Any] | None = None, purpose: str = PURPOSE
) -> Any:
    return TestClient(app).post(
        f"/api/v1/channel/products/{TABLE}",
        json={"purpose": purpose, "params": params or {}},
        headers={"X-API-Key": key},
    )


# On PostgreSQL too: the whole flow, and a refused file that must leave nothing behind.
@pytest.mark.both_backends
def test_an_enterprise_hosts_its_data_a_bank_uses_it_and_it_is_withdrawn(custody: FastAPI) -> None:
    app = custody
    enterprise = as_user(app, "enterprise")
    bureau = as_user(app, "operator")
    bank = as_user(app, "bank")
    before = len(ledger_entries(app))

    # 1. The enterprise hosts its file: loaded under its own name, listed, offered.
    hosted = enterprise.post(f"{API}/datasets", json=hosting(csv_text(good_rows())))
    assert hosted.status_code == 201, hosted.text
    h = hosted.json()
    assert h["table"] == TABLE and h["state"] == "hosted" and h["rows"] == 30
    assert h["product"]["endpoint"] == f"/api/v1/channel/products/{TABLE}"
    assert enterprise.get(f"{API}/datasets").json()[0]["code"] == h["code"]

    # Never mixed with the city's tables: no listing, query or path of the data core sees it.
    core = app.state.datacore
    assert TABLE not in {t.name for t in core.tables()}
    with pytest.raises(TableNotFound):
        core.table(TABLE)
    assert core.hosted_table(TABLE).rows == 30
    folder = core.hosted_store.table_dir(TABLE)
    for query in (
        f'SELECT * FROM "{TABLE}"',
        f"SELECT * FROM read_parquet('{folder}/*/*.parquet')",
    ):
        with pytest.raises(QueryRefused):
            core.sql(query)
    con = core.connect(tables=(), hosted=[TABLE])
    try:
        assert con.execute(f'SELECT count(*) FROM hosted."{TABLE}"').fetchone() == (30,)
    finally:
        con.close()

    # Listed in the catalog as the enterprise's data, on its terms, reachable by the channel.
    with app.state.session_factory() as db:
        dataset = catalog_service.get_dataset(db, TABLE)
        cls = dataset.resource_class
        assert cls.organisation.code == ENTERPRISE and cls.open_level == "conditional"
        assert dataset.table_name is None  # the catalog never reads it itself
        assert [d.url for d in dataset.distributions] == [f"/api/v1/channel/products/{TABLE}"]
        assert {i.name for i in cls.items if i.personal} == {"contact"}
    assert "订单月度汇总" in TestClient(app).get(f"/catalog/datasets/{TABLE}").text
    # …and in the channel's products, provided by the enterprise.
    products = {p["code"]: p for p in bank.get("/api/v1/channel/products").json()}
    assert products[TABLE]["kind"] == "hosted"
    assert products[TABLE]["provider_code"] == ENTERPRISE
    assert products[TABLE]["pricing"]["tiers"] == [{"up_to": None, "fen": 50}]

    # 2. The bank applies through the channel; the enterprise reviews first, then the bureau.
    register(bank, "青岛示范银行", "bank", "finance", bureau)
    applied = bank.post(
        "/api/v1/channel/applications",
        json={
            "products": [TABLE],
            "purpose": PURPOSE,
            "legal_basis": "《中华人民共和国商业银行法》第三十五条；借款人书面同意",
            "usage": "industry",
            "days": 90,
        },
    )
    assert applied.status_code == 201, applied.text
    code = applied.json()["code"]
    assert applied.json()["status"] == "department_review"
    early = bureau.post(f"/api/v1/channel/applications/{code}/review", json={"decision": "approve"})
    assert early.status_code == 403  # the provider has not agreed yet
    waiting = enterprise.get(f"{API}/applications").json()
    assert [(a["code"], a["my_step"]) for a in waiting] == [(code, "provider")]
    # A department's officer does not see an application for an enterprise's data.
    health = as_user(app, "health")
    assert health.get(f"/api/v1/channel/applications/{code}").status_code == 404
    agreed = enterprise.post(f"{API}/applications/{code}/review", json={"decision": "approve"})
    assert agreed.status_code == 200, agreed.text
    assert agreed.json()["status"] == "bureau_review"
    granted = bureau.post(
        f"/api/v1/channel/applications/{code}/review", json={"decision": "approve"}
    )
    assert granted.status_code == 200 and granted.json()["status"] == "approved"
    grant = next(g["code"] for g in bank.get("/api/v1/channel/grants").json())
    issued = bank.post("/api/v1/channel/keys", json={"grants": [grant], "label": "信贷系统"})
    assert issued.status_code == 201, issued.text
    key = issued.json()["secret"]

    # 3. The bank calls it: rows of the enterprise's table, filtered by a key, personal masked.
    one_region = call(app, key, {"region": "370203"})
    assert one_region.status_code == 200, one_region.text
    result = one_region.json()["result"]
    assert result["count"] == 10 and {r["region"] for r in result["rows"]} == {"370203"}
    contacts = {r["contact"] for r in result["rows"]}
    assert all("*" in c and not c.startswith("联系人0") for c in contacts), contacts
    page = call(app, key, {"limit": 5, "offset": 28})
    assert page.status_code == 200 and page.json()["result"]["count"] == 2
    assert call(app, key, {"contact": "联系人001号"}).status_code == 422  # not a key

    # 4. The enterprise sees the calls on its statement, per consumer, in 元.
    month = month_of(utcnow()).strftime("%Y-%m")
    statement = enterprise.get(f"{API}/statements/{month}").json()
    assert [(x["consumer"], x["calls"], x["fen"]) for x in statement["lines"]] == [(BANK, 2, 100)]
    assert statement["total_yuan"] == "1.00" and statement["refused_calls"] == 1
    # The bank's own statement says the same.
    assert bank.get(f"/api/v1/channel/statements/{month}").json()["total_fen"] == 100

    # 5. The enterprise withdraws it: the next call is refused, metered, in the ledger.
    withdrawn = enterprise.post(
        f"{API}/datasets/{h['code']}/withdraw", json={"reason": "销售系统更换，数据停止更新"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["state"] == "withdrawn"
    refused = call(app, key, {"region": "370203"})
    assert refused.status_code == 403
    assert refused.json()["reason"] == "product-withdrawn"
    assert "撤回" in refused.json()["reason_zh"] and "撤回" in refused.json()["detail"]
    with app.state.session_factory() as db:
        reasons = list(db.scalars(select(Call.reason).where(Call.product == TABLE)))
        assert reasons.count("product-withdrawn") == 1
        dataset = catalog_service.get_dataset(db, TABLE)
        assert dataset.resource_class.open_level == "closed" and not dataset.distributions
    assert TABLE not in {p["code"] for p in bank.get("/api/v1/channel/products").json()}
    again = bank.post(
        "/api/v1/channel/applications",
        json={
            "products": [TABLE],
            "purpose": PURPOSE,
            "legal_basis": "同上",
            "usage": "industry",
            "days": 30,
        },
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "products"
    # Calls made before the withdrawal are still billed and shown.
    assert enterprise.get(f"{API}/statements/{month}").json()["total_fen"] == 100

    # 6. Every step is in the ledger, in order; the enterprise is the subject of each.
    steps = [
        (e.action, e.subject, detail(e))
        for e in ledger_entries(app)[before:]
        if e.action.startswith(("data.", "enterprise.", "catalog.hosted", "channel.hosted"))
        or (e.action.startswith("channel.") and TABLE in json.dumps(detail(e)))
        or e.action in ("channel.application.approve", "channel.grant.issued")
    ]
    actions = [a for a, _, _ in steps]
    expected = [
        "data.loaded",
        "enterprise.custody_uploaded",
        "catalog.hosted_registered",
        "channel.hosted.offered",
        "channel.application.submitted",
        "channel.application.approve",
        "channel.grant.issued",
        "channel.application.approve",
        "channel.answered",
        "channel.answered",
        "channel.refused",  # a parameter that is not a key
        "channel.hosted.withdrawn",
        "catalog.hosted_closed",
        "enterprise.custody_withdrawn",
        "channel.refused",  # withdrawn
    ]
    assert actions == expected, actions
    provider_step = steps[5][2]
    assert provider_step["step"] == "provider"
    answered = [s for s in steps if s[0] == "channel.answered"]
    assert all(subject == ENTERPRISE and d["consumer"] == BANK for _, subject, d in answered)
    assert steps[-1][1] == ENTERPRISE and steps[-1][2]["reason"] == "product-withdrawn"
    assert steps[0][1] == f"table:{TABLE}"


def bad_file_left_nothing(app: FastAPI) -> None:
    core = app.state.datacore
    assert core.hosted_store.read_catalog() == {}
    folder = core.hosted_store.table_dir(TABLE)
    assert not folder.exists() or not [p for p in folder.iterdir() if not p.name.endswith(".lock")]
    with app.state.session_factory() as db:
        assert catalog_service.find_dataset(db, TABLE) is None
        assert db.scalar(select(func.count()).select_from(HostedProduct)) == 0
        assert db.scalar(select(func.count()).select_from(HostedData)) == 0
    custody_actions = (
        "data.loaded",
        "enterprise.custody_uploaded",
        "catalog.hosted_registered",
        "channel.hosted.offered",
    )
    assert [
        e
        for e in ledger_entries(app, *custody_actions)
        if TABLE in (e.subject or "") + json.dumps(detail(e))
    ] == []


@pytest.mark.both_backends
def test_a_file_with_a_bad_row_is_refused_naming_row_and_column_and_nothing_is_published(
    custody: FastAPI,
) -> None:
    app = custody
    enterprise = as_user(app, "enterprise")
    with app.state.session_factory() as db:
        revision = catalog_service.revision(db)
    rows = good_rows()
    rows[2][3] = "12.5元"  # the file's row 4 (the header is row 1)
    refused = enterprise.post(f"{API}/datasets", json=hosting(csv_text(rows)))
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert body["errors"][0]["field"] == "csv.4.amount"
    reason = body["errors"][0]["reason"]
    assert "第 4 行" in reason and "金额（元）" in reason and "12.5元" in reason
    assert "没有发布任何数据" in body["detail"] and "第 4 行" in body["detail"]
    assert body["rows"] == [{"row": 4, "column": "amount", "reason": reason}]
    bad_file_left_nothing(app)
    with app.state.session_factory() as db:
        assert catalog_service.revision(db) == revision

    # A required value left out, a row with a value too many, a column the file lacks.
    rows = good_rows()
    rows[5][1] = ""
    rows[7].append("多余")
    refused = enterprise.post(f"{API}/datasets", json=hosting(csv_text(rows)))
    assert refused.status_code == 422
    fields = [e["field"] for e in refused.json()["errors"]]
    assert fields == ["csv.9"], fields  # a ragged row is found while reading, before the rest
    assert "这一行有 6 个值，表头有 5 列" in refused.json()["errors"][0]["reason"]
    rows = good_rows()
    rows[5][1] = ""
    refused = enterprise.post(f"{API}/datasets", json=hosting(csv_text(rows)))
    assert [e["field"] for e in refused.json()["errors"]] == ["csv.7.region"]
    assert "必填" in refused.json()["errors"][0]["reason"]
    header = [c["name"] for c in COLUMNS if c["name"] != "amount"]
    short = [r[:3] + r[4:] for r in good_rows()]
    refused = enterprise.post(f"{API}/datasets", json=hosting(csv_text(short, header)))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "csv.amount"
    assert "缺少这一列" in refused.json()["errors"][0]["reason"]
    bad_file_left_nothing(app)


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"keys": ["contact"]}, 422, "keys"),  # personal: no lookup of a person
        ({"keys": ["amount"]}, 422, "keys"),  # a number is no key
        ({"zone": "nowhere"}, 422, "zone"),
        ({"category": "99"}, 422, "category"),
        ({"terms": "conditional", "condition": ""}, 422, "condition"),
        ({"price": "-1"}, 422, "price"),
        ({"price": "2000000"}, 422, "price"),
        ({"slug": "Orders"}, 422, "slug"),
        ({"columns": [*COLUMNS, COLUMNS[0]]}, 422, "columns"),
        ({"csv": "\ufeff"}, 422, "csv"),
    ],
)
def test_what_cannot_be_hosted_is_refused_naming_the_field(
    custody: FastAPI, changes: dict[str, Any], status: int, field: str
) -> None:
    enterprise = as_user(custody, "enterprise")
    refused = enterprise.post(f"{API}/datasets", json=hosting(csv_text(good_rows(3)), **changes))
    assert refused.status_code == status, refused.text
    assert refused.json()["errors"][0]["field"].split(".")[0] == field
    bad_file_left_nothing(custody)


def test_a_name_is_the_enterprises_once_and_others_see_nothing(custody: FastAPI) -> None:
    app = custody
    enterprise = as_user(app, "enterprise")
    hosted = enterprise.post(f"{API}/datasets", json=hosting(csv_text(good_rows(3))))
    assert hosted.status_code == 201, hosted.text
    twice = enterprise.post(f"{API}/datasets", json=hosting(csv_text(good_rows(3))))
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "slug"
    assert app.state.datacore.hosted_table(TABLE).version == 1  # the second was not loaded
    code = hosted.json()["code"]
    # A consumer is no enterprise; the data is the enterprise's alone.
    bank = as_user(app, "bank")
    assert bank.get(f"{API}/datasets").status_code == 403
    assert bank.post(f"{API}/datasets/{code}/withdraw", json={"reason": "x"}).status_code == 403


def test_open_terms_need_no_review_by_the_enterprise(custody: FastAPI) -> None:
    app = custody
    enterprise = as_user(app, "enterprise")
    bureau = as_user(app, "operator")
    bank = as_user(app, "bank")
    hosted = enterprise.post(
        f"{API}/datasets", json=hosting(csv_text(good_rows(3)), terms="open", condition="")
    )
    assert hosted.status_code == 201, hosted.text
    with app.state.session_factory() as db:
        assert catalog_service.get_dataset(db, TABLE).resource_class.open_level == "open"
    register(bank, "青岛示范银行", "bank", "finance", bureau)
    applied = bank.post(
        "/api/v1/channel/applications",
        json={
            "products": [TABLE],
            "purpose": PURPOSE,
            "legal_basis": "借款人书面同意",
            "usage": "industry",
            "days": 30,
        },
    )
    assert applied.status_code == 201 and applied.json()["status"] == "bureau_review"
    assert enterprise.get(f"{API}/applications").json()[0]["my_step"] is None
    refused = enterprise.post(
        f"{API}/applications/{applied.json()['code']}/review", json={"decision": "approve"}
    )
    assert refused.status_code == 403


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_the_catalog_describes_hosted_data_in_dcat_and_ckan_open_then_closed(
    custody: FastAPI,
) -> None:
    from tests.catalog.test_dcat import SHAPES, assert_conforms, get_graph

    if not SHAPES.is_file():
        pytest.skip(f"the DCAT-AP 3.0.0 SHACL shapes are not at {SHAPES}")
    from rdflib import Graph

    shapes = Graph().parse(SHAPES, format="turtle")
    app = custody
    enterprise = as_user(app, "enterprise")
    hosted = enterprise.post(
        f"{API}/datasets", json=hosting(csv_text(good_rows(3)), terms="open", condition="")
    )
    assert hosted.status_code == 201, hosted.text
    web = TestClient(app)
    assert_conforms(get_graph(web, f"/catalog/datasets/{TABLE}.ttl"), shapes)
    # Found by the catalog's search, as enterprise data.
    assert f"/catalog/datasets/{TABLE}" in web.get("/catalog?q=订单月度汇总").text
    found = web.get("/api/3/action/package_search?q=数据托管").json()["result"]
    assert TABLE in [p["name"] for p in found["results"]]
    package = web.get(f"/api/3/action/package_show?id={TABLE}").json()["result"]
    assert package["organization"]["title"] == "青岛海湾示范科技有限公司"
    # Open terms, yet no download and no datastore: its rows leave only through the channel.
    assert [r["format"] for r in package["resources"]] == ["API"]
    assert web.get(f"/catalog/datasets/{TABLE}/download.csv").status_code == 403
    code = hosted.json()["code"]
    enterprise.post(f"{API}/datasets/{code}/withdraw", json={"reason": "停止提供"})
    assert_conforms(get_graph(web, f"/catalog/datasets/{TABLE}.ttl"), shapes)
    closed = web.get(f"/api/3/action/package_show?id={TABLE}").json()["result"]
    extras = {e["key"]: e["value"] for e in closed["extras"]}
    assert closed["resources"] == [] and extras["open_level"] == "closed"
    assert web.get(f"/catalog/datasets/{TABLE}").status_code == 200


def test_the_enterprise_counts_what_waits_for_its_review(custody: FastAPI) -> None:
    from shuhui.enterprise import custody as service

    app = custody
    enterprise = as_user(app, "enterprise")
    bank = as_user(app, "bank")
    assert (
        enterprise.post(f"{API}/datasets", json=hosting(csv_text(good_rows(3)))).status_code == 201
    )
    register(bank, "青岛示范银行", "bank", "finance", as_user(app, "operator"))
    city = app.state.city_channel  # as the app holds it: the count reads the hosted products
    with app.state.session_factory() as db:
        assert service.pending_reviews(db, city, ENTERPRISE) == 0
    bank.post(
        "/api/v1/channel/applications",
        json={
            "products": [TABLE],
            "purpose": PURPOSE,
            "legal_basis": "借款人书面同意",
            "usage": "industry",
            "days": 30,
        },
    )
    with app.state.session_factory() as db:
        assert service.pending_reviews(db, city, ENTERPRISE) == 1
        assert service.pending_reviews(db, city, BANK) == 0

"""The data-asset registry end to end: apply, return, resubmit, accept with a sealed certificate
that verifies, value with workings; refusals leave nothing changed."""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import csrf_from, login

HOLDER = "11370200MA69M3DT40"  # 青岛市大数据发展管理局 (content/qingdao/departments.yaml)


def as_user(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    login(client, username)
    return client


def application(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "dataset",
        "dataset": "enterprise_electricity",
        "title": "企业月度用电量数据资源",
        "holder_name": "青岛市大数据发展管理局",
        "holder_code": HOLDER,
        "rights": ["holding", "processing"],
        "sources": "国网青岛供电公司按月汇交的企业用电量。",
        "processing": "统一社会信用代码校验、去重、按月汇总。",
        "scenarios": "企业经营状况监测，普惠金融风险评估。",
        **overrides,
    }


def test_apply_return_resubmit_accept_and_verify_the_certificate(catalogued: FastAPI) -> None:
    operator = as_user(catalogued, "operator")
    applied = operator.post("/api/v1/assets", json=application())
    assert applied.status_code == 201, applied.text
    code = applied.json()["code"]
    assert applied.json()["status"] == "submitted"

    # A return without a reason is refused; with one, the applicant gets it back.
    assert (
        operator.post(f"/api/v1/assets/{code}/review", json={"decision": "return"}).json()["field"]
        == "reason"
    )
    returned = operator.post(
        f"/api/v1/assets/{code}/review",
        json={"decision": "return", "reason": "请补充加工过程中的脱敏措施"},
    )
    assert returned.json()["status"] == "returned"
    resubmitted = operator.put(
        f"/api/v1/assets/{code}",
        json=application(processing="统一社会信用代码校验、去重、按月汇总；不含个人信息。"),
    )
    assert resubmitted.json()["status"] == "submitted"

    accepted = operator.post(f"/api/v1/assets/{code}/review", json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "registered"
    assert re.fullmatch(r"QDSJZC-\d{4}-\d{6}", body["certificate_no"])
    # Reviewing twice is a conflict, not a second certificate.
    again = operator.post(f"/api/v1/assets/{code}/review", json={"decision": "accept"})
    assert again.status_code == 409

    anyone = TestClient(catalogued)
    document = anyone.get(body["certificate_url"]).content
    envelope = anyone.get(body["seal_url"]).json()
    assert json.loads(document)["certificate_no"] == body["certificate_no"]
    assert json.loads(document)["holder"]["credit_code"] == HOLDER

    def verify(doc: bytes) -> Any:
        return anyone.post(
            "/api/v1/seals/verify",
            json={"document_base64": base64.b64encode(doc).decode(), "envelope": envelope},
        ).json()

    verdict = verify(document)
    assert verdict["valid"] is True, verdict
    assert verdict["seal"]["name"] == "青岛市大数据发展管理局数据资产登记专用章"
    assert verify(document.replace(b"holding", b"hoarding"))["valid"] is False


def test_valuation_by_three_methods_shows_the_workings(catalogued: FastAPI) -> None:
    operator = as_user(catalogued, "operator")
    code = operator.post("/api/v1/assets", json=application()).json()["code"]
    too_early = operator.post(f"/api/v1/assets/{code}/valuation", json={"incomes": ["1"]})
    assert too_early.status_code == 409
    operator.post(f"/api/v1/assets/{code}/review", json={"decision": "accept"})
    valued = operator.post(
        f"/api/v1/assets/{code}/valuation",
        json={
            "cost": {
                "acquisition": "100000",
                "processing": "50000",
                "quality": "20000",
                "security": "10000",
                "registration": "5000",
            },
            "incomes": ["60000", "60000", "60000"],
            "discount_rate": "0.10",
            "comparables": [{"name": "同类数据交易A", "price": "200000", "quality": "0.9"}],
            "useful_life_years": 5,
        },
    )
    assert valued.status_code == 200, valued.text
    out = valued.json()
    assert Decimal(out["cost"]["total_cost"]) == Decimal("185000.00")
    # 60000/1.1 + 60000/1.21 + 60000/1.331, each rounded to the fen
    assert Decimal(out["income"]["value"]) == Decimal("54545.45") + Decimal("49586.78") + Decimal(
        "45078.89"
    )
    assert Decimal(out["market"]["value"]) == Decimal("180000.00")
    assert out["cost"]["workings"] and out["income"]["workings"]
    assert out["accounting"]["classification"] == "intangible_asset"
    shown = operator.get(f"/api/v1/assets/{code}").json()["valuation"]
    assert shown["reconciled"]["value"] == out["reconciled"]["value"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"holder_code": "11370200MA69M3DT41"}, "holder_code"),
        ({"dataset": "no_such_table"}, "dataset"),
        ({"sources": "   "}, "sources"),
    ],
)
def test_a_bad_application_is_refused_and_stores_nothing(
    catalogued: FastAPI, overrides: dict[str, Any], field: str
) -> None:
    operator = as_user(catalogued, "operator")
    response = operator.post("/api/v1/assets", json=application(**overrides))
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert operator.get("/api/v1/assets").json() == []


def test_only_operators_review_and_citizens_stay_out(catalogued: FastAPI) -> None:
    officer = as_user(catalogued, "officer")
    code = officer.post("/api/v1/assets", json=application()).json()["code"]
    assert (
        officer.post(f"/api/v1/assets/{code}/review", json={"decision": "accept"}).status_code
        == 403
    )
    assert as_user(catalogued, "citizen").get("/api/v1/assets").status_code == 403


def test_an_operator_registers_and_values_a_dataset_in_the_pages(catalogued: FastAPI) -> None:
    client = TestClient(catalogued, raise_server_exceptions=False)
    login(client, "operator")
    client.headers.pop("x-csrf-token")
    token = csrf_from(client, "/catalog/assets/new")
    form = {**application(), "csrf_token": token}
    form.pop("rights")
    created = client.post(
        "/catalog/assets/new",
        data={**form, "rights": ["holding", "operation"]},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page_url = created.headers["location"]
    page = client.get(page_url).text
    assert 'data-status="submitted"' in page and 'id="review-form"' in page
    code = page_url.rsplit("/", 1)[1]
    reviewed = client.post(
        f"/catalog/assets/{code}/review",
        data={"decision": "accept", "reason": "", "csrf_token": token},
    )
    assert 'data-status="registered"' in reviewed.text and 'id="certificate"' in reviewed.text
    valued = client.post(
        f"/catalog/assets/{code}/valuation",
        data={
            "acquisition": "80000",
            "processing": "20000",
            "quality": "0",
            "security": "0",
            "registration": "0",
            "incomes": "30000, 30000",
            "discount_rate": "0.08",
            "intended_use": "held_for_sale",
            "benefits_probable": "on",
            "csrf_token": token,
        },
    )
    assert 'id="valuation-result"' in valued.text
    assert "成本法" in valued.text and "收益法" in valued.text and "存货" in valued.text
    bad = client.post(
        f"/catalog/assets/{code}/valuation", data={"discount_rate": "x", "csrf_token": token}
    )
    assert 'id="notice"' in bad.text

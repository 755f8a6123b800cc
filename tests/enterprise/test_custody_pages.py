"""Data custody through its pages, as a person uses them: the form hosts a file (one more
column row on request, a bad row shown with its row and column, nothing published), the
enterprise reviews a bank's application (a rejection asked first), sees what its data earned,
and withdraws it — asked first, saying how many institutions lose access."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.channel.conftest import register
from tests.enterprise.test_custody import (
    COLUMNS,
    PURPOSE,
    TABLE,
    bad_file_left_nothing,
    call,
    csv_text,
    good_rows,
)
from tests.fixtures import as_user

HTML = {"accept": "text/html"}


@pytest.fixture
def custody(catalogued: FastAPI) -> FastAPI:
    return catalogued


def fields(client: TestClient, **changes: str) -> dict[str, str]:
    out = {
        "csrf_token": client.headers["x-csrf-token"],
        "slug": "orders",
        "title": "订单月度汇总",
        "description": "本企业各区域每月的订单数与金额。",
        "category": "11",
        "zone": "finance",
        "terms": "conditional",
        "condition": "仅限金融机构信贷审批使用",
        "price": "0.50",
        "columns.1.key": "on",
    }
    for i, c in enumerate(COLUMNS):
        out[f"columns.{i}.name"] = c["name"]
        out[f"columns.{i}.title"] = c["title"]
        out[f"columns.{i}.type"] = c["type"]
        if c.get("personal"):
            out[f"columns.{i}.personal"] = "on"
        if c.get("required"):
            out[f"columns.{i}.required"] = "on"
    return out | changes


def upload(client: TestClient, text: str, **changes: str) -> Response:
    return client.post(
        "/enterprise/data",
        data=fields(client, **changes),
        files={"file": ("orders.csv", text.encode("utf-8"), "text/csv")},
        headers=HTML,
        follow_redirects=False,
    )


def post(client: TestClient, path: str, data: dict[str, Any]) -> Response:
    token = {"csrf_token": client.headers["x-csrf-token"]}
    return client.post(path, data=token | data, headers=HTML, follow_redirects=False)


def test_an_enterprise_hosts_reviews_earns_and_withdraws_through_its_pages(
    custody: FastAPI,
) -> None:
    app = custody
    enterprise = as_user(app, "enterprise")
    first = enterprise.get("/enterprise/data", headers=HTML)
    assert first.status_code == 200
    assert 'id="no-hostings"' in first.text and "托管新数据" in first.text
    english = as_user(app, "enterprise").get("/enterprise/data?lang=en", headers=HTML)
    assert "Data custody" in english.text and "Host a new file" in english.text

    # One more column row, the typed values kept (the file is chosen again).
    more = upload(enterprise, "", action="more")
    assert more.status_code == 200
    assert 'data-column="5"' in more.text and 'data-column="6"' not in more.text
    assert 'value="contact"' in more.text and "文件需要重新选择" in more.text

    # A bad row: the page names its row and column; nothing is published.
    rows = good_rows()
    rows[2][3] = "12.5元"
    refused = upload(enterprise, csv_text(rows))
    assert refused.status_code == 422
    assert 'id="file-errors"' in refused.text
    assert "第 4 行" in refused.text and "金额（元）" in refused.text
    assert 'value="订单月度汇总"' in refused.text  # what was typed is kept
    bad_file_left_nothing(app)
    no_file = enterprise.post(
        "/enterprise/data", data=fields(enterprise), headers=HTML, follow_redirects=False
    )
    assert no_file.status_code == 422 and "请选择要上传的 CSV 文件" in no_file.text

    hosted = upload(enterprise, csv_text(good_rows()))
    assert hosted.status_code == 303, hosted.text
    where = hosted.headers["location"]
    assert re.fullmatch(r"/enterprise/data/TG-\d{8}-[0-9A-F]{6}", where)
    page = enterprise.get(where, headers=HTML)
    assert page.status_code == 200
    assert TABLE in page.text and "托管中" in page.text and 'id="withdraw-form"' in page.text

    # A bank applies; the enterprise's page lists it, a rejection is asked first.
    bureau = as_user(app, "operator")
    bank = as_user(app, "bank")
    register(bank, "青岛示范银行", "bank", "finance", bureau)
    applied = bank.post(
        "/api/v1/channel/applications",
        json={
            "products": [TABLE],
            "purpose": PURPOSE,
            "legal_basis": "借款人书面同意",
            "usage": "industry",
            "days": 90,
        },
    )
    code = applied.json()["code"]
    listed = enterprise.get("/enterprise/data", headers=HTML).text
    assert f'data-code="{code}"' in listed and "待数据提供方审核" in listed
    review = f"/enterprise/data/applications/{code}/review"
    asked = post(enterprise, review, {"decision": "reject", "reason": "用途与本企业约定不符"})
    assert asked.status_code == 200 and 'id="confirm"' in asked.text and "确认不同意" in asked.text
    assert bank.get(f"/api/v1/channel/applications/{code}").json()["status"] == "department_review"
    unsaid = post(enterprise, review, {"decision": "return", "reason": ""})
    assert unsaid.status_code == 422 and "退回时请说明原因" in unsaid.text
    agreed = post(enterprise, review, {"decision": "approve", "reason": ""})
    assert agreed.status_code == 303
    assert bank.get(f"/api/v1/channel/applications/{code}").json()["status"] == "bureau_review"
    bureau.post(f"/api/v1/channel/applications/{code}/review", json={"decision": "approve"})
    grant = bank.get("/api/v1/channel/grants").json()[0]["code"]
    key = bank.post("/api/v1/channel/keys", json={"grants": [grant], "label": "信贷"}).json()
    assert call(app, key["secret"], {"region": "370202"}).status_code == 200

    # What the data earned, per consumer, in 元.
    earned = enterprise.get("/enterprise/data", headers=HTML).text
    assert 'id="statement-lines"' in earned and "青岛示范银行" in earned
    assert re.search(r'id="statement-total">0\.50<', earned), earned
    bad_month = enterprise.get("/enterprise/data?month=2026-13", headers=HTML)
    assert bad_month.status_code == 422

    # Withdrawing: asked first, saying how many lose access; then done, and shown.
    withdraw = f"{where}/withdraw"
    unsaid = post(enterprise, withdraw, {"reason": ""})
    assert unsaid.status_code == 422
    asked = post(enterprise, withdraw, {"reason": "数据停止更新"})
    assert asked.status_code == 200 and 'data-count="1"' in asked.text
    assert "确认撤回" in asked.text and "1 家机构" in asked.text
    assert call(app, key["secret"], {"region": "370202"}).status_code == 200  # not yet
    done = post(enterprise, withdraw, {"reason": "数据停止更新", "confirm": "yes"})
    assert done.status_code == 303
    shown = enterprise.get(where, headers=HTML).text
    assert "已撤回" in shown and 'id="withdraw-form"' not in shown
    assert call(app, key["secret"], {"region": "370202"}).json()["reason"] == "product-withdrawn"


def test_only_an_enterprise_opens_the_pages(custody: FastAPI) -> None:
    bank = as_user(custody, "bank")
    assert bank.get("/enterprise/data", headers=HTML).status_code == 403
    anonymous = TestClient(custody).get("/enterprise/data", headers=HTML, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    enterprise = as_user(custody, "enterprise")
    missing = enterprise.get("/enterprise/data/TG-20260101-ABCDEF", headers=HTML)
    assert missing.status_code == 404

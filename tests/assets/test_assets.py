"""The data-asset registry end to end: apply, return, resubmit, accept with a sealed certificate
that verifies, value with workings; refusals leave nothing changed and name the field; who sees
and does what (operators see all, applicants their own; nobody reviews their own application)."""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.assets.schemas import CostIn
from shuhui.core.db import transaction
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from tests.fixtures import add_account, as_user, csrf_from, login

HOLDER = "11370200MA69M3DT40"  # 青岛市大数据发展管理局 (content/qingdao/departments.yaml)
ENTERPRISE_CODE = "91370202MA3C4D5E6T"  # the demo enterprise's own credit code
OTHER_CODE = "9137021460181590X0"  # a well-formed code of another company


@pytest.fixture
def registry(catalogued: FastAPI) -> FastAPI:
    """The catalogued app with a second operator (to review what the first applies for), a
    colleague of the demo enterprise (same credit code) and a rival enterprise."""
    with transaction(catalogued.state.session_factory) as db:
        for username, name, role, department, code in (
            ("reviewer", "大数据局 陈审核", Role.data_operator, "青岛市大数据发展管理局", None),
            (
                "colleague",
                "青岛海湾示范科技有限公司 数据部",
                Role.enterprise,
                None,
                ENTERPRISE_CODE,
            ),
            ("rival", "青岛示范竞品有限公司", Role.enterprise, None, OTHER_CODE),
        ):
            add_account(
                db,
                UserCreate(
                    username=username,
                    display_name=name,
                    password=DEMO_PASSWORD,
                    roles=[role],
                    department=department,
                    credit_code=code,
                ),
            )
    return catalogued


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


def test_apply_return_resubmit_accept_and_verify_the_certificate(registry: FastAPI) -> None:
    catalogued = registry
    operator = as_user(catalogued, "operator")
    reviewer = as_user(catalogued, "reviewer")
    applied = operator.post("/api/v1/assets", json=application())
    assert applied.status_code == 201, applied.text
    code = applied.json()["code"]
    assert applied.json()["status"] == "submitted"

    # A return without a reason is refused; with one, the applicant gets it back.
    assert (
        reviewer.post(f"/api/v1/assets/{code}/review", json={"decision": "return"}).json()["field"]
        == "reason"
    )
    returned = reviewer.post(
        f"/api/v1/assets/{code}/review",
        json={"decision": "return", "reason": "请补充加工过程中的脱敏措施"},
    )
    assert returned.json()["status"] == "returned"
    resubmitted = operator.put(
        f"/api/v1/assets/{code}",
        json=application(processing="统一社会信用代码校验、去重、按月汇总；不含个人信息。"),
    )
    assert resubmitted.json()["status"] == "submitted"

    accepted = reviewer.post(f"/api/v1/assets/{code}/review", json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["status"] == "registered"
    assert re.fullmatch(r"QDSJZC-\d{4}-\d{6}", body["certificate_no"])
    # Reviewing twice is a conflict, not a second certificate.
    again = reviewer.post(f"/api/v1/assets/{code}/review", json={"decision": "accept"})
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


def registered(app: FastAPI) -> tuple[TestClient, str]:
    """An application by the operator, accepted by the reviewer: (the operator, its code)."""
    operator = as_user(app, "operator")
    code = operator.post("/api/v1/assets", json=application()).json()["code"]
    accepted = as_user(app, "reviewer").post(
        f"/api/v1/assets/{code}/review", json={"decision": "accept"}
    )
    assert accepted.status_code == 200, accepted.text
    return operator, code


def test_valuation_by_three_methods_shows_the_workings(registry: FastAPI) -> None:
    operator = as_user(registry, "operator")
    code = operator.post("/api/v1/assets", json=application()).json()["code"]
    too_early = operator.post(f"/api/v1/assets/{code}/valuation", json={"incomes": ["1"]})
    assert too_early.status_code == 409
    as_user(registry, "reviewer").post(f"/api/v1/assets/{code}/review", json={"decision": "accept"})
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


def in_pages(app: FastAPI, username: str) -> tuple[TestClient, str]:
    """A person at a browser: logged in through the form, posting forms with their CSRF token."""
    client = TestClient(app, raise_server_exceptions=False)
    login(client, username)
    client.headers.pop("x-csrf-token")
    return client, csrf_from(client, "/catalog/assets/new")


def test_an_operator_registers_and_values_a_dataset_in_the_pages(registry: FastAPI) -> None:
    client, token = in_pages(registry, "operator")
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
    # The applicant is not offered the review of their own application.
    assert 'data-status="submitted"' in page and 'id="review-form"' not in page
    assert 'id="review-by-another"' in page
    code = page_url.rsplit("/", 1)[1]
    reviewer, reviewer_token = in_pages(registry, "reviewer")
    assert 'id="review-form"' in reviewer.get(page_url).text
    reviewed = reviewer.post(
        f"/catalog/assets/{code}/review",
        data={"decision": "accept", "reason": "", "csrf_token": reviewer_token},
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
            "discount_rate": "8",
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
    assert bad.status_code == 422 and 'id="form-error"' in bad.text


# --- 1. a valuation with some cost items left blank ------------------------------------------


def test_cost_items_left_out_count_as_zero_in_the_api(registry: FastAPI) -> None:
    operator, code = registered(registry)
    valued = operator.post(
        f"/api/v1/assets/{code}/valuation",
        json={"cost": {"acquisition": "100000", "processing": "50000"}, "useful_life_years": 5},
    )
    assert valued.status_code == 200, valued.text
    cost = valued.json()["cost"]
    assert Decimal(cost["total_cost"]) == Decimal("150000.00")
    assert cost["not_given"] == ["quality", "security", "registration", "other"]
    assert [c["amount"] for c in cost["costs"]][2:] == ["0.00"] * 4
    assert any(s["zh"].startswith("未填写的成本项按 0 计：质量成本") for s in cost["workings"])
    # Rates alone are not a cost: refused naming the cost inputs, nothing stored.
    rates_only = operator.post(
        f"/api/v1/assets/{code}/valuation", json={"cost": {"profit_margin": "0.1"}}
    )
    assert rates_only.status_code == 422
    assert rates_only.json()["field"] == "cost"
    assert operator.get(f"/api/v1/assets/{code}").json()["valuation"]["cost"] == cost


def test_cost_items_left_blank_in_the_page_count_as_zero(registry: FastAPI) -> None:
    registered(registry)
    client, token = in_pages(registry, "operator")
    code = client.get("/api/v1/assets").json()[0]["code"]
    valued = client.post(
        f"/catalog/assets/{code}/valuation",
        data={"acquisition": "120000", "useful_life_years": "5", "csrf_token": token},
        follow_redirects=False,
    )
    assert valued.status_code == 303, valued.text
    page = client.get(f"/catalog/assets/{code}").text
    assert 'id="valuation-result"' in page
    assert "未填写的成本项按 0 计：数据加工成本、质量成本（评估、清洗）、安全成本" in page
    assert 'id="cost-blank-hint"' in page  # the form says blanks count as 0


def test_the_page_and_the_api_take_the_same_cost_inputs(registry: FastAPI) -> None:
    """The cost inputs are declared once (schemas.CostIn): the page form offers every one the
    API takes, the quality coefficient included (it used to be the API's only), and a value
    typed there is the one the cost method applies."""
    registered(registry)
    client, token = in_pages(registry, "operator")
    code = client.get("/api/v1/assets").json()[0]["code"]
    form = client.get(f"/catalog/assets/{code}").text.split('id="valuation-form"')[1]
    for name in CostIn.model_fields:
        assert f'name="{name}"' in form
    valued = client.post(
        f"/catalog/assets/{code}/valuation",
        data={"acquisition": "100000", "quality_coefficient": "0.8", "csrf_token": token},
        follow_redirects=False,
    )
    assert valued.status_code == 303, valued.text
    cost = client.get(f"/api/v1/assets/{code}").json()["valuation"]["cost"]
    assert cost["quality_coefficient"] == "0.8" and cost["value"] == "80000.00"
    refused = client.post(
        f"/catalog/assets/{code}/valuation",
        data={"acquisition": "100000", "quality_coefficient": "0", "csrf_token": token},
    )
    assert refused.status_code == 422
    assert 'data-field="cost.quality_coefficient">' in refused.text


# --- 2, 3. a refused valuation keeps what was typed and names the field ----------------------


def test_a_refused_valuation_keeps_the_form_and_names_each_field(registry: FastAPI) -> None:
    registered(registry)
    client, token = in_pages(registry, "operator")
    code = client.get("/api/v1/assets").json()[0]["code"]
    typed = {
        "acquisition": "120000",
        "processing": "80000",
        "incomes": "100000,110000",
        "discount_rate": "百分之十",
        "comparables": "某省数据产品,260000,0.9",
        "intended_use": "held_for_sale",
        "useful_life_years": "5",
        "csrf_token": token,
    }
    refused = client.post(f"/catalog/assets/{code}/valuation", data=typed)
    assert refused.status_code == 422
    page = refused.text
    assert "validation error" not in page and "ValuationIn" not in page
    summary = re.search(r'<p class="alert" role="alert" id="form-error">(.*?)</p>', page)
    reason = "不是有效的百分数，请填写数字，如 8 或 8.5%"
    assert summary is not None and summary.group(1) == f"折现率：{reason}"
    assert re.search(rf'data-field="discount_rate">{re.escape(reason)}</span>', page)
    # Everything typed is there again, the select and checkbox as they were.
    for name in ("acquisition", "processing", "incomes", "useful_life_years"):
        assert f'name="{name}" value="{typed[name]}"' in page
    assert 'name="discount_rate" value="百分之十"' in page
    assert "某省数据产品,260000,0.9</textarea>" in page
    assert '<option value="held_for_sale" selected>' in page
    assert 'name="benefits_probable" checked' not in page
    assert 'id="valuation-result"' not in page

    # Every bad input of every method at once, each by its label and next to its field.
    typed |= {"acquisition": "-1", "discount_rate": "10", "comparables": "某省数据产品,0"}
    refused = client.post(f"/catalog/assets/{code}/valuation", data=typed)
    assert refused.status_code == 422
    summary = re.search(r'id="form-error">(.*?)</p>', refused.text)
    assert summary is not None
    assert summary.group(1) == ("数据获取成本：不能为负数；可比案例第1行价格：须大于 0")
    assert 'data-field="cost.acquisition">不能为负数</span>' in refused.text
    assert 'data-field="comparables">可比案例第1行价格：须大于 0</span>' in refused.text
    assert (
        'name="acquisition" value="-1" inputmode="decimal" maxlength="32" aria-invalid="true"'
        in (refused.text)
    )
    assert client.get(f"/api/v1/assets/{code}").json()["valuation"] is None


def test_the_api_names_every_bad_valuation_input_as_sent(registry: FastAPI) -> None:
    operator, code = registered(registry)
    refused = operator.post(
        f"/api/v1/assets/{code}/valuation",
        json={
            "cost": {"acquisition": "-1", "processing": "10"},
            "incomes": ["100"],
            "discount_rate": "0.1",
            "income_share": "2",
            "comparables": [{"name": "A", "price": "0"}],
        },
    )
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["field"] == "cost.acquisition"
    assert [e["field"] for e in body["errors"]] == [
        "cost.acquisition",
        "income_share",
        "comparables[0].price",
    ]
    not_numeric = operator.post(f"/api/v1/assets/{code}/valuation", json={"discount_rate": "x"})
    assert not_numeric.status_code == 422 and not_numeric.json()["field"] == "discount_rate"


# --- 4. a returned application is corrected and resubmitted in the pages ---------------------


def test_the_applicant_corrects_and_resubmits_a_returned_application(registry: FastAPI) -> None:
    enterprise, token = in_pages(registry, "enterprise")
    applied = enterprise.post(
        "/api/v1/assets",
        json=application(kind="product", dataset=None, holder_code=ENTERPRISE_CODE),
        headers={"x-csrf-token": token},
    )
    assert applied.status_code == 201, applied.text
    code = applied.json()["code"]
    as_user(registry, "operator").post(
        f"/api/v1/assets/{code}/review", json={"decision": "return", "reason": "请说明数据来源授权"}
    )
    page = enterprise.get(f"/catalog/assets/{code}").text
    assert 'id="resubmit-form"' in page and "请说明数据来源授权" in page
    assert 'name="title" value="企业月度用电量数据资源"' in page  # the form starts as it was
    # The operator who returned it is not offered the applicant's form.
    assert (
        'id="resubmit-form"'
        not in as_user(registry, "operator").get(f"/catalog/assets/{code}").text
    )

    corrected = {
        **application(kind="product", dataset="", holder_code=ENTERPRISE_CODE),
        "sources": "自有电表读数；客户书面授权（编号 SQ-2026-001）。",
        "csrf_token": token,
    }
    corrected.pop("rights")
    # A bad correction is refused on the page, keeping what was typed.
    bad = enterprise.post(
        f"/catalog/assets/{code}/resubmit",
        data={**corrected, "holder_code": ENTERPRISE_CODE[:-1] + "X", "rights": ["operation"]},
    )
    assert bad.status_code == 422
    assert "持有者统一社会信用代码：校验位" in bad.text
    assert "SQ-2026-001" in bad.text and 'id="resubmit-form"' in bad.text
    assert enterprise.get(f"/api/v1/assets/{code}").json()["status"] == "returned"

    resubmitted = enterprise.post(
        f"/catalog/assets/{code}/resubmit",
        data={**corrected, "rights": ["operation"]},
        follow_redirects=False,
    )
    assert resubmitted.status_code == 303, resubmitted.text
    shown = enterprise.get(f"/api/v1/assets/{code}").json()
    assert shown["status"] == "submitted" and "SQ-2026-001" in shown["sources"]
    assert shown["rights"] == ["operation"]
    assert 'id="resubmit-form"' not in enterprise.get(f"/catalog/assets/{code}").text


# --- 5. the catalog links to the registry ----------------------------------------------------


def test_the_catalog_links_to_the_registry(registry: FastAPI) -> None:
    client, _ = in_pages(registry, "enterprise")
    assert 'href="/catalog/assets"' in client.get("/catalog").text
    dataset_page = client.get("/catalog/datasets/enterprise_electricity").text
    assert 'href="/catalog/assets/new?dataset=enterprise_electricity"' in dataset_page
    assert "申请登记为数据资产" in dataset_page
    new = client.get("/catalog/assets/new", params={"dataset": "enterprise_electricity"}).text
    assert '<option value="enterprise_electricity" selected>' in new
    # A visitor who cannot apply is not sent to a page that refuses them.
    visitor = TestClient(registry)
    assert 'href="/catalog/assets"' not in visitor.get("/catalog").text
    assert "申请登记为数据资产" not in visitor.get("/catalog/datasets/enterprise_electricity").text


# --- 6, 7. who sees and does what ------------------------------------------------------------


def test_applicants_see_only_their_own_applications(registry: FastAPI) -> None:
    officer = as_user(registry, "officer")
    enterprise = as_user(registry, "enterprise")
    theirs = officer.post("/api/v1/assets", json=application()).json()["code"]
    mine = enterprise.post("/api/v1/assets", json=application(holder_code=ENTERPRISE_CODE)).json()[
        "code"
    ]
    # Operators see all; an applicant sees what they submitted.
    assert {r["code"] for r in as_user(registry, "operator").get("/api/v1/assets").json()} == {
        theirs,
        mine,
    }
    assert [r["code"] for r in enterprise.get("/api/v1/assets").json()] == [mine]
    assert [r["code"] for r in officer.get("/api/v1/assets").json()] == [theirs]
    refused = enterprise.get(f"/api/v1/assets/{theirs}")
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/forbidden"
    # A colleague under the same credit code sees the company's application …
    colleague = as_user(registry, "colleague")
    assert [r["code"] for r in colleague.get("/api/v1/assets").json()] == [mine]
    assert colleague.get(f"/api/v1/assets/{mine}").status_code == 200
    # … and a rival company sees neither, in the API or the pages.
    rival = as_user(registry, "rival")
    assert rival.get("/api/v1/assets").json() == []
    assert rival.get(f"/api/v1/assets/{mine}").status_code == 403
    listing = rival.get("/catalog/assets").text
    assert mine not in listing and theirs not in listing and 'id="own-only"' in listing
    assert rival.get(f"/catalog/assets/{mine}").status_code == 403


def test_only_the_original_applicant_resubmits(registry: FastAPI) -> None:
    enterprise = as_user(registry, "enterprise")
    code = enterprise.post("/api/v1/assets", json=application(holder_code=ENTERPRISE_CODE)).json()[
        "code"
    ]
    as_user(registry, "operator").post(
        f"/api/v1/assets/{code}/review", json={"decision": "return", "reason": "请补充"}
    )
    for other in ("colleague", "reviewer"):
        refused = as_user(registry, other).put(
            f"/api/v1/assets/{code}", json=application(holder_code=ENTERPRISE_CODE)
        )
        assert refused.status_code == 403, (other, refused.text)
        assert refused.json()["field"] == "applicant"
    assert enterprise.get(f"/api/v1/assets/{code}").json()["status"] == "returned"
    again = enterprise.put(f"/api/v1/assets/{code}", json=application(holder_code=ENTERPRISE_CODE))
    assert again.status_code == 200 and again.json()["status"] == "submitted"


def test_an_enterprise_applies_only_under_its_own_credit_code(registry: FastAPI) -> None:
    enterprise = as_user(registry, "enterprise")
    refused = enterprise.post("/api/v1/assets", json=application(holder_code=OTHER_CODE))
    assert refused.status_code == 422
    assert refused.json()["field"] == "holder_code"
    assert ENTERPRISE_CODE in refused.json()["reason"]
    code = enterprise.post("/api/v1/assets", json=application(holder_code=ENTERPRISE_CODE)).json()[
        "code"
    ]
    as_user(registry, "operator").post(
        f"/api/v1/assets/{code}/review", json={"decision": "return", "reason": "请补充"}
    )
    # Nor can a resubmission move the holding to another company.
    moved = enterprise.put(f"/api/v1/assets/{code}", json=application(holder_code=OTHER_CODE))
    assert moved.status_code == 422 and moved.json()["field"] == "holder_code"
    # The page offers the enterprise its own code and says why.
    new = as_user(registry, "enterprise").get("/catalog/assets/new").text
    assert f'name="holder_code" value="{ENTERPRISE_CODE}"' in new and 'id="own-code"' in new
    # Officers apply for a department, under whichever code the department holds.
    officer = as_user(registry, "officer")
    assert (
        officer.post("/api/v1/assets", json=application(holder_code=OTHER_CODE)).status_code == 201
    )


def test_an_operator_does_not_review_their_own_application(registry: FastAPI) -> None:
    operator = as_user(registry, "operator")
    code = operator.post("/api/v1/assets", json=application()).json()["code"]
    refused = operator.post(f"/api/v1/assets/{code}/review", json={"decision": "accept"})
    assert refused.status_code == 403
    body = refused.json()
    assert body["field"] == "reviewer" and "职责分离" in body["detail"]
    assert operator.get(f"/api/v1/assets/{code}").json()["status"] == "submitted"
    # Nor in the pages: no form is offered, and a forged post is refused saying why.
    client, token = in_pages(registry, "operator")
    page = client.get(f"/catalog/assets/{code}").text
    assert 'id="review-form"' not in page and "须由其他运营人员审核" in page
    forged = client.post(
        f"/catalog/assets/{code}/review", data={"decision": "accept", "csrf_token": token}
    )
    assert forged.status_code == 403 and "职责分离" in forged.text
    assert operator.get(f"/api/v1/assets/{code}").json()["status"] == "submitted"
    accepted = as_user(registry, "reviewer").post(
        f"/api/v1/assets/{code}/review", json={"decision": "accept"}
    )
    assert accepted.status_code == 200 and accepted.json()["reviewer"] == "reviewer"


def test_refusals_in_the_pages_name_the_field_by_its_label(registry: FastAPI) -> None:
    client, token = in_pages(registry, "operator")
    form = {**application(holder_code=HOLDER[:-1] + "1"), "csrf_token": token}
    form.pop("rights")
    refused = client.post("/catalog/assets/new", data={**form, "rights": ["holding"]})
    assert refused.status_code == 422
    assert re.search(r'id="form-error">持有者统一社会信用代码：校验位', refused.text)
    assert 'data-field="holder_code">校验位' in refused.text
    code = client.post(
        "/catalog/assets/new", data={**form, "holder_code": HOLDER, "rights": ["holding"]}
    ).url.path.rsplit("/", 1)[1]
    reviewer, reviewer_token = in_pages(registry, "reviewer")
    no_reason = reviewer.post(
        f"/catalog/assets/{code}/review", data={"decision": "return", "csrf_token": reviewer_token}
    )
    assert no_reason.status_code == 422
    assert re.search(r'id="form-error">审核意见：请说明原因</p>', no_reason.text)
    assert 'data-field="reason">请说明原因</span>' in no_reason.text


def test_rejecting_an_application_in_the_pages_asks_first(registry: FastAPI) -> None:
    operator = as_user(registry, "operator")
    code = operator.post("/api/v1/assets", json=application()).json()["code"]
    client, token = in_pages(registry, "reviewer")
    form = {"decision": "reject", "reason": "权属证明不足", "csrf_token": token}
    asked = client.post(f"/catalog/assets/{code}/review", data=form)
    assert asked.status_code == 200 and 'id="confirm-form"' in asked.text
    assert "将不予登记并结束，不能改回" in asked.text and "权属证明不足" in asked.text
    assert operator.get(f"/api/v1/assets/{code}").json()["status"] == "submitted"
    # Cancelling leads back to the application, still waiting for review.
    assert 'data-status="submitted"' in client.get(f"/catalog/assets/{code}").text
    done = client.post(f"/catalog/assets/{code}/review", data={**form, "confirm": "yes"})
    assert 'data-status="rejected"' in done.text
    assert operator.get(f"/api/v1/assets/{code}").json()["status"] == "rejected"

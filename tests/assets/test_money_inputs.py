"""The valuation's money in 元 and rates as percentages: typed so on the page ("8" is 8 %, "8,000元"
is eight thousand yuan), an implausible rate confirmed before it is saved, the results shown with
thousands separators; the API keeps its fractions and takes the same money texts."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from tests.assets import test_assets as base
from tests.assets.test_assets import in_pages, registered

registry = base.registry  # the registry with a second operator, to accept the application


def post(client: TestClient, token: str, code: str, data: dict[str, str]) -> Any:
    return client.post(
        f"/catalog/assets/{code}/valuation",
        data={**data, "csrf_token": token},
        follow_redirects=False,
    )


def valuation_of(client: TestClient, code: str) -> Any:
    return client.get(f"/api/v1/assets/{code}").json()["valuation"]


def test_the_page_takes_rates_as_percentages_and_money_in_yuan(registry: Any) -> None:
    _, code = registered(registry)
    client, token = in_pages(registry, "operator")
    form = client.get(f"/catalog/assets/{code}").text.split('id="valuation-form"')[1]
    # Each field says its unit.
    for label in ("数据获取成本（元）", "合理利润率（%）", "贬值率（%）", "折现率（%）"):
        assert label in form
    assert "质量调整系数<input" in form  # a factor: no unit
    saved = post(
        client,
        token,
        code,
        {
            "acquisition": "￥80,000元",
            "processing": "20,000.50",
            "profit_margin": "10",
            "devaluation_rate": "5%",
            "incomes": "30000，30000",
            "discount_rate": "8.5%",
            "useful_life_years": "5",
        },
    )
    assert saved.status_code == 303, saved.text
    valuation = valuation_of(client, code)
    cost, income = valuation["cost"], valuation["income"]
    assert cost["total_cost"] == "100000.50"
    assert cost["profit_margin"] == "0.1" and cost["devaluation_rate"] == "0.05"
    assert income["discount_rate"] == "0.085"
    page = client.get(f"/catalog/assets/{code}").text
    shown = re.search(r'id="valuation-result">[^<]*<strong>([^<]+)</strong>', page)
    assert shown is not None and re.fullmatch(r"\d{1,3}(,\d{3})+\.\d\d", shown.group(1))
    assert re.search(r"<h3>收益法 · [\d,]+\.\d\d 元</h3>", page)


def test_an_implausible_rate_is_confirmed_before_it_is_saved(registry: Any) -> None:
    _, code = registered(registry)
    client, token = in_pages(registry, "operator")
    typed = {"acquisition": "100000", "incomes": "30000", "discount_rate": "0.08"}
    warned = post(client, token, code, typed)
    # "0.08" meant as 8 % is 0.08 %: not refused, but nothing saved until confirmed.
    assert warned.status_code == 200
    assert 'id="rate-warnings"' in warned.text
    warning = re.search(r'data-warning="discount_rate">([^<]+)<', warned.text)
    assert warning is not None and "0.08%" in warning.group(1) and "1%" in warning.group(1)
    assert 'name="discount_rate" value="0.08"' in warned.text  # what was typed, kept
    assert 'name="confirm_rates" value="1"' in warned.text
    assert valuation_of(client, code) is None

    high = post(client, token, code, {**typed, "discount_rate": "35", "profit_margin": "80"})
    assert high.status_code == 200
    assert 'data-warning="discount_rate"' in high.text and "35%" in high.text
    assert 'data-warning="cost.profit_margin"' in high.text
    assert valuation_of(client, code) is None

    confirmed = post(client, token, code, {**typed, "confirm_rates": "1"})
    assert confirmed.status_code == 303, confirmed.text
    assert valuation_of(client, code)["income"]["discount_rate"] == "0.0008"
    # A plausible rate needs no confirmation.
    assert post(client, token, code, {**typed, "discount_rate": "8"}).status_code == 303


def test_money_and_rates_that_cannot_be_read_are_refused_in_chinese(registry: Any) -> None:
    _, code = registered(registry)
    client, token = in_pages(registry, "operator")
    refused = post(
        client,
        token,
        code,
        {"acquisition": "12.345", "incomes": "三万", "discount_rate": "8%%"},
    )
    assert refused.status_code == 422
    page = refused.text
    assert 'data-field="cost.acquisition">最多两位小数（金额精确到分）</span>' in page
    assert re.search(r'data-field="incomes">各年预期收益（第1年）：不是有效的金额', page)
    assert 'data-field="discount_rate">不是有效的百分数' in page
    assert valuation_of(client, code) is None


def test_the_api_takes_the_same_money_texts_and_keeps_its_fractions(registry: Any) -> None:
    operator, code = registered(registry)
    valued = operator.post(
        f"/api/v1/assets/{code}/valuation",
        json={
            "cost": {"acquisition": "8,000元", "processing": "2000"},
            "incomes": ["￥1,000", "1000.5"],
            "discount_rate": "0.1",  # a fraction, as API clients have always sent it
            "useful_life_years": 5,
        },
    )
    assert valued.status_code == 200, valued.text
    out = valued.json()
    assert out["cost"]["total_cost"] == "10000.00"
    assert out["income"]["discount_rate"] == "0.1"
    bad = operator.post(f"/api/v1/assets/{code}/valuation", json={"cost": {"acquisition": "八千"}})
    assert bad.status_code == 422
    assert bad.json()["field"] == "cost.acquisition"
    assert bad.json()["errors"][0]["reason"].startswith("不是有效的金额")
    finer = operator.post(
        f"/api/v1/assets/{code}/valuation", json={"incomes": ["1.001"], "discount_rate": "0.1"}
    )
    assert finer.status_code == 422 and finer.json()["field"] == "incomes[0]"

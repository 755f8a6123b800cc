"""Money in the 政策找人 pages: parameters counted in fen shown in 元 in the policy library and a
candidate's explanation, and an applicant's money answer typed in 元 (kept in fen)."""

from __future__ import annotations

import re
from typing import Any

from tests.programs.conftest import City, resident
from tests.programs.test_pages import post

FLEXIBLE = "flexible-employment-insurance-subsidy"
CONTRIBUTIONS = "flexible_contributions_fen"


def test_the_policy_library_shows_money_in_yuan(city: City) -> None:
    page = city.civil.get("/hrss/policies").text
    row = re.search(r'<tr data-param="amount_80"[^>]*>(.*?)</tr>', page, re.S)
    assert row is not None and "100.00 元/月" in row.group(1)
    assert "分/月" not in page and "分/人" not in page and "（分）" not in page
    assert re.search(r'<tr data-param="min_age"[^>]*>.*?80 周岁', page, re.S)  # not money


def an_offer_missing_the_contributions(city: City) -> tuple[Any, str, str]:
    ran = city.hrss.post("/api/v1/programs/campaigns", json={"rule": FLEXIBLE})
    assert ran.status_code == 201, ran.text
    code = ran.json()["code"]
    listed = city.hrss.get(f"/api/v1/programs/campaigns/{code}/candidates?status=pending&limit=500")
    # Someone only the two supplied inputs are missing for: with them, the outcome is known.
    both = {"hardship_certified", CONTRIBUTIONS}
    found = [c for c in listed.json()["items"] if set(c["missing"]) == both]
    assert found, "the city has someone whose contributions the data core lacks"
    target = found[0]
    confirmed = city.hrss.post(
        f"/api/v1/programs/campaigns/{code}/confirm", json={"ids": [target["id"]]}
    )
    assert confirmed.status_code == 200, confirmed.text
    return target, str(target["id"]), str(target["subject"])


def test_an_applicant_types_money_in_yuan_and_the_department_reads_it_in_yuan(
    city: City,
) -> None:
    target, offer, subject = an_offer_missing_the_contributions(city)
    person = resident(city.app, "flexible", subject)
    page = person.get("/hrss/offers").text
    assert f'data-unit="{CONTRIBUTIONS}">元/月</span>' in page
    assert "（分/月）" not in page
    answers = {f"answer.{name}": "是" for name in target["missing"] if name != CONTRIBUTIONS}

    finer = post(
        person,
        f"/hrss/offers/{offer}/answer",
        {"decision": "apply", **answers, f"answer.{CONTRIBUTIONS}": "1200.505"},
    )
    assert finer.status_code == 422
    assert re.search(rf'data-field="answers.{CONTRIBUTIONS}">[^<]*最多两位小数', finer.text)

    done = post(
        person,
        f"/hrss/offers/{offer}/answer",
        {"decision": "apply", **answers, f"answer.{CONTRIBUTIONS}": "1,200.50元"},
    )
    assert done.status_code == 303, done.text
    (mine,) = person.get("/api/v1/programs/offers").json()
    assert mine["application"][CONTRIBUTIONS] == "120050"  # kept in fen, as the data core
    assert mine["applied_outcome"] == "eligible"
    assert mine["applied_amount_fen"] == round(120050 * 0.6667)
    applied = re.search(r'class="applied-amount">([^<]+)<', person.get("/hrss/offers").text)
    assert applied is not None and applied.group(1) == "800.37"

    review = city.hrss.get(f"/hrss/candidates/{offer}").text
    answer = re.search(rf'<tr data-answer="{CONTRIBUTIONS}">(.*?)</tr>', review, re.S)
    assert answer is not None and "1,200.50 元/月" in answer.group(1)
    used = re.search(rf'<tr data-input="{CONTRIBUTIONS}">(.*?)</tr>', review, re.S)
    assert used is not None and "1,200.50 元/月" in used.group(1)


def test_the_api_reads_a_money_answer_in_yuan(city: City) -> None:
    target, offer, subject = an_offer_missing_the_contributions(city)
    person = resident(city.app, "flexible-api", subject)
    answers = {name: "是" for name in target["missing"] if name != CONTRIBUTIONS}
    refused = person.post(
        f"/api/v1/programs/offers/{offer}/answer",
        json={"decision": "apply", "answers": {**answers, CONTRIBUTIONS: "-800"}},
    )
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["field"] == f"answers.{CONTRIBUTIONS}" and "不能为负数" in error["reason"]
    applied = person.post(
        f"/api/v1/programs/offers/{offer}/answer",
        json={"decision": "apply", "answers": {**answers, CONTRIBUTIONS: "800"}},
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["application"][CONTRIBUTIONS] == "80000"
    assert applied.json()["applied_amount_fen"] == round(80000 * 0.6667)

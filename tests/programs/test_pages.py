"""The 政策找人 pages through the app: the library, the console, a candidate's explanation and
the resident's offers, including refusals shown next to their field."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.fixtures import as_user, csrf_from
from tests.jobs.support import result_of
from tests.programs.conftest import City, resident


def post(client: TestClient, path: str, data: dict[str, str | list[str]]) -> Response:
    return client.post(path, data={**data, "csrf_token": csrf_from(client)}, follow_redirects=False)


def test_the_pages_carry_a_campaign_from_run_to_grant(city: City) -> None:
    civil = city.civil
    library = civil.get("/hrss/policies")
    assert library.status_code == 200
    assert "高龄津贴" in library.text and "参数及其历史" in library.text
    assert 'data-param="amount_80"' in library.text

    console = civil.get("/hrss/campaigns")
    assert console.status_code == 200 and 'value="elderly-allowance"' in console.text
    ran = post(civil, "/hrss/campaigns", {"rule": "elderly-allowance", "evaluated_on": ""})
    location = result_of(city.app, ran)  # run as a background job, then its result's page
    page = civil.get(location)
    assert page.status_code == 200, page.text
    assert 'id="funnel-chart"' in page.text
    code = location.rsplit("/", 1)[-1]
    eligible = number(page.text, r'id="count-eligible">(\d+)<')
    assert eligible > 0
    assert number(page.text, r'data-stage="found"><td>[^<]+</td><td class="num">(\d+)<') == eligible
    ids = re.findall(r'<tr data-id="(\d+)" data-status="pending">', page.text)
    first, second = ids[0], ids[1]

    # A candidate's explanation: each condition with its value, the data, the parameters.
    why = civil.get(f"/hrss/candidates/{first}")
    assert why.status_code == 200
    assert re.search(r'data-condition="old_enough"[^>]*>\s*<span class="v-true"', why.text)
    assert 'data-input="birth_date"' in why.text and 'data-param="min_age"' in why.text
    subject = re.search(r"<h1>高龄津贴 · (\d{17}[\dX])</h1>", why.text)
    assert subject is not None

    # Rejecting without a reason is refused next to the field, and changes nothing.
    refused = post(civil, f"/hrss/campaigns/{code}/reject", {"ids": [second], "reason": ""})
    assert refused.status_code == 422
    assert 'data-field="reason"' in refused.text
    assert f'<tr data-id="{second}" data-status="pending">' in refused.text
    confirmed = post(civil, f"/hrss/campaigns/{code}/confirm", {"ids": [first], "confirm": "yes"})
    assert confirmed.status_code == 303
    after = civil.get(f"/hrss/campaigns/{code}").text
    assert f'<tr data-id="{first}" data-status="offered">' in after

    # The resident sees the offer, with why, and accepts it from the page.
    elder = resident(city.app, "elder", subject.group(1))
    offers = elder.get("/hrss/offers")
    assert offers.status_code == 200
    assert f'id="offer-{first}" data-status="offered"' in offers.text
    assert re.search(r'data-condition="alive"[^>]*>\s*<span class="v-true"', offers.text)
    accepted = post(elder, f"/hrss/offers/{first}/answer", {"decision": "accept"})
    assert accepted.status_code == 303
    done = elder.get("/hrss/offers").text
    assert f'id="offer-{first}" data-status="granted"' in done and 'id="grants"' in done
    bad = post(elder, f"/hrss/offers/{first}/answer", {"decision": "accept"})
    assert bad.status_code == 409

    final = civil.get(f"/hrss/campaigns/{code}").text
    assert number(final, r'data-stage="granted"><td>[^<]+</td><td class="num">(\d+)<') == 1


def number(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, pattern
    return int(found.group(1))


def test_who_lands_where(city: City) -> None:
    assert city.civil.get("/hrss", follow_redirects=False).headers["location"] == "/hrss/campaigns"
    citizen = as_user(city.app, "citizen")  # the demo citizen, 36: nothing offered
    assert citizen.get("/hrss", follow_redirects=False).headers["location"] == "/hrss/offers"
    assert "暂时没有为您推荐的政策" in citizen.get("/hrss/offers").text
    assert citizen.get("/hrss/campaigns").status_code == 403


def test_an_application_on_the_page_is_typed_evaluated_again_and_reviewed(city: City) -> None:
    staff = city.disability
    ran = post(staff, "/hrss/campaigns", {"rule": "hardship-disability-living-subsidy"})
    location = result_of(city.app, ran)
    code = location.rsplit("/", 1)[-1]
    first = re.findall(r'<tr data-id="(\d+)" data-status="pending">', staff.get(location).text)[0]
    confirm = {"ids": [first], "confirm": "yes"}
    assert post(staff, f"/hrss/campaigns/{code}/confirm", confirm).status_code == 303
    why = staff.get(f"/hrss/candidates/{first}").text
    subject = re.search(r"<h1>困难残疾人生活补贴 · (\d{17}[\dX])</h1>", why)
    assert subject is not None

    person = resident(city.app, "applicant", subject.group(1))
    page = person.get("/hrss/offers").text
    # A yes/no input is asked as a choice of 是 / 否, not free text.
    assert '<select name="answer.minimum_living_allowance" required>' in page
    bad = post(
        person,
        f"/hrss/offers/{first}/answer",
        {"decision": "apply", "answer.minimum_living_allowance": "不清楚"},
    )
    assert bad.status_code == 422
    assert 'data-field="answers.minimum_living_allowance"' in bad.text
    assert f'id="offer-{first}" data-status="offered"' in bad.text
    done = post(
        person,
        f"/hrss/offers/{first}/answer",
        {"decision": "apply", "answer.minimum_living_allowance": "是"},
    )
    assert done.status_code == 303
    after = person.get("/hrss/offers").text
    assert f'id="offer-{first}" data-status="applied"' in after
    applied = re.search(rf'id="applied-{first}">(.*?)</p>', after, re.S)
    assert applied is not None
    assert "符合" in applied.group(
        1
    ) and '<strong class="applied-amount">100.00</strong>' in applied.group(1)

    # The department reviews it evaluated again with the answer, marked as the applicant's.
    review = staff.get(f"/hrss/candidates/{first}").text
    assert 'id="with-answers"' in review
    assert re.search(r'data-input="minimum_living_allowance">.*?申请人提供', review, re.S)
    assert (
        '<tr data-answer="minimum_living_allowance"><td>属于最低生活保障家庭</td><td>是</td></tr>'
        in review
    )
    approved = post(
        staff, f"/hrss/candidates/{first}/review", {"decision": "approve", "reason": ""}
    )
    assert approved.status_code == 303
    assert 'id="grants"' in person.get("/hrss/offers").text

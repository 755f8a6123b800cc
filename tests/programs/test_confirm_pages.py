"""Bulk and irreversible acts on the campaign pages ask first: the first post shows how many and
what, and changes nothing; only the confirmed post acts; cancelling leaves everything as it was."""

from __future__ import annotations

import re
from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.fixtures import csrf_from
from tests.jobs.support import result_of
from tests.programs.conftest import City, resident


def post(client: TestClient, path: str, data: dict[str, str | list[str]]) -> Response:
    return client.post(path, data={**data, "csrf_token": csrf_from(client)}, follow_redirects=False)


def statuses(client: TestClient, code: str) -> dict[str, str]:
    page = client.get(f"/hrss/campaigns/{code}").text
    return dict(re.findall(r'<tr data-id="(\d+)" data-status="(\w+)">', page))


def pending_count(client: TestClient, code: str) -> int:
    page = client.get(f"/hrss/campaigns/{code}").text
    found = re.search(r"全部确认并推送（(\d+)）", page)
    return int(found.group(1)) if found else 0


def run(client: TestClient, rule: str) -> str:
    ran = post(client, "/hrss/campaigns", {"rule": rule, "limit": "60"})
    return result_of(cast(FastAPI, client.app), ran).rsplit("/", 1)[-1]


def test_offering_every_pending_candidate_asks_with_the_count_first(city: City) -> None:
    civil = city.civil
    code = run(civil, "elderly-allowance")
    before = statuses(civil, code)
    n = pending_count(civil, code)
    assert n > 1 and n == list(before.values()).count("pending")

    asked = post(civil, f"/hrss/campaigns/{code}/confirm", {"all": "1"})
    assert asked.status_code == 200
    assert f'data-count="{n}"' in asked.text
    assert f"将向 {n} 位居民发送高龄津贴的待遇确认通知，发送后不能撤回。" in asked.text
    # The confirmation carries the first post's fields, and says yes only when pressed.
    assert '<input type="hidden" name="all" value="1">' in asked.text
    assert '<input type="hidden" name="confirm" value="yes">' in asked.text
    assert statuses(civil, code) == before  # nothing offered yet

    # Cancelling is a link back: still nothing offered.
    cancel = re.search(
        r'<a href="([^"]+)" class="button secondary" id="confirm-cancel">', asked.text
    )
    assert cancel is not None and civil.get(cancel.group(1)).status_code == 200
    assert statuses(civil, code) == before

    done = post(civil, f"/hrss/campaigns/{code}/confirm", {"all": "1", "confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"].endswith(f"?confirmed={n}")
    assert set(statuses(civil, code).values()) == {"offered"}


def test_confirming_the_selected_counts_them_and_a_forged_post_does_nothing(city: City) -> None:
    civil = city.civil
    code = run(civil, "elderly-allowance")
    first, second, third = list(statuses(civil, code))[:3]
    asked = post(civil, f"/hrss/campaigns/{code}/confirm", {"ids": [first, second]})
    assert asked.status_code == 200
    assert "将向 2 位居民发送高龄津贴的待遇确认通知" in asked.text
    assert (
        f'name="ids" value="{first}"' in asked.text and f'name="ids" value="{second}"' in asked.text
    )
    # Any value but yes is not a confirmation.
    forged = post(civil, f"/hrss/campaigns/{code}/confirm", {"ids": [first], "confirm": "1"})
    assert forged.status_code == 200 and 'id="confirm-form"' in forged.text
    assert set(statuses(civil, code).values()) == {"pending"}

    done = post(
        civil, f"/hrss/campaigns/{code}/confirm", {"ids": [first, second], "confirm": "yes"}
    )
    assert done.status_code == 303
    now = statuses(civil, code)
    assert (now[first], now[second], now[third]) == ("offered", "offered", "pending")


def test_not_confirming_asks_with_the_reason_and_the_count(city: City) -> None:
    civil = city.civil
    code = run(civil, "elderly-allowance")
    first, second = list(statuses(civil, code))[:2]
    asked = post(civil, f"/hrss/campaigns/{code}/reject", {"ids": [first], "reason": "已迁出本市"})
    assert asked.status_code == 200
    assert "1 位居民将不予确认" in asked.text and "已迁出本市" in asked.text
    assert statuses(civil, code)[first] == "pending"
    done = post(
        civil,
        f"/hrss/campaigns/{code}/reject",
        {"ids": [first], "reason": "已迁出本市", "confirm": "yes"},
    )
    assert done.status_code == 303
    now = statuses(civil, code)
    assert (now[first], now[second]) == ("rejected", "pending")


def test_rejecting_an_application_asks_first(city: City) -> None:
    staff = city.disability
    code = run(staff, "hardship-disability-living-subsidy")
    first = next(iter(statuses(staff, code)))
    assert (
        post(
            staff, f"/hrss/campaigns/{code}/confirm", {"ids": [first], "confirm": "yes"}
        ).status_code
        == 303
    )
    why = staff.get(f"/hrss/candidates/{first}").text
    subject = re.search(r"<h1>困难残疾人生活补贴 · (\d{17}[\dX])</h1>", why)
    assert subject is not None
    person = resident(city.app, "applicant", subject.group(1))
    applied = post(
        person,
        f"/hrss/offers/{first}/answer",
        {"decision": "apply", "answer.minimum_living_allowance": "否"},
    )
    assert applied.status_code == 303

    asked = post(
        staff, f"/hrss/candidates/{first}/review", {"decision": "reject", "reason": "不符合"}
    )
    assert asked.status_code == 200 and "将不予批准" in asked.text
    assert statuses(staff, code)[first] == "applied"
    done = post(
        staff,
        f"/hrss/candidates/{first}/review",
        {"decision": "reject", "reason": "不符合", "confirm": "yes"},
    )
    assert done.status_code == 303
    assert statuses(staff, code)[first] == "rejected"

"""Choosing whom a campaign takes (scope: all / eligible only (免申即享) / undetermined only) and
how many (limit), end to end through the API and the pages, on SQLite and PostgreSQL: the filter
runs in DuckDB, those already granted are left out before the limit, bad input is a 422 naming
the field and runs nothing, and the campaign's counts stay the rule's over the whole city."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select

from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.datacore.store import DataCore
from shuhui.programs.models import Campaign
from shuhui.trust.ledger.models import LedgerEntry
from tests.jobs.support import result_of
from tests.programs.conftest import City, resident
from tests.programs.test_campaigns import ELDERLY, pending, run
from tests.programs.test_pages import post


@pytest.fixture
def gappy(city: City) -> City:
    """The city with the household registration type of every other older resident unknown,
    so the elderly allowance finds both eligible and undetermined residents."""
    core: DataCore = city.app.state.datacore
    table = core.sql("SELECT * FROM residents ORDER BY citizen_id")
    spec = core.spec("residents")
    relaxed = replace(
        spec,
        columns=tuple(
            replace(c, required=False) if c.name == "hukou_type" else c for c in spec.columns
        ),
    )
    today = local_today()
    older = date(today.year - 75, 1, 1)
    births = table.column("birth_date").to_pylist()
    hukou = table.column("hukou_type").to_pylist()
    for i, born in enumerate(births):
        if born is not None and born < older and i % 2 == 0:
            hukou[i] = None
    at = table.schema.get_field_index("hukou_type")
    core.load(
        relaxed,
        table.set_column(at, "hukou_type", pa.array(hukou, pa.string())),
        source="test: hukou type unknown",
    )
    return city


def candidates(client: TestClient, code: str) -> list[dict[str, Any]]:
    """Every candidate of a campaign, whatever its status."""
    got = client.get(f"/api/v1/programs/campaigns/{code}/candidates?limit=500")
    assert got.status_code == 200, got.text
    assert got.json()["total"] <= 500
    items: list[dict[str, Any]] = got.json()["items"]
    return items


def grant(city: City, candidate: dict[str, Any], username: str) -> None:
    """Confirms one candidate of the elderly allowance and has the resident accept it."""
    confirmed = city.civil.post(
        f"/api/v1/programs/campaigns/{candidate['campaign']}/confirm",
        json={"ids": [candidate["id"]]},
    )
    assert confirmed.status_code == 200, confirmed.text
    person = resident(city.app, username, candidate["subject"])
    accepted = person.post(
        f"/api/v1/programs/offers/{candidate['id']}/answer", json={"decision": "accept"}
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "granted", accepted.text


def run_detail(city: City, code: str) -> dict[str, Any]:
    with transaction(city.app.state.session_factory) as db:
        (leaf,) = db.scalars(
            select(LedgerEntry.leaf).where(
                LedgerEntry.action == "programs.campaign_run", LedgerEntry.grant == code
            )
        ).all()
    detail: dict[str, Any] = json.loads(leaf)["detail"]
    return detail


def made(response: Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_eligible_only_takes_the_eligible_less_those_already_granted(gappy: City) -> None:
    everyone = made(run(gappy.civil, ELDERLY))
    counts = everyone["counts"]
    assert counts["eligible"] > 2 and counts["undetermined"] > 2
    assert everyone["scope"] == "all" and everyone["limit"] is None
    assert everyone["funnel"]["found"] == counts["eligible"] + counts["undetermined"]
    eligible = [c for c in pending(gappy.civil, everyone["code"]) if c["outcome"] == "eligible"]
    grant(gappy, eligible[0], "elder-granted")

    only = made(run(gappy.civil, ELDERLY, scope="eligible"))
    assert only["scope"] == "eligible" and only["limit"] is None
    assert only["counts"] == counts  # the rule's counts over the whole city, not the scope's
    assert only["excluded"] == 1
    assert only["funnel"]["found"] == counts["eligible"] - 1
    found = candidates(gappy.civil, only["code"])
    assert len(found) == counts["eligible"] - 1
    assert {c["outcome"] for c in found} == {"eligible"}
    assert all(c["missing"] == [] and c["amount_fen"] > 0 for c in found)
    assert eligible[0]["subject"] not in {c["subject"] for c in found}
    assert {c["subject"] for c in found} == {c["subject"] for c in eligible[1:]}

    detail = run_detail(gappy, only["code"])
    assert detail["scope"] == "eligible" and detail["limit"] is None
    assert detail["candidates"] == counts["eligible"] - 1 and detail["excluded"] == 1
    assert gappy.civil.get(f"/api/v1/programs/campaigns/{only['code']}").json()["scope"] == (
        "eligible"
    )


def test_undetermined_only_takes_those_waiting_on_missing_inputs(gappy: City) -> None:
    counts = made(run(gappy.civil, ELDERLY))["counts"]
    waiting = made(run(gappy.civil, ELDERLY, scope="undetermined", limit=None))
    assert waiting["scope"] == "undetermined" and waiting["counts"] == counts
    found = candidates(gappy.civil, waiting["code"])
    assert len(found) == waiting["funnel"]["found"] == counts["undetermined"]
    assert {c["outcome"] for c in found} == {"undetermined"}
    assert all(c["missing"] == ["hukou_type"] and c["amount_fen"] is None for c in found)
    listed = gappy.civil.get("/api/v1/programs/campaigns").json()
    assert {c["code"]: c["scope"] for c in listed}[waiting["code"]] == "undetermined"


def test_a_limit_takes_the_lowest_keys(gappy: City) -> None:
    everyone = made(run(gappy.civil, ELDERLY))
    keys = sorted(c["subject"] for c in candidates(gappy.civil, everyone["code"]))
    eligible = sorted(
        c["subject"]
        for c in candidates(gappy.civil, everyone["code"])
        if c["outcome"] == "eligible"
    )
    assert len(keys) > 5 and keys != eligible

    five = made(run(gappy.civil, ELDERLY, limit=5))
    assert five["limit"] == 5 and five["scope"] == "all"
    assert five["counts"] == everyone["counts"] and five["funnel"]["found"] == 5
    got = candidates(gappy.civil, five["code"])
    assert [c["subject"] for c in got] == keys[:5]  # in key order, the lowest

    three = made(run(gappy.civil, ELDERLY, scope="eligible", limit=3))
    assert [c["subject"] for c in candidates(gappy.civil, three["code"])] == eligible[:3]
    assert run_detail(gappy, three["code"])["limit"] == 3

    # A limit above what the scope holds takes every one of them.
    plenty = made(run(gappy.civil, ELDERLY, scope="undetermined", limit=1_000_000))
    assert plenty["funnel"]["found"] == everyone["counts"]["undetermined"]


def test_those_already_granted_do_not_use_up_the_limit(city: City) -> None:
    first = made(run(city.civil, ELDERLY))
    found = pending(city.civil, first["code"])
    keys = sorted(c["subject"] for c in found)
    by_key = {c["subject"]: c for c in found}
    grant(city, by_key[keys[0]], "elder-lowest")
    grant(city, by_key[keys[5]], "elder-sixth")

    two = made(run(city.civil, ELDERLY, limit=2))
    assert [c["subject"] for c in candidates(city.civil, two["code"])] == keys[1:3]
    assert two["funnel"]["found"] == 2
    # Left out on the way to the two: the lowest; the sixth lay beyond them.
    assert two["excluded"] == 1

    five = made(run(city.civil, ELDERLY, limit=5))
    assert [c["subject"] for c in candidates(city.civil, five["code"])] == [
        keys[1],
        keys[2],
        keys[3],
        keys[4],
        keys[6],
    ]
    assert five["excluded"] == 2
    unlimited = made(run(city.civil, ELDERLY))
    assert unlimited["excluded"] == 2
    assert unlimited["funnel"]["found"] == len(keys) - 2


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"scope": "everyone"}, "scope"),
    ({"scope": ""}, "scope"),
    ({"scope": None}, "scope"),
    ({"scope": 1}, "scope"),
    ({"limit": 0}, "limit"),
    ({"limit": -1}, "limit"),
    ({"limit": 1_000_001}, "limit"),
    ({"limit": 10**30}, "limit"),
    ({"limit": 2.5}, "limit"),
    ({"limit": 2.0}, "limit"),
    ({"limit": "10"}, "limit"),
    ({"limit": True}, "limit"),
    ({"limit": [5]}, "limit"),
    ({"scope": "eligible", "limit": 0}, "limit"),
]


def no_campaigns(city: City) -> None:
    with transaction(city.app.state.session_factory) as db:
        assert db.scalar(select(func.count()).select_from(Campaign)) == 0
        runs = db.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.action == "programs.campaign_run")
        )
        assert runs == 0


def test_a_bad_scope_or_limit_is_refused_naming_the_field(city: City) -> None:
    for body, field in BAD_BODIES:
        refused = run(city.civil, ELDERLY, **body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        problem = refused.json()
        assert problem["type"] == "/problems/validation"
        assert problem["field"] == field, (body, problem)
        assert problem["reason"]
    no_campaigns(city)
    # The bounds themselves are allowed.
    assert made(run(city.civil, ELDERLY, limit=1))["funnel"]["found"] == 1
    assert made(run(city.civil, ELDERLY, limit=1_000_000))["limit"] == 1_000_000


def test_the_console_runs_a_scoped_campaign_and_its_page_shows_the_scope(gappy: City) -> None:
    civil = gappy.civil
    console = civil.get("/hrss/campaigns")
    assert console.status_code == 200
    assert '<select name="scope">' in console.text and 'name="limit"' in console.text
    for label in (
        "全部：符合条件与待补充信息",
        "仅符合条件（免申即享）",
        "仅待补充信息",
        "最多人数",
    ):
        assert label in console.text

    ran = post(
        civil,
        "/hrss/campaigns",
        {"rule": ELDERLY, "evaluated_on": "", "scope": "eligible", "limit": "3"},
    )
    location = result_of(gappy.app, ran)
    code = location.rsplit("/", 1)[-1]
    page = civil.get(location)
    assert page.status_code == 200, page.text
    assert 'id="scope" data-scope="eligible" data-limit="3"' in page.text
    assert "仅符合条件（免申即享）" in page.text and "最多 3 人" in page.text
    rows = re.findall(r'<tr data-id="\d+" data-status="pending">.*?</tr>', page.text)
    assert len(rows) == 3 and all('data-outcome="eligible"' in r for r in rows)
    # The figures stay the whole city's: the undetermined are counted, not taken.
    api = civil.get(f"/api/v1/programs/campaigns/{code}").json()
    assert api["scope"] == "eligible" and api["limit"] == 3
    undetermined = re.search(r'id="count-undetermined">(\d+)<', page.text)
    assert undetermined is not None
    assert int(undetermined.group(1)) == api["counts"]["undetermined"] > 0

    listed = civil.get("/hrss/campaigns").text
    assert re.search(rf'data-code="{code}">.*?data-scope="eligible"', listed)

    # Without a scope the form takes everyone, without a limit every one of them.
    ran = post(civil, "/hrss/campaigns", {"rule": ELDERLY, "evaluated_on": "", "limit": ""})
    page = civil.get(result_of(gappy.app, ran)).text
    assert 'data-scope="all" data-limit=""' in page and "人数不限" in page

    english = civil.get(f"/hrss/campaigns/{code}?lang=en").text
    assert "Eligible only (no application needed)" in english and "at most 3" in english


BAD_RUNS: list[tuple[dict[str, str], str]] = [
    ({"scope": "everyone"}, "scope"),
    ({"limit": "0"}, "limit"),
    ({"limit": "-3"}, "limit"),
    ({"limit": "1000001"}, "limit"),
    ({"limit": "1.5"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "9" * 5000}, "limit"),
]


def test_the_console_shows_a_bad_scope_or_limit_next_to_its_field(city: City) -> None:
    # One city for every case: each refusal must leave nothing behind for the next.
    for data, field in BAD_RUNS:
        form = {"rule": ELDERLY, "evaluated_on": "", **data}
        refused = post(city.civil, "/hrss/campaigns", form)
        assert refused.status_code == 422, (data, refused.text)
        assert f'<span class="field-error" data-field="{field}">' in refused.text, data
        assert 'role="alert"' in refused.text
        assert ("候选范围" if field == "scope" else "最多人数") in refused.text
        assert 'id="run-form"' in refused.text  # the form again, with what was typed
    no_campaigns(city)

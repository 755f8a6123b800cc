"""Numbers and dates out of range are refused as 422 problem+json naming the field, never a 500:
integers above 2^63 in paths, queries and bodies, a time whose offset overflows on conversion to
UTC, a campaign dated 9999-12-31 (issue 17). The shared types are in ``core.bounds``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shuhui.core.bounds import MAX_ID, Day, Id, Moment, day_in_window, id_from
from shuhui.core.errors import Problem
from tests.fixtures import as_user

BIG = 2**64
OVERFLOWING = "0001-01-01T00:00:00+23:59"
LATER = "2100-12-31T23:00:00+08:00"

# (who, method, path, query, body, the field the refusal names)
CASES: list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None, str]] = [
    (
        "officer",
        "GET",
        f"/api/v1/programs/candidates/{BIG}/explanation",
        None,
        None,
        "candidate_id",
    ),
    (
        "officer",
        "POST",
        f"/api/v1/programs/candidates/{BIG}/review",
        None,
        {"decision": "approve"},
        "candidate_id",
    ),
    ("citizen", "GET", f"/api/v1/programs/offers/{BIG}/explanation", None, None, "offer_id"),
    (
        "citizen",
        "POST",
        f"/api/v1/programs/offers/{BIG}/answer",
        None,
        {"decision": "accept"},
        "offer_id",
    ),
    (
        "operator",
        "POST",
        f"/api/v1/channel/memberships/{BIG}/review",
        None,
        {"decision": "approve"},
        "membership_id",
    ),
    ("admin", "GET", "/api/v1/ledger/entries", {"start": BIG, "end": BIG}, None, "start"),
    (
        "admin",
        "GET",
        "/api/v1/ledger/proof/inclusion",
        {"index": BIG, "tree_size": 1},
        None,
        "index",
    ),
    (
        "admin",
        "GET",
        "/api/v1/ledger/proof/consistency",
        {"first": 0, "second": BIG},
        None,
        "second",
    ),
    (
        "officer",
        "GET",
        "/api/v1/programs/campaigns/C1/candidates",
        {"offset": BIG},
        None,
        "offset",
    ),
    ("officer", "GET", "/api/v1/programs/campaigns/C1/candidates", {"limit": BIG}, None, "limit"),
    ("officer", "POST", "/api/v1/programs/campaigns/C1/confirm", None, {"ids": [BIG]}, "ids[0]"),
    (
        "officer",
        "POST",
        "/api/v1/programs/campaigns/C1/reject",
        None,
        {"ids": [1, BIG], "reason": "重复"},
        "ids[1]",
    ),
    (
        "officer",
        "POST",
        "/api/v1/programs/campaigns",
        None,
        {"rule": "start-up-subsidy", "evaluated_on": "9999-12-31"},
        "evaluated_on",
    ),
    (
        "citizen",
        "POST",
        "/api/v1/authorisations/mandates",
        None,
        {
            "agent": {"kind": "person", "id": "11010519491231002X", "name": "王五"},
            "scope": ["A"],
            "actions": ["apply"],
            "valid_to": OVERFLOWING,
        },
        "valid_to",
    ),
    (
        "citizen",
        "POST",
        "/api/v1/authorisations/cert-uses",
        None,
        {"valid_from": OVERFLOWING, "valid_to": LATER},
        "valid_from",
    ),
    (
        "admin",
        "POST",
        "/api/v1/seals",
        None,
        {
            "code": "QDXZSP-2026-0001",
            "name": "青岛市行政审批服务局行政审批专用章",
            "department": "青岛市行政审批服务局",
            "valid_from": OVERFLOWING,
        },
        "valid_from",
    ),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "query", "body", "field"),
    CASES,
    ids=[f"{c[1]} {c[2][:60]} {c[5]}" for c in CASES],
)
def test_out_of_range_is_a_problem_naming_the_field(
    app: FastAPI,
    who: str,
    method: str,
    path: str,
    query: dict[str, Any] | None,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    with as_user(app, who) as client:
        response = client.request(method, path, params=query, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert field in [e["field"] for e in problem["errors"]], problem


def test_a_campaign_dated_9999_is_refused_in_chinese(app: FastAPI) -> None:
    with as_user(app, "officer") as client:
        api = client.post(
            "/api/v1/programs/campaigns",
            json={"rule": "start-up-subsidy", "evaluated_on": "9999-12-31"},
        )
        page = client.post(
            "/hrss/campaigns",
            data={"rule": "start-up-subsidy", "evaluated_on": "9999-12-31"},
            headers={"accept": "text/html"},
        )
    assert api.status_code == 422
    assert api.json()["reason"].startswith("日期超出允许范围")
    assert page.status_code == 422
    assert "日期超出允许范围" in page.text


def test_the_bounds_are_in_the_openapi_document(app: FastAPI) -> None:
    document = app.openapi()
    explanation = document["paths"]["/api/v1/programs/candidates/{candidate_id}/explanation"]
    (parameter,) = explanation["get"]["parameters"]
    assert parameter["schema"]["maximum"] == MAX_ID
    assert parameter["schema"]["minimum"] == 1
    campaign = document["components"]["schemas"]["CampaignIn"]["properties"]["evaluated_on"]
    assert any(c.get("pattern", "").startswith("^(19") for c in campaign["anyOf"])


class Window(BaseModel):
    at: Moment
    on: Day
    id: Id


@given(
    year=st.integers(1, 9999),
    hours=st.integers(-23, 23),
    minutes=st.integers(0, 59),
)
def test_a_moment_is_in_the_window_or_refused_never_overflowing(
    year: int, hours: int, minutes: int
) -> None:
    sign = "-" if hours < 0 else "+"
    text = f"{year:04d}-01-01T00:00:00{sign}{abs(hours):02d}:{minutes:02d}"
    try:
        found = Window.model_validate({"at": text, "on": f"{year:04d}-06-30", "id": 1})
    except ValidationError as exc:
        assert not 1900 <= year <= 2100
        assert {e["loc"][0] for e in exc.errors()} == {"at", "on"}
    else:
        assert 1900 <= found.at.year <= 2100
        assert found.on.year == year


def test_form_ids_and_days_are_checked() -> None:
    assert id_from("ids", "12") == 12
    assert id_from("ids", str(MAX_ID)) == MAX_ID
    for raw in ("0", str(MAX_ID + 1), "-1", "١٢", "1e3"):
        with pytest.raises(Problem) as refused:
            id_from("ids", raw)
        assert refused.value.errors[0].field == "ids"
    assert day_in_window("on", date(2100, 12, 31)) == date(2100, 12, 31)
    with pytest.raises(Problem) as refused:
        day_in_window("on", date(9999, 12, 31))
    assert refused.value.errors[0].reason.startswith("日期超出允许范围")


@pytest.mark.parametrize("given", [0, 1_700_000_000, "0", "2026-01-01T00:00:00", "20260101"])
def test_a_day_is_written_as_a_date_not_a_number_or_a_moment(given: object) -> None:
    class Query(BaseModel):
        since: Day

    with pytest.raises(ValidationError):
        Query.model_validate({"since": given})
    assert Query.model_validate({"since": "2026-01-01"}).since == date(2026, 1, 1)
    assert Query.model_validate({"since": date(2026, 1, 1)}).since == date(2026, 1, 1)

"""NGSI-LD (ETSI GS CIM 009): the supported subset of docs/ngsi-ld.md, and its refusals."""

from __future__ import annotations

import string
from datetime import date

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from shuhui.monitor.registry import ngsi
from tests.fixtures import as_user

URL = "/ngsi-ld/v1/entities"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


def problem(answer: object, status: int, kind: str) -> None:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    assert answer.json()["type"] == ERRORS + kind  # type: ignore[attr-defined]


def test_query_by_type_normalized_with_link(city_app: FastAPI) -> None:
    client = as_user(city_app, "ndrc")
    answer = client.get(URL, params={"type": "Device", "limit": 3, "count": "true"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in answer.headers["link"]
    assert "/static/ngsi-ld/shuhui-context.json" in answer.headers["link"]
    total = int(answer.headers["NGSILD-Results-Count"])
    entities = answer.json()
    assert len(entities) == 3 and total > 3
    first = entities[0]
    assert first["id"].startswith("urn:ngsi-ld:Device:SNS-") and first["type"] == "Device"
    assert first["sensorType"]["type"] == "Property"
    assert first["location"]["type"] == "GeoProperty"
    assert first["location"]["value"]["type"] == "Point"
    assert first["dateCommissioned"]["value"]["@type"] == "Date"
    assert "@context" not in first
    # The context it points to is served.
    assert client.get("/static/ngsi-ld/shuhui-context.json").status_code == 200


def test_ld_json_carries_the_context_inline(city_app: FastAPI) -> None:
    client = as_user(city_app, "ndrc")
    answer = client.get(
        URL,
        params={"type": "FiveGBaseStation", "limit": 1},
        headers={"Accept": "application/ld+json"},
    )
    assert answer.headers["content-type"].startswith("application/ld+json")
    assert "link" not in answer.headers
    assert ngsi.CORE_CONTEXT in answer.json()[0]["@context"]


def test_key_values_attrs_and_one_entity(city_app: FastAPI) -> None:
    client = as_user(city_app, "ndrc")
    found = client.get(
        URL,
        params={
            "type": "PonPortGroup",
            "attrs": "capacity,operator",
            "options": "keyValues",
            "limit": 2,
        },
    ).json()
    assert set(found[0]) == {"id", "type", "capacity", "operator"}
    assert found[0]["capacity"] in (8, 16)
    one = client.get(f"{URL}/{found[0]['id']}", params={"options": "keyValues"}).json()
    assert one["id"] == found[0]["id"] and one["location"]["type"] == "Point"
    by_id = client.get(URL, params={"id": found[0]["id"] + "," + found[1]["id"]}).json()
    assert [e["id"] for e in by_id] == sorted([found[0]["id"], found[1]["id"]])


def test_q_and_id_pattern(city_app: FastAPI) -> None:
    client = as_user(city_app, "ndrc")
    q = (
        'districtCode=="370211";status=="在用";'
        'dateCommissioned>2023-01-01;dateCommissioned<"2024-01-01"'
    )
    found = client.get(
        URL, params={"type": "EVChargingStation", "q": q, "options": "keyValues", "limit": 1000}
    ).json()
    assert found
    for e in found:
        assert e["districtCode"] == "370211" and e["status"] == "在用"
        assert date(2023, 1, 1) < date.fromisoformat(e["dateCommissioned"]) < date(2024, 1, 1)
    racks = client.get(
        URL, params={"q": "capacity>=300", "options": "keyValues", "limit": 1000}
    ).json()
    assert racks and all(e["capacity"] >= 300 and e["type"] == "DataCentreRackGroup" for e in racks)
    listed = client.get(
        URL,
        params={
            "type": "FiveGBaseStation",
            "q": 'operator=="中国广电","中国联通"',
            "options": "keyValues",
        },
    ).json()
    assert listed and {e["operator"] for e in listed} <= {"中国广电", "中国联通"}
    ranged = client.get(URL, params={"q": "capacity==100..150", "options": "keyValues"}).json()
    assert all(100 <= e["capacity"] <= 150 for e in ranged)
    pattern = client.get(
        URL, params={"idPattern": "urn:ngsi-ld:Device:SNS-370212-.*", "count": "true", "limit": 0}
    )
    assert pattern.json() == [] and int(pattern.headers["NGSILD-Results-Count"]) > 0
    mismatched = client.get(URL, params={"q": 'capacity=="many"'})
    assert mismatched.status_code == 200 and mismatched.json() == []


def test_types(city_app: FastAPI) -> None:
    client = as_user(city_app, "ndrc")
    listed = client.get("/ngsi-ld/v1/types").json()
    assert listed["type"] == "EntityTypeList"
    assert set(listed["typeList"]) == {
        "FiveGBaseStation", "PonPortGroup", "DataCentreRackGroup", "EVChargingStation",
        "SmartPole", "TrafficSignal", "Device",
    }  # fmt: skip
    details = client.get("/ngsi-ld/v1/types", params={"details": "true"}).json()
    assert all(d["type"] == "EntityType" and "location" in d["attributeNames"] for d in details)


@pytest.mark.parametrize(
    ("params", "status", "kind"),
    [
        ({}, 400, "BadRequestData"),
        ({"type": "Device", "limit": "1001"}, 400, "BadRequestData"),
        ({"type": "Device", "limit": "-1"}, 400, "BadRequestData"),
        ({"type": "Device", "offset": "x"}, 400, "BadRequestData"),
        ({"q": "status=在用"}, 400, "BadRequestData"),
        ({"q": 'status=="在用"|status=="停用"'}, 400, "BadRequestData"),
        ({"q": "a" * 1001}, 400, "BadRequestData"),
        ({"q": 'name=="unterminated'}, 400, "BadRequestData"),
        ({"idPattern": "(unclosed"}, 400, "BadRequestData"),
        ({"id": "not a uri"}, 400, "BadRequestData"),
        ({"type": "Device", "options": "everything"}, 400, "BadRequestData"),
        ({"type": "Device", "count": "maybe"}, 400, "BadRequestData"),
    ],
)
def test_bad_input_is_a_problem(
    city_app: FastAPI, params: dict[str, str], status: int, kind: str
) -> None:
    problem(as_user(city_app, "ndrc").get(URL, params=params), status, kind)


def test_not_found_and_not_acceptable(city_app: FastAPI) -> None:
    client = as_user(city_app, "ndrc")
    problem(client.get(f"{URL}/urn:ngsi-ld:Device:SNS-370211-999999"), 404, "ResourceNotFound")
    problem(client.get(f"{URL}/urn:example:other"), 404, "ResourceNotFound")
    problem(client.get(f"{URL}/plainly-not-a-uri"), 400, "BadRequestData")
    problem(
        client.get(URL, params={"type": "Device"}, headers={"Accept": "text/html"}),
        406,
        "NotAcceptable",
    )
    assert as_user(city_app, "citizen").get(URL, params={"type": "Device"}).status_code == 403


# --- the q parser ------------------------------------------------------------------------------

attrs = st.sampled_from([*ngsi.ATTRIBUTES, "other_attr"])
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
numbers = st.integers(-(10**6), 10**6).map(float) | st.floats(
    -1e6, 1e6, allow_nan=False, allow_infinity=False
).map(lambda f: float(repr(f)))
dates = st.dates(date(1990, 1, 1), date(2100, 12, 31))
scalars = texts | numbers | dates


@st.composite
def terms(draw: st.DrawFn) -> ngsi.Term:
    op = draw(st.sampled_from(ngsi.OPERATORS))
    if op == "==" and draw(st.booleans()):
        low = draw(numbers | dates)
        high = draw(numbers if isinstance(low, float) else dates)
        return ngsi.Term(draw(attrs), op, (low,), high)
    count = draw(st.integers(1, 3)) if op in ("==", "!=") else 1
    values = tuple(draw(scalars) for _ in range(count))
    # A string that looks like a date reads back as the date, as the standard's grammar has it.
    values = tuple(
        date.fromisoformat(v) if isinstance(v, str) and ngsi._DATE.fullmatch(v) and _valid(v) else v
        for v in values
    )
    return ngsi.Term(draw(attrs), op, values)


def _valid(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@given(st.lists(terms(), min_size=1, max_size=4))
def test_q_round_trips(parsed: list[ngsi.Term]) -> None:
    assert ngsi.parse_q(ngsi.render_q(parsed)) == parsed


@given(st.text(alphabet=string.printable + "在用“”", max_size=80))
def test_q_refuses_cleanly(text: str) -> None:
    try:
        found = ngsi.parse_q(text)
    except ngsi.NgsiError as error:
        assert error.status == 400 and error.kind == "BadRequestData"
    else:
        params: dict[str, object] = {}
        for term in found:
            assert ngsi.term_sql(term, params)

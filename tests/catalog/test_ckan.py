"""The CKAN Action API, read by the real ``ckanapi`` client (and its command line) from a real
HTTP server running the test app."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckanapi
import pytest
import requests
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shuhui.catalog import search
from shuhui.catalog.service import RESOURCE_NAMESPACE
from shuhui.standard import TABLES

PERSONAL = {"legal_rep_citizen_id", "legal_rep_name"}


def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """The app behind uvicorn on a free loopback port, for as long as the block runs."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def site(catalogued: FastAPI) -> Iterator[str]:
    yield from serve_in_thread(catalogued)


@pytest.fixture
def scaled_site(scaled: FastAPI) -> Iterator[str]:
    yield from serve_in_thread(scaled)


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback, whatever the proxy settings say
    return session


def remote_for(url: str, *, get_only: bool = False) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(url, get_only=get_only, session=http())


@pytest.fixture
def ckan(site: str) -> Iterator[ckanapi.RemoteCKAN]:
    with remote_for(site) as remote:
        yield remote


def resource_id(dataset: str, kind: str) -> str:
    return str(uuid.uuid5(RESOURCE_NAMESPACE, f"{dataset}/{kind}"))


def names(result: dict[str, Any]) -> set[str]:
    return {p["name"] for p in result["results"]}


def extras(package: dict[str, Any]) -> dict[str, str]:
    return {e["key"]: e["value"] for e in package["extras"]}


# --- package_search ---------------------------------------------------------------------------


def test_package_search_finds_the_social_insurance_datasets(ckan: ckanapi.RemoteCKAN) -> None:
    found = ckan.action.package_search(q="社保", rows=100)
    assert {"insurance_enrolments", "insurance_contributions"} <= names(found)
    assert "transit_trips" not in names(found)
    assert found["count"] == len(found["results"])
    assert found["sort"] == "score desc, metadata_modified desc"
    assert found["facets"] == {} and found["search_facets"] == {}

    package = next(p for p in found["results"] if p["name"] == "insurance_enrolments")
    assert package["title"] == "社会保险参保登记"
    assert package["type"] == "dataset" and package["state"] == "active"
    assert uuid.UUID(package["id"])
    assert package["notes"]
    assert package["organization"]["name"].startswith("org-")
    assert package["organization"]["title"] == "青岛市人力资源和社会保障局"
    assert package["owner_org"] == package["organization"]["id"]
    assert [g["name"] for g in package["groups"]] == ["04"]
    assert package["groups"][0]["display_name"] == "社会保障"
    assert "社会保险" in [t["name"] for t in package["tags"]]
    assert package["num_tags"] == len(package["tags"])
    assert package["num_resources"] == len(package["resources"]) == 1
    assert package["license_id"] == "other-closed" and package["isopen"] is False
    assert package["metadata_created"] <= package["metadata_modified"]
    resource = package["resources"][0]
    assert resource["package_id"] == package["id"]
    assert resource["url"].startswith(ckan.address + "/catalog/datasets/insurance_enrolments")
    assert resource["format"] == "API" and resource["datastore_active"] is False
    governance = extras(package)
    assert governance["share_type"] == "conditional"
    assert governance["open_level"] == "closed" and governance["open_level_title"] == "不予开放"
    assert governance["frequency"] == "DAILY"
    items = json.loads(governance["data_items"])
    assert any(i["name"] == "citizen_id" and i["personal"] for i in items)
    assert all(isinstance(e["value"], str) for e in package["extras"])


def test_facets_count_what_the_filters_find(ckan: ckanapi.RemoteCKAN) -> None:
    facets = ["organization", "groups", "open_level", "res_format", "tags"]
    everything = ckan.call_action("package_search", {"rows": 0, "facet.field": facets})
    assert everything["count"] == len(TABLES)
    assert everything["results"] == []
    for field in facets:
        counts = everything["facets"][field]
        block = everything["search_facets"][field]
        assert block["title"] == field
        assert {i["name"]: i["count"] for i in block["items"]} == counts
        assert [i["count"] for i in block["items"]] == sorted(counts.values(), reverse=True)
        for value, count in counts.items():
            filtered = ckan.action.package_search(fq=f'{field}:"{value}"', rows=0)
            assert filtered["count"] == count, (field, value)
    assert sum(everything["facets"]["groups"].values()) == everything["count"]
    groups = {i["name"]: i["display_name"] for i in everything["search_facets"]["groups"]["items"]}
    assert groups["04"] == "社会保障"
    levels = {
        i["name"]: i["display_name"] for i in everything["search_facets"]["open_level"]["items"]
    }
    assert levels["open"] == "无条件开放"
    titles = {o["name"]: o["title"] for o in ckan.action.organization_list(all_fields=True)}
    for item in everything["search_facets"]["organization"]["items"]:
        assert item["display_name"] == titles[item["name"]]
    # facet.limit, and facet.field as CKAN's GET takes it: JSON text.
    limited = ckan.call_action(
        "package_search", {"rows": 0, "facet.field": json.dumps(["tags"]), "facet.limit": 2}
    )
    assert len(limited["facets"]["tags"]) == 2


def test_get_and_post_agree_and_both_pass_the_app_dependencies(site: str) -> None:
    with remote_for(site, get_only=True) as by_get, remote_for(site) as by_post:
        query = {"q": "企业", "fq": "open_level:open", "rows": 5, "facet.field": ["groups"]}
        assert by_get.call_action("package_search", query) == by_post.call_action(
            "package_search", query
        )
    # A form post is something a browser can forge: it needs the CSRF token like any other.
    refused = http().post(f"{site}/api/3/action/package_search", data={"q": "企业"})
    assert refused.status_code == 403
    assert refused.json()["type"] == "/problems/csrf"


def test_filters_sorts_and_pages(scaled_site: str) -> None:
    with remote_for(scaled_site) as ckan:
        opened = ckan.action.package_search(fq="open_level:open", rows=50)
        assert opened["count"] > 50
        assert all(extras(p)["open_level"] == "open" for p in opened["results"])
        assert all(p["isopen"] for p in opened["results"])
        both = ckan.action.package_search(fq='open_level:open groups:"04"', rows=1000)
        assert 0 < both["count"] < opened["count"]
        assert all(p["groups"][0]["name"] == "04" for p in both["results"])

        first = ckan.action.package_search(sort="name asc", rows=10)
        second = ckan.action.package_search(sort="name asc", rows=10, start=10)
        twenty = ckan.action.package_search(sort="name asc", rows=20)
        assert [p["name"] for p in first["results"] + second["results"]] == [
            p["name"] for p in twenty["results"]
        ]
        assert [p["name"] for p in twenty["results"]] == sorted(
            p["name"] for p in twenty["results"]
        )
        newest = ckan.action.package_search(sort="metadata_modified desc", rows=100)["results"]
        stamps = [p["metadata_modified"] for p in newest]
        assert stamps == sorted(stamps, reverse=True)
        # CKAN caps rows at 1000.
        assert len(ckan.action.package_search(rows=5000)["results"]) == 1000
        beyond = ckan.action.package_search(rows=10, start=10**9)
        assert beyond["results"] == [] and beyond["count"] > 2000


# --- single objects ---------------------------------------------------------------------------


def test_package_show_by_name_and_by_id(ckan: ckanapi.RemoteCKAN) -> None:
    by_name = ckan.action.package_show(id="enterprises")
    assert ckan.action.package_show(id=by_name["id"]) == by_name
    from_search = ckan.action.package_search(fq="name:enterprises")["results"]
    assert from_search == [by_name]
    assert by_name["isopen"] is True and by_name["license_id"] == "other-open"
    assert {r["format"] for r in by_name["resources"]} == {"CSV", "JSON"}
    assert all(r["datastore_active"] for r in by_name["resources"])
    assert extras(by_name)["open_condition"].startswith("个人信息字段")
    for missing in ("no-such-dataset", str(uuid.uuid4()), "Not A Name!"):
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id=missing)


def test_resource_organization_group_and_tag_actions(ckan: ckanapi.RemoteCKAN) -> None:
    rid = resource_id("enterprises", "datastore")
    resource = ckan.action.resource_show(id=rid)
    assert resource["id"] == rid and resource["format"] == "JSON"
    assert resource["mimetype"] == "application/json"
    assert resource["package_id"] == ckan.action.package_show(id="enterprises")["id"]
    with pytest.raises(ckanapi.NotFound):
        ckan.action.resource_show(id=str(uuid.uuid4()))

    orgs = ckan.action.organization_list(all_fields=True)
    assert [o["name"] for o in orgs] == sorted(ckan.action.organization_list())
    hrss = next(o for o in orgs if o["title"] == "青岛市人力资源和社会保障局")
    shown = ckan.action.organization_show(id=hrss["name"], include_datasets=True)
    assert shown["package_count"] == hrss["package_count"] == len(shown["packages"])
    assert ckan.action.organization_show(id=hrss["id"])["name"] == hrss["name"]
    facet = ckan.call_action("package_search", {"rows": 0, "facet.field": ["organization"]})
    assert facet["facets"]["organization"][hrss["name"]] == hrss["package_count"]
    with pytest.raises(ckanapi.NotFound):
        ckan.action.organization_show(id="org-nobody")

    groups = ckan.action.group_list(all_fields=True)
    assert [g["name"] for g in groups] == [f"{n:02d}" for n in range(1, 21)]
    social = next(g for g in groups if g["name"] == "04")
    assert social["display_name"] == "社会保障" and social["package_count"] >= 4
    assert sum(g["package_count"] for g in groups) == len(TABLES)
    assert ckan.action.group_list() == [g["name"] for g in groups]
    assert ckan.action.group_show(id="04")["package_count"] == social["package_count"]

    tags = ckan.action.tag_list()
    assert "社会保险" in tags and tags == sorted(tags)
    assert set(ckan.action.tag_list(query="保险")) <= {t for t in tags if "保险" in t}
    assert ckan.action.tag_list(query="保险", all_fields=True)[0]["name"]

    listed = ckan.action.package_list()
    assert listed == sorted(t.name for t in TABLES)
    assert ckan.action.package_list(limit=3, offset=2) == listed[2:5]
    assert ckan.action.status_show()["api_version"] == 3
    assert "package_search" in ckan.action.help_show(name="package_search")


# --- the datastore ----------------------------------------------------------------------------


def test_datastore_search_serves_open_data_without_personal_fields(
    ckan: ckanapi.RemoteCKAN, catalogued: FastAPI
) -> None:
    rid = resource_id("enterprises", "datastore")
    rows = catalogued.state.datacore.table("enterprises").rows
    page = ckan.action.datastore_search(resource_id=rid, limit=25)
    assert page["total"] == rows and len(page["records"]) == 25
    ids = [f["id"] for f in page["fields"]]
    assert "credit_code" in ids and "name" in ids and not PERSONAL & set(ids)
    assert {f["id"]: f["type"] for f in page["fields"]}["registered_capital_fen"] == "int8"
    assert {f["id"]: f["type"] for f in page["fields"]}["established_date"] == "date"
    for record in page["records"]:
        assert set(record) == set(ids)
    assert page["_links"]["next"].startswith("/api/3/action/datastore_search?")
    # Pages follow each other in key order.
    following = ckan.action.datastore_search(resource_id=rid, limit=25, offset=25)
    both = ckan.action.datastore_search(resource_id=rid, limit=50)
    assert page["records"] + following["records"] == both["records"]

    district = page["records"][0]["district_code"]
    filtered = ckan.action.datastore_search(
        resource_id=rid, filters={"district_code": district}, limit=1000
    )
    assert filtered["total"] == len(filtered["records"]) > 0
    assert {r["district_code"] for r in filtered["records"]} == {district}
    several = ckan.action.datastore_search(
        resource_id=rid, filters=json.dumps({"district_code": [district, "370212"]}), limit=0
    )
    assert several["total"] >= filtered["total"] and several["records"] == []

    name = page["records"][3]["name"]
    assert name in {
        r["name"] for r in ckan.action.datastore_search(resource_id=rid, q=name)["records"]
    }
    by_field = ckan.action.datastore_search(resource_id=rid, q={"name": name})
    assert all(name.lower() in r["name"].lower() for r in by_field["records"])

    ordered = ckan.action.datastore_search(
        resource_id=rid,
        sort="registered_capital_fen desc",
        fields=["credit_code", "registered_capital_fen"],
    )
    capitals = [r["registered_capital_fen"] for r in ordered["records"]]
    assert capitals == sorted(capitals, reverse=True)
    assert [f["id"] for f in ordered["fields"]] == ["credit_code", "registered_capital_fen"]

    lists = ckan.action.datastore_search(
        resource_id=rid, fields="credit_code,name", records_format="lists", limit=3
    )
    assert lists["records"] == [[r["credit_code"], r["name"]] for r in page["records"][:3]]
    text = ckan.action.datastore_search(
        resource_id=rid, fields=["credit_code"], records_format="csv", limit=3
    )
    assert text["records"].splitlines() == [r["credit_code"] for r in page["records"][:3]]
    assert "total" not in ckan.action.datastore_search(resource_id=rid, include_total=False)

    # The CSV download resource names the same table.
    assert (
        ckan.action.datastore_search(resource_id=resource_id("enterprises", "csv"), limit=1)[
            "total"
        ]
        == rows
    )


def test_personal_fields_cannot_be_read_filtered_or_sorted(ckan: ckanapi.RemoteCKAN) -> None:
    rid = resource_id("enterprises", "datastore")
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("fields", {"fields": ["credit_code", "legal_rep_name"]}),
        ("filters", {"filters": {"legal_rep_citizen_id": "370202199001011234"}}),
        ("sort", {"sort": "legal_rep_name asc"}),
        ("q", {"q": {"legal_rep_name": "张"}}),
    ]
    for field, params in attempts:
        with pytest.raises(ckanapi.ValidationError) as refused:
            ckan.call_action("datastore_search", {"resource_id": rid, **params})
        assert field in refused.value.error_dict, params
        assert "个人信息" in refused.value.error_dict[field][0]


def test_datastore_refuses_data_that_is_not_open(site: str, ckan: ckanapi.RemoteCKAN) -> None:
    for dataset, kind in (("residents", "channel"), ("enterprise_tax", "channel")):
        with pytest.raises(ckanapi.NotAuthorized):
            ckan.action.datastore_search(resource_id=resource_id(dataset, kind))
        raw = http().get(
            f"{site}/api/3/action/datastore_search",
            params={"resource_id": resource_id(dataset, kind)},
        )
        assert raw.status_code == 403
        body = raw.json()
        assert body["success"] is False
        assert body["error"]["__type"] == "Authorization Error"
        assert body["help"].endswith("/api/3/action/help_show?name=datastore_search")
        assert "records" not in raw.text
    with pytest.raises(ckanapi.NotFound):
        ckan.action.datastore_search(resource_id=str(uuid.uuid4()))


# --- errors -----------------------------------------------------------------------------------


BAD_PARAMETERS: list[tuple[str, dict[str, Any], str]] = [
    ("package_search", {"rows": -1}, "rows"),
    ("package_search", {"rows": "ten"}, "rows"),
    ("package_search", {"start": 1.5}, "start"),
    ("package_search", {"sort": "popularity desc"}, "sort"),
    ("package_search", {"fq": "colour:red"}, "fq"),
    ("package_search", {"fq": "(broken"}, "fq"),
    ("package_search", {"facet.field": ["colour"]}, "facet.field"),
    ("package_search", {"facet.field": "[not json"}, "facet.field"),
    ("package_search", {"facet": "maybe"}, "facet"),
    ("package_show", {}, "id"),
    ("package_list", {"limit": -5}, "limit"),
    ("organization_list", {"sort": "colour asc"}, "sort"),
    ("datastore_search", {}, "resource_id"),
    ("datastore_search", {"resource_id": "x", "limit": "many"}, "limit"),
    ("datastore_search", {"resource_id": "x", "filters": "[1]"}, "filters"),
    ("datastore_search", {"resource_id": "x", "records_format": "xml"}, "records_format"),
]


def test_bad_parameters_are_validation_errors_naming_the_field(
    site: str, ckan: ckanapi.RemoteCKAN
) -> None:
    for action, params, field in BAD_PARAMETERS:
        with pytest.raises(ckanapi.ValidationError) as refused:
            ckan.call_action(action, params)
        assert field in refused.value.error_dict, (action, params)
        assert refused.value.error_dict["__type"] == "Validation Error"
        raw = http().post(f"{site}/api/3/action/{action}", json=params)
        assert raw.status_code == 409
        body = raw.json()
        assert body["success"] is False and body["error"][field]
        # The same body is a problem document too.
        assert raw.headers["content-type"].startswith("application/problem+json")
        assert body["status"] == 409 and body["type"] == "/problems/validation"
        assert body["field"] == field
    # Every field at fault is named at once, as CKAN does.
    with pytest.raises(ckanapi.ValidationError) as refused:
        ckan.call_action("package_search", {"rows": -1, "start": "x", "facet": "maybe"})
    assert {"rows", "start", "facet"} <= set(refused.value.error_dict)


def test_bad_datastore_values_name_the_field(ckan: ckanapi.RemoteCKAN) -> None:
    rid = resource_id("enterprises", "datastore")
    for params, field in (
        ({"filters": {"registered_capital_fen": "lots"}}, "filters"),
        ({"filters": {"established_date": "yesterday"}}, "filters"),
        ({"filters": {"colour": "red"}}, "filters"),
        ({"fields": ["colour"]}, "fields"),
        ({"sort": "name sideways"}, "sort"),
    ):
        with pytest.raises(ckanapi.ValidationError) as refused:
            ckan.call_action("datastore_search", {"resource_id": rid, **params})
        assert field in refused.value.error_dict, params


def test_requests_ckan_cannot_read_are_bad_requests(site: str) -> None:
    broken = http().post(
        f"{site}/api/3/action/package_search",
        data=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["message"].startswith("Bad request - JSON Error")
    listed = http().post(f"{site}/api/3/action/package_search", json=[1, 2])
    assert listed.status_code == 400
    unknown = http().get(f"{site}/api/3/action/package_create")
    assert unknown.status_code == 400
    assert "Action name not known" in unknown.json()["error"]["message"]
    assert http().get(f"{site}/api/3").json() == {"version": 3}


# --- the ckanapi command line -----------------------------------------------------------------


def test_the_ckanapi_command_line_searches_the_catalog(site: str) -> None:
    command = Path(sys.executable).with_name("ckanapi")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    done = subprocess.run(
        [str(command), "action", "package_search", "q=社保", "-r", site],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"insurance_enrolments", "insurance_contributions"} <= names(result)


def test_search_through_the_api_matches_the_index(
    catalogued: FastAPI, ckan: ckanapi.RemoteCKAN
) -> None:
    with catalogued.state.session_factory() as db:
        index = search.SearchIndex.build(db, catalogued.state.city_catalog.synonyms)
    expected = index.search(search.Query(q="养老", rows=100))
    found = ckan.action.package_search(q="养老", rows=100)
    assert found["count"] == expected.count
    assert [p["name"] for p in found["results"]] == [
        index.names[list(index.ids).index(i)] for i in expected.dataset_ids
    ]


# --- fuzzing with a catalogued city: tests/test_api_fuzz.py (the public role, every check) -----


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELD_NAMES = st.sampled_from(
    [
        "credit_code",
        "name",
        "registered_capital_fen",
        "established_date",
        "status",
        "legal_rep_name",
    ]
) | st.text(max_size=10)


@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "filters": st.dictionaries(FIELD_NAMES, JSONISH, max_size=3) | JSONISH,
            "q": st.text(max_size=10) | st.dictionaries(FIELD_NAMES, JSONISH, max_size=2),
            "fields": st.lists(FIELD_NAMES, max_size=3) | st.text(max_size=20),
            "sort": st.text(max_size=20) | FIELD_NAMES.map(lambda f: f + " desc"),
            "limit": JSONISH,
            "offset": JSONISH,
            "distinct": JSONISH,
            "records_format": st.sampled_from(["objects", "lists", "csv", "tsv"]) | JSONISH,
        },
    )
)
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_datastore_search_answers_any_parameters_without_failing(
    client_of_catalogued: TestClient, params: dict[str, Any]
) -> None:
    body = {"resource_id": resource_id("enterprises", "datastore"), **params}
    # json.dumps writes NaN and Infinity as Python's json.loads reads them, so those come too.
    response = client_of_catalogued.post(
        "/api/3/action/datastore_search",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )
    assert response.status_code in (200, 409), response.text
    answer = json.loads(response.text, parse_constant=strict_json_has_no)
    if response.status_code == 200:
        assert not PERSONAL & {f["id"] for f in answer["result"]["fields"]}
    else:
        assert answer["error"]["__type"] == "Validation Error"


def strict_json_has_no(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


@pytest.fixture
def client_of_catalogued(catalogued: FastAPI) -> Iterator[TestClient]:
    with TestClient(catalogued, raise_server_exceptions=False) as client:
        yield client


def test_a_search_answer_is_kept_for_its_revision_only(catalogued: FastAPI) -> None:
    from sqlalchemy import update

    from shuhui.catalog import service
    from shuhui.catalog.ckan.context import PackageCache
    from shuhui.catalog.models import Dataset
    from shuhui.core.db import transaction

    catalogued.state.ckan_packages = PackageCache(max_age=0.2)
    path = "/api/3/action/package_search?q=enterprises&rows=1"

    def first_title(client: TestClient) -> str:
        answer = client.get(path)
        assert answer.status_code == 200
        return str(answer.json()["result"]["results"][0]["title"])

    def retitle(title: str, *, bump: bool) -> None:
        with transaction(catalogued.state.session_factory) as db:
            db.execute(update(Dataset).where(Dataset.name == name).values(title=title))
            if bump:
                service.bump(db)

    with TestClient(catalogued) as client:
        name = client.get(path).json()["result"]["results"][0]["name"]
        before = first_title(client)
        # Edited behind the catalog's back (no new revision): the kept answer stands.
        retitle("改过的标题", bump=False)
        assert first_title(client) == before
        # A new revision: within twice the confirmation interval, searches show it.
        retitle("改过的标题", bump=True)
        time.sleep(0.45)
        assert first_title(client) == "改过的标题"
        # A different query string is a different answer, computed afresh.
        other = client.get(path + "&start=0")
        assert other.json()["result"]["results"][0]["title"] == "改过的标题"

"""The registry's API and pages end to end, as the planner and others see them."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures import as_user


def test_indicators_and_progress(city_app: FastAPI) -> None:
    planner = as_user(city_app, "ndrc")
    answer = planner.get("/api/v1/monitor/infrastructure/indicators")
    assert answer.status_code == 200
    found = {i["code"]: i for i in answer.json()}
    assert {"5g-stations", "5g-village-coverage", "dc-racks", "ev-chargers"} <= set(found)
    assert found["5g-stations"]["target"]["year"] == 2026
    one = planner.get(
        "/api/v1/monitor/infrastructure/progress/5g-stations",
        params={"start": "2022-01", "end": "2023-12", "year": "2023"},
    ).json()
    assert one["months"][0] == "2022-01" and one["months"][-1] == "2023-12"
    assert len(one["city_series"]) == 24
    assert one["target"] == {
        "year": 2023,
        "value": 33500.0,
        "inferred": False,
        "basis": "3万个＋年内新增3500个",
    }
    assert one["as_of"] == "2023-12-31"
    assert len(one["districts"]) == 10 and set(one["district_series"]) == {
        d["code"] for d in one["districts"]
    }
    assert one["value"] == sum(d["value"] for d in one["districts"])


def test_progress_refusals(city_app: FastAPI) -> None:
    planner = as_user(city_app, "ndrc")
    base = "/api/v1/monitor/infrastructure/progress"
    missing = planner.get(f"{base}/no-such")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    for params in ({"start": "2023-13"}, {"year": "1800"}, {"start": "2024-05", "end": "2023-01"},
                   {"start": "2000-01", "end": "2023-01"}):  # fmt: skip
        answer = planner.get(f"{base}/5g-stations", params=params)
        assert answer.status_code == 422, params
        assert answer.json()["errors"], params


def test_assets_filter_and_page(city_app: FastAPI) -> None:
    planner = as_user(city_app, "ndrc")
    url = "/api/v1/monitor/infrastructure/assets"
    page = planner.get(url, params={"type": "sensor", "district": "370211", "limit": 5}).json()
    assert page["total"] > 5 and len(page["items"]) == 5
    assert all(
        a["asset_type"] == "sensor" and a["district_code"] == "370211" for a in page["items"]
    )
    after = planner.get(
        url, params={"type": "sensor", "district": "370211", "limit": 5, "offset": 5}
    ).json()
    assert {a["asset_id"] for a in after["items"]}.isdisjoint(a["asset_id"] for a in page["items"])
    box = planner.get(
        url, params={"west": 120.3, "south": 36.0, "east": 120.45, "north": 36.12}
    ).json()
    assert box["total"] > 0
    assert all(120.3 <= a["lon"] <= 120.45 and 36.0 <= a["lat"] <= 36.12 for a in box["items"])
    one = page["items"][0]
    assert planner.get(f"{url}/{one['asset_id']}").json() == one
    assert planner.get(f"{url}/SNS-370211-999999").status_code == 404
    for params in ({"type": "rocket"}, {"limit": 501}, {"district": "110101"}, {"west": 120},
                   {"status": "坏了"}, {"text": "x" * 65}, {"unknown": "1"}):  # fmt: skip
        answer = planner.get(url, params=params)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_who_may_read(city_app: FastAPI) -> None:
    for username in ("ndrc", "officer", "duty"):
        assert (
            as_user(city_app, username).get("/api/v1/monitor/infrastructure/indicators").status_code
            == 200
        )
    assert (
        as_user(city_app, "citizen").get("/api/v1/monitor/infrastructure/indicators").status_code
        == 403
    )
    assert TestClient(city_app).get("/api/v1/monitor/infrastructure/indicators").status_code == 401


def test_pages(city_app: FastAPI) -> None:
    planner = as_user(city_app, "ndrc")
    page = planner.get("/monitor/infrastructure?indicator=5g-village-coverage")
    assert page.status_code == 200
    text = page.text
    assert "数字基础设施建设进展" in text and "5G信号覆盖行政村比例" in text
    assert 'id="district-map"' in text and "/static/maps/qingdao.json" in text
    assert "黄岛区" in text and "覆盖80%以上行政村" in text
    listing = planner.get("/monitor/infrastructure/assets?type=dc-rack-group")
    assert listing.status_code == 200
    assert "数据中心机架组" in listing.text and "标准机架" in listing.text
    refused = planner.get("/monitor/infrastructure/assets?limit=9999")
    assert refused.status_code == 422 and 'id="form-error"' in refused.text
    geo = planner.get("/static/maps/qingdao.json").json()
    assert {f["properties"]["adcode"] for f in geo["features"]} == {
        "370202", "370203", "370211", "370212", "370213",
        "370214", "370215", "370281", "370283", "370285",
    }  # fmt: skip
    assert all(f["properties"]["name"] not in ("四方区", "胶南市") for f in geo["features"])

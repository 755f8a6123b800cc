"""Telemetry over HTTP: the batch ingest (the monitoring centre only), a device's series, the
rejection counts, the device page and the rejections page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from shuhui.monitor.telemetry.routes import directory_of
from shuhui.monitor.telemetry.service import DirectoryCache
from tests.fixtures import as_user
from tests.monitor.telemetry.conftest import small_directory

DEVICE = "SNS-370202-000003"


def with_directory(app: FastAPI) -> FastAPI:
    cache = DirectoryCache(small_directory)
    app.state.monitor_directory = cache
    return app


def test_the_centre_sends_a_batch_and_officers_read_it(app: FastAPI) -> None:
    with_directory(app)
    now = datetime.now(UTC).replace(microsecond=0)
    items = [
        {
            "device": DEVICE,
            "ts": (now - timedelta(minutes=i)).isoformat(),
            "values": {"smoke": i, "temperature": 20 + i},
        }
        for i in range(10)
    ]
    items += [
        {"device": "NOBODY", "ts": now.isoformat(), "values": {"smoke": 1}},
        "not an object",
        {
            "device": DEVICE,
            "ts": now.isoformat(),
            "values": {"smoke": 1},
            "units": {"smoke": "ppm"},
        },
    ]
    duty = as_user(app, "duty")
    answer = duty.post("/api/v1/monitor/telemetry", json=items)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["accepted"], body["readings_stored"], body["duplicates"]) == (10, 20, 0)
    assert [(r["index"], r["reason"]) for r in body["rejected"]] == [
        (10, "unknown_device"),
        (11, "malformed"),
        (12, "unit_mismatch"),
    ]
    again = duty.post("/api/v1/monitor/telemetry", json=items[:3]).json()
    assert (again["readings_stored"], again["duplicates"]) == (0, 6)

    officer = as_user(app, "fire")
    series = officer.get(
        f"/api/v1/monitor/devices/{DEVICE}/series",
        params={"metric": "temperature", "start": (now - timedelta(hours=1)).isoformat()},
    )
    assert series.status_code == 200, series.text
    assert series.json()["resolution"] == "raw"
    assert [p[1] for p in series.json()["points"]] == [29.0 - i for i in range(10)]
    hourly = officer.get(f"/api/v1/monitor/devices/{DEVICE}/series", params={"metric": "smoke"})
    assert hourly.json()["resolution"] == "hour"
    rejections = {
        r["reason"]: r["count"] for r in officer.get("/api/v1/monitor/rejections").json()["reasons"]
    }
    assert rejections["unknown_device"] == 1 and rejections["malformed"] == 1
    assert rejections["bad_topic"] == 0

    page = officer.get(f"/monitor/devices/{DEVICE}")
    assert page.status_code == 200
    assert "近 30 天走势" in page.text and "烟雾浓度" in page.text and "device-chart" in page.text
    listing = officer.get("/monitor/telemetry")
    assert listing.status_code == 200 and "未登记的设备" in listing.text


def test_refusals(app: FastAPI) -> None:
    with_directory(app)
    item = {"device": DEVICE, "ts": datetime.now(UTC).isoformat(), "values": {"smoke": 1}}
    # Not the monitoring centre: a responder unit's officer, a citizen.
    for who in ("fire", "citizen"):
        answer = as_user(app, who).post("/api/v1/monitor/telemetry", json=[item])
        assert answer.status_code == 403, who
        assert answer.headers["content-type"].startswith("application/problem+json")
    duty = as_user(app, "duty")
    for body in ({"device": DEVICE}, [], [item] * 5_001):
        answer = duty.post("/api/v1/monitor/telemetry", json=body)
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (
        duty.get("/api/v1/monitor/devices/NOBODY/series", params={"metric": "smoke"}).status_code
        == 404
    )
    assert (
        duty.get(
            f"/api/v1/monitor/devices/{DEVICE}/series", params={"metric": "gas_lel"}
        ).status_code
        == 422
    )
    assert duty.get("/monitor/devices/NOBODY").status_code == 404
    assert as_user(app, "citizen").get(f"/monitor/devices/{DEVICE}").status_code == 403


def test_the_directory_is_read_from_the_data_core_once_a_minute(app: FastAPI) -> None:
    class Request:
        def __init__(self, app: FastAPI) -> None:
            self.app = app

    # No infrastructure_assets in this data core yet: an empty directory, not an error.
    directory = directory_of(Request(app))  # type: ignore[arg-type]
    assert len(directory) == 0 and "smoke-detector" in directory.types

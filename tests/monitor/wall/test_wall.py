"""The wall through the API, the page and the stream: counts per level and scenario, the
latest alarms with where they are, device status, each step of an alarm as a server-sent
event; the centre sees it, others are refused."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import FastAPI

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.monitor.readings import Reading
from shuhui.monitor.telemetry import store
from tests.fixtures import as_user
from tests.monitor.alarms.conftest import DIRECTORY, GAS, SMOKE, Feed, reading


def _wall_app(app: FastAPI) -> FastAPI:
    # The wall's directory is the registry's; the tests' small one stands in for it.
    from shuhui.monitor.telemetry.service import DirectoryCache

    cache = DirectoryCache(lambda: DIRECTORY)
    app.state.monitor_directory = cache
    return app


def _events(text: str) -> list[tuple[str, dict[str, object]]]:
    found = []
    for block in text.split("\n\n"):
        lines = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":"
        )
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


def test_the_snapshot_counts_and_places_alarms(app: FastAPI) -> None:
    _wall_app(app)
    duty = as_user(app, "duty")
    empty = duty.get("/api/v1/monitor/wall", params={"points": True}).json()
    assert empty["counts"]["levels"] == {"1": 0, "2": 0, "3": 0, "4": 0}
    assert empty["devices"] == {"total": len(DIRECTORY), "reporting": 0, "silent": 0, "never": 10}
    assert len(empty["points"]["ids"]) == len(DIRECTORY) and "points" in empty
    now = utcnow()
    with transaction(app.state.session_factory) as db:
        store.write(db, [Reading(SMOKE, now - timedelta(seconds=5), "smoke", 0.5)], now)
        store.write(db, [Reading(GAS, now - timedelta(hours=2), "gas_lel", 1.0)], now)
    feed = Feed(app.state.session_factory)
    feed(reading(SMOKE, "smoke", 8.0))
    feed(reading(GAS, "gas_lel", 60.0))
    shown = duty.get("/api/v1/monitor/wall").json()
    assert "points" not in shown
    assert shown["devices"]["reporting"] == 1 and shown["devices"]["silent"] == 1
    assert shown["counts"]["scenarios"]["high_rise"] == 1
    assert shown["counts"]["scenarios"]["hazchem"] >= 1
    assert shown["counts"]["levels"]["3"] >= 1 and shown["counts"]["levels"]["1"] >= 1
    smoke = next(a for a in shown["alarms"] if a["rule"] == "hr-smoke")
    assert smoke["href"] == f"/monitor/alarms/{smoke['code']}"
    assert (smoke["lon"], smoke["lat"]) == (120.38, 36.066) and smoke["level_zh"] == "三级"
    assert shown["cursor"] > 0
    page = duty.get("/monitor")
    assert page.status_code == 200 and "监测大屏" in page.text
    assert f'href="/monitor/alarms/{smoke["code"]}"' in page.text


def test_who_sees_the_wall(app: FastAPI) -> None:
    _wall_app(app)
    assert as_user(app, "admin").get("/api/v1/monitor/wall").status_code == 200
    for who in ("fire", "ndrc", "citizen"):
        assert as_user(app, who).get("/api/v1/monitor/wall").status_code == 403
        assert as_user(app, who).get("/api/v1/monitor/stream?seconds=1").status_code == 403
    # The module's entry in the navigation: the others are sent to their own page.
    unit = as_user(app, "fire").get("/monitor", follow_redirects=False)
    assert unit.status_code == 303 and unit.headers["location"] == "/monitor/inbox"
    planner = as_user(app, "ndrc").get("/monitor", follow_redirects=False)
    assert planner.headers["location"] == "/monitor/infrastructure"


def test_the_stream_sends_each_step_after_the_cursor(app: FastAPI) -> None:
    _wall_app(app)
    duty = as_user(app, "duty")
    feed = Feed(app.state.session_factory)
    feed(reading(SMOKE, "smoke", 8.0))
    cursor = duty.get("/api/v1/monitor/wall").json()["cursor"]
    (alarm,) = feed.alarms("hr-smoke")
    assert duty.post(f"/api/v1/monitor/alarms/{alarm.code}/acknowledge", json={}).status_code == 200
    feed(reading(GAS, "gas_lel", 30.0))
    got = duty.get("/api/v1/monitor/stream", params={"after": cursor, "seconds": 1})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/event-stream")
    events = _events(got.text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "hello" and "status" in kinds
    steps = [(d["action"], d["alarm"]["rule"]) for k, d in events if k == "alarm"]  # type: ignore[index]
    assert steps[0] == ("acknowledge", "hr-smoke")
    assert ("raise", "hz-gas-first") in steps
    assert all(a != "raise" or r != "hr-smoke" for a, r in steps)  # before the cursor
    last = [d for k, d in events if k == "alarm"][-1]
    assert last["counts"]["scenarios"]["hazchem"] >= 1  # type: ignore[index]
    # Resuming from the last id the browser saw sends nothing again.
    again = duty.get(
        "/api/v1/monitor/stream",
        params={"seconds": 1},
        headers={"Last-Event-ID": str(last["id"])},
    )
    assert [k for k, _ in _events(again.text) if k == "alarm"] == []

"""The lifecycle through the API and the pages: the duty officer acknowledges and dispatches to
the fire brigade, the fire officer finds it in the inbox and resolves it, the duty officer
closes it; the timeline lists each step; refusals change nothing."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user
from tests.monitor.alarms.conftest import SMOKE, Feed, reading

pytestmark = pytest.mark.both_backends


def _raise_one(app: FastAPI) -> str:
    feed = Feed(app.state.session_factory)
    feed(reading(SMOKE, "smoke", 8.0))
    (alarm,) = feed.alarms("hr-smoke")
    return alarm.code


def _ledger(app: FastAPI, code: str) -> list[str]:
    with app.state.session_factory() as db:
        return list(
            db.scalars(
                select(LedgerEntry.action)
                .where(LedgerEntry.grant == code)
                .order_by(LedgerEntry.seq)
            )
        )


def test_the_lifecycle_through_the_api(app: FastAPI) -> None:
    code = _raise_one(app)
    duty, fire = as_user(app, "duty"), as_user(app, "fire")
    queue = duty.get("/api/v1/monitor/alarms", params={"open": True}).json()
    assert [i["code"] for i in queue["items"]] == [code]
    assert queue["board"]["3"]["raised"] == 1
    # The fire brigade sees nothing until it is dispatched to them.
    assert fire.get("/api/v1/monitor/alarms").json()["total"] == 0
    assert fire.get(f"/api/v1/monitor/alarms/{code}").status_code == 404
    early = duty.post(f"/api/v1/monitor/alarms/{code}/resolve", json={})
    assert early.status_code == 409 and "待确认" in early.json()["detail"]
    done = duty.post(f"/api/v1/monitor/alarms/{code}/acknowledge", json={"note": "已核实"})
    assert done.status_code == 200 and done.json()["state"] == "acknowledged"
    wrong_unit = duty.post(f"/api/v1/monitor/alarms/{code}/dispatch", json={"unit": "forestry"})
    assert wrong_unit.status_code == 422 and wrong_unit.json()["errors"][0]["field"] == "unit"
    sent = duty.post(
        f"/api/v1/monitor/alarms/{code}/dispatch", json={"unit": "fire-rescue", "note": "请出动"}
    )
    assert sent.status_code == 200 and sent.json()["unit"] == "fire-rescue"
    inbox = fire.get("/api/v1/monitor/inbox").json()
    assert inbox["unread"] == 1 and inbox["items"][0]["alarm"] == code
    assert fire.post(f"/api/v1/monitor/alarms/{code}/close", json={}).status_code == 403
    resolved = fire.post(f"/api/v1/monitor/alarms/{code}/resolve", json={"note": "已扑灭"})
    assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
    closed = duty.post(f"/api/v1/monitor/alarms/{code}/close", json={})
    body = closed.json()
    assert body["state"] == "closed"
    assert [e["action"] for e in body["timeline"]] == [
        "raise",
        "acknowledge",
        "dispatch",
        "resolve",
        "close",
    ]
    assert {t["step"] for t in body["timings"]} == {"acknowledge", "dispatch", "resolve"}
    assert body["readings"][0]["value"] == 8.0
    assert _ledger(app, code) == [
        "monitor.alarm_raised",
        "monitor.alarm_acknowledged",
        "monitor.alarm_dispatched",
        "monitor.alarm_resolved",
        "monitor.alarm_closed",
    ]


def test_refusals_change_nothing(app: FastAPI) -> None:
    code = _raise_one(app)
    duty = as_user(app, "duty")
    no_note = duty.post(f"/api/v1/monitor/alarms/{code}/close", json={"note": " "})
    assert no_note.status_code == 422 and no_note.json()["errors"][0]["field"] == "note"
    assert (
        duty.post(
            f"/api/v1/monitor/alarms/{code}/dispatch", json={"unit": "fire-rescue"}
        ).status_code
        == 409
    )
    assert duty.get(f"/api/v1/monitor/alarms/{code}").json()["state"] == "raised"
    assert _ledger(app, code) == ["monitor.alarm_raised"]
    assert as_user(app, "ndrc").get("/api/v1/monitor/alarms").status_code == 403
    assert as_user(app, "forestry").get(f"/api/v1/monitor/alarms/{code}").status_code == 404
    assert duty.get("/api/v1/monitor/alarms", params={"level": 9}).status_code == 422
    assert duty.get("/api/v1/monitor/alarms/AL-NOPE").status_code == 404
    false_alarm = duty.post(f"/api/v1/monitor/alarms/{code}/close", json={"note": "误报：测试"})
    assert false_alarm.json()["state"] == "closed"


CODE = re.compile(r'href="/monitor/alarms/(AL-[0-9A-F-]+)"')


def _post(client: TestClient, path: str, **data: str) -> object:
    return client.post(
        path, data={**data, "csrf_token": client.headers["x-csrf-token"]}, follow_redirects=False
    )


def test_the_lifecycle_through_the_pages(app: FastAPI) -> None:
    code = _raise_one(app)
    duty, fire = as_user(app, "duty"), as_user(app, "fire")
    queue = duty.get("/monitor/alarms")
    assert queue.status_code == 200 and "告警队列" in queue.text and "echarts" in queue.text
    assert CODE.search(queue.text).group(1) == code  # type: ignore[union-attr]
    home = duty.get("/")
    assert "待确认的监测告警" in home.text
    page = f"/monitor/alarms/{code}"
    acked = _post(duty, f"{page}/act", action="acknowledge")
    assert acked.status_code == 303  # type: ignore[attr-defined]
    asked = _post(duty, f"{page}/act", action="dispatch", unit="fire-rescue", note="请出动")
    assert asked.status_code == 200 and 'id="confirm-summary"' in asked.text  # type: ignore[attr-defined]
    assert "消防救援支队" in asked.text  # type: ignore[attr-defined]
    assert duty.get(f"/api/v1/monitor/alarms/{code}").json()["state"] == "acknowledged"
    sent = _post(
        duty, f"{page}/act", action="dispatch", unit="fire-rescue", note="请出动", confirm="yes"
    )
    assert sent.status_code == 303  # type: ignore[attr-defined]
    inbox = fire.get("/monitor/inbox")
    assert 'data-unread="true"' in inbox.text and code in inbox.text
    assert "派发给本单位的告警" in fire.get("/").text
    seen = fire.get(page)
    assert seen.status_code == 200 and 'data-action="resolve"' in seen.text
    assert 'data-action="close"' not in seen.text
    assert 'data-unread="true"' not in fire.get("/monitor/inbox").text
    _post(fire, f"{page}/act", action="resolve", note="已处置", confirm="yes")
    wrong = _post(fire, f"{page}/act", action="resolve", confirm="yes")
    assert wrong.status_code == 409 and 'id="form-error"' in wrong.text  # type: ignore[attr-defined]
    _post(duty, f"{page}/act", action="close", confirm="yes")
    timeline = duty.get(page).text
    for step in ("raise", "acknowledge", "dispatch", "resolve", "close"):
        assert f'data-action="{step}"' in timeline
    assert "产生告警" in timeline and "关闭告警" in timeline and 'id="reading-table"' in timeline
    assert 'data-state="closed"' in timeline

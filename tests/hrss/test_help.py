"""Video help (社保视联办): a citizen asks from a page, an agent of the bureau takes it (once),
their two sockets relay each other's messages (WebRTC signalling, the form, a proposal and its
acceptance), messages are bounded, strangers get nothing, and closing records the times."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.websockets import WebSocketDisconnect

from shuhui.core.db import transaction
from shuhui.hrss.models import HelpSignal
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user


def ask(app: FastAPI) -> tuple[TestClient, str]:
    citizen = as_user(app, "citizen")
    made = citizen.post(
        "/api/v1/hrss/help", json={"page": "/hrss/bundles/retirement", "topic": "退休"}
    )
    assert made.status_code == 201, made.text
    return citizen, made.json()["code"]


def actions(app: FastAPI) -> list[str]:
    with transaction(app.state.session_factory) as db:
        return [
            e.action
            for e in db.scalars(select(LedgerEntry).where(LedgerEntry.action.like("hrss.help%")))
        ]


def test_asked_taken_once_relayed_and_closed(app: FastAPI) -> None:
    citizen, code = ask(app)
    # Asking again while one is open returns it.
    assert citizen.post("/api/v1/hrss/help", json={"page": "/hrss/record"}).json()["code"] == code
    officer = as_user(app, "officer")
    queue = officer.get("/api/v1/hrss/help/queue").json()
    assert [r["code"] for r in queue] == [code] and queue[0]["state"] == "waiting"
    assert as_user(app, "approver").get("/api/v1/hrss/help/queue").status_code == 403
    assert citizen.get("/api/v1/hrss/help/queue").status_code == 403

    taken = officer.post(f"/api/v1/hrss/help/{code}/take")
    assert taken.status_code == 200 and taken.json()["state"] == "active"
    auditor = as_user(app, "auditor")  # the same bureau, a second agent: too late
    assert auditor.post(f"/api/v1/hrss/help/{code}/take").status_code == 409

    origin = {"origin": "http://testserver"}
    path = f"/ws/hrss/help/{code}"
    with (
        citizen.websocket_connect(path, headers=origin) as mine,
        officer.websocket_connect(path, headers=origin) as theirs,
    ):
        theirs.send_text(json.dumps({"kind": "offer", "payload": {"type": "offer", "sdp": "v=0"}}))
        assert mine.receive_json() == {"kind": "offer", "payload": {"type": "offer", "sdp": "v=0"}}
        mine.send_text(
            json.dumps({"kind": "form", "payload": {"fields": [{"name": "phone", "value": "139"}]}})
        )
        assert theirs.receive_json()["payload"]["fields"][0]["value"] == "139"
        theirs.send_text(
            json.dumps({"kind": "propose", "payload": {"name": "bank_name", "value": "中国银行"}})
        )
        assert mine.receive_json()["kind"] == "propose"
        mine.send_text(
            json.dumps({"kind": "accept", "payload": {"name": "bank_name", "value": "中国银行"}})
        )
        assert theirs.receive_json()["kind"] == "accept"
        # A message that is not one of the kinds is refused to its sender, not relayed.
        mine.send_text(json.dumps({"kind": "exec", "payload": {}}))
        assert mine.receive_json() == {"kind": "error", "payload": {"reason": "消息类型无效"}}
        mine.send_text("x" * (64 * 1024 + 1))
        assert mine.receive_json()["payload"]["reason"] == "消息过大"

    closed = citizen.post(f"/api/v1/hrss/help/{code}/close", json={"outcome": "已协助提交"})
    assert closed.status_code == 200
    body = closed.json()
    assert body["state"] == "closed" and body["proposals"] == 1 and body["accepted"] == 1
    with transaction(app.state.session_factory) as db:
        assert db.scalar(select(func.count()).select_from(HelpSignal)) == 0  # not kept after
    assert actions(app) == ["hrss.help_asked", "hrss.help_taken", "hrss.help_closed"]
    # A closed session's socket is refused.
    with pytest.raises(WebSocketDisconnect), citizen.websocket_connect(path, headers=origin) as ws:
        ws.receive_json()


def test_strangers_and_other_sites_get_no_socket(app: FastAPI) -> None:
    citizen, code = ask(app)
    officer = as_user(app, "officer")
    officer.post(f"/api/v1/hrss/help/{code}/take")
    path = f"/ws/hrss/help/{code}"
    for who, headers in (
        (as_user(app, "auditor"), {"origin": "http://testserver"}),  # not the agent who took it
        (TestClient(app), {"origin": "http://testserver"}),  # logged out
        (citizen, {"origin": "http://evil.example"}),  # a page of another site
    ):
        with pytest.raises(WebSocketDisconnect), who.websocket_connect(path, headers=headers) as ws:
            ws.receive_json()
    assert (
        as_user(app, "auditor").post(f"/api/v1/hrss/help/{code}/close", json={}).status_code == 404
    )
    bad = citizen.post("/api/v1/hrss/help", json={"page": "https://evil.example/"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "page"
    assert officer.post("/api/v1/hrss/help", json={"page": "/x"}).status_code == 403

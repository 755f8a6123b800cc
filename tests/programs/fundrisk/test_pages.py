"""The fund-risk pages without a browser: the queue with its counts, an alert's evidence (a
ledger entry), a step that asks first, and a refused step shown beside the form."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user
from tests.programs.fundrisk.conftest import ON

CODE = re.compile(r'/hrss/fundrisk/alerts/(FX-[0-9A-F-]+)"')


def _explained(app: FastAPI) -> int:
    with app.state.session_factory() as db:
        where = LedgerEntry.action == "fundrisk.explained"
        return int(db.scalar(select(func.count()).select_from(LedgerEntry).where(where)) or 0)


def test_the_queue_runs_a_detection_and_lists_the_alerts(auditor: TestClient) -> None:
    page = auditor.get("/hrss/fundrisk")
    assert page.status_code == 200 and "社保基金风险疑点" in page.text
    token = auditor.headers["x-csrf-token"]
    ran = auditor.post(
        "/hrss/fundrisk/detect",
        data={"date": ON.isoformat(), "csrf_token": token},
        follow_redirects=True,
    )
    assert ran.status_code == 200 and 'id="opened"' in ran.text
    assert CODE.search(ran.text)
    assert "信息链" in ran.text and "echarts" in ran.text
    future = auditor.post("/hrss/fundrisk/detect", data={"date": "2099-01-01", "csrf_token": token})
    assert future.status_code == 422 and "不能晚于今天" in future.text
    filtered = auditor.get("/hrss/fundrisk", params={"rule": "risk-double-pension"})
    assert "risk-shared-account" not in filtered.text.split('id="alert-table"')[1]


def test_an_alert_page_shows_the_evidence_and_asks_before_a_step(
    city_app: FastAPI, detected: TestClient
) -> None:
    listing = detected.get("/hrss/fundrisk", params={"rule": "risk-pension-after-death"})
    found = CODE.search(listing.text)
    assert found
    code = found.group(1)
    before = _explained(city_app)
    page = detected.get(f"/hrss/fundrisk/alerts/{code}")
    assert page.status_code == 200
    assert 'data-input="paid_after_death"' in page.text and "pension_payments" in page.text
    assert _explained(city_app) == before + 1
    token = detected.headers["x-csrf-token"]
    asked = detected.post(
        f"/hrss/fundrisk/alerts/{code}/act", data={"action": "check", "csrf_token": token}
    )
    assert asked.status_code == 200 and 'id="confirm-summary"' in asked.text
    assert detected.get(f"/api/v1/fundrisk/alerts/{code}").json()["state"] == "new"
    done = detected.post(
        f"/hrss/fundrisk/alerts/{code}/act",
        data={"action": "check", "confirm": "yes", "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert detected.get(f"/api/v1/fundrisk/alerts/{code}").json()["state"] == "checking"
    wrong = detected.post(
        f"/hrss/fundrisk/alerts/{code}/act",
        data={"action": "recover", "amount": "1", "confirm": "yes", "csrf_token": token},
    )
    assert wrong.status_code == 409 and 'id="form-error"' in wrong.text
    bad_amount = detected.post(
        f"/hrss/fundrisk/alerts/{code}/act",
        data={"action": "recover", "amount": "十元", "csrf_token": token},
    )
    assert bad_amount.status_code == 422


def test_an_unknown_alert_is_a_404_page(auditor: TestClient) -> None:
    assert auditor.get("/hrss/fundrisk/alerts/FX-NOPE").status_code == 404


def test_other_departments_do_not_see_the_queue(city_app: FastAPI) -> None:
    assert as_user(city_app, "civil").get("/hrss/fundrisk").status_code == 403


def test_the_auditor_workbench_lists_the_alerts_to_check(detected: TestClient) -> None:
    home = detected.get("/")
    assert home.status_code == 200, home.status_code
    assert "待核查的基金风险疑点" in home.text

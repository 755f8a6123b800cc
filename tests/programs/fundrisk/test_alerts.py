"""Detection runs and alerts over the API: idempotent runs, the lifecycle, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from shuhui.programs.fundrisk.models import Alert, AlertEvent, DetectionRun
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user
from tests.programs.fundrisk.conftest import ON

pytestmark = pytest.mark.both_backends

DETECTORS = (
    "risk-pension-after-death",
    "risk-double-pension",
    "risk-unemployment-while-employed",
    "risk-early-retirement",
    "risk-shared-account",
    "risk-low-contribution-base",
)


def _count(app: FastAPI, model: Any, *where: Any) -> int:
    with app.state.session_factory() as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _alerts(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.get("/api/v1/fundrisk/alerts", params=params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _act(client: TestClient, code: str, **body: Any) -> Any:
    return client.post(f"/api/v1/fundrisk/alerts/{code}/actions", json=body)


def test_a_run_opens_one_alert_per_finding_and_a_second_run_opens_none(
    city_app: FastAPI, auditor: TestClient
) -> None:
    first = auditor.post("/api/v1/fundrisk/detections", json={"date": ON.isoformat()})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["repeated"] is False
    assert set(body["detectors"]) == set(DETECTORS)
    for code in DETECTORS:  # the small city holds at least one of every injected anomaly
        counts = body["detectors"][code]
        assert counts["found"] >= 1 and counts["new"] == counts["found"] and counts["open"] == 0
    opened = _count(city_app, Alert)
    assert opened == body["new"]
    entries = _count(city_app, LedgerEntry, LedgerEntry.action == "fundrisk.alert_opened")
    assert entries == opened

    again = auditor.post("/api/v1/fundrisk/detections", json={"date": ON.isoformat()})
    assert again.status_code == 201
    repeat = again.json()
    assert repeat["repeated"] is True and repeat["runs"] == 2 and repeat["new"] == 0
    for code in DETECTORS:
        assert repeat["detectors"][code]["open"] == body["detectors"][code]["found"]
    assert _count(city_app, Alert) == opened  # nothing written twice
    assert _count(city_app, DetectionRun) == 1
    assert _count(city_app, AlertEvent) == opened


def test_every_alert_carries_its_evidence_and_amount(detected: TestClient) -> None:
    items = _alerts(detected, limit="500")["items"]
    by_rule = {a["rule"]: a for a in items}
    after_death = by_rule["risk-pension-after-death"]
    assert after_death["chain"] == "information" and after_death["severity"] == "high"
    assert after_death["amount_fen"] > 0 and after_death["recovered_fen"] == 0
    assert after_death["state"] == "new" and after_death["versions"]["pension_payments"] >= 1
    assert after_death["evaluated_on"] == ON.isoformat()
    evidence = detected.get(f"/api/v1/fundrisk/alerts/{after_death['code']}/evidence")
    assert evidence.status_code == 200, evidence.text
    inputs = {i["name"]: i for i in evidence.json()["inputs"]}
    paid = inputs["paid_after_death"]
    assert paid["value"] == after_death["amount_fen"]
    assert paid["table"] == "pension_payments" and paid["rows"]  # the payments that counted
    assert evidence.json()["outcome"] == "eligible"


def test_reading_the_evidence_is_in_the_persons_ledger(
    city_app: FastAPI, detected: TestClient
) -> None:
    a = _alerts(detected, rule="risk-shared-account")["items"][0]
    before = _count(city_app, LedgerEntry, LedgerEntry.action == "fundrisk.explained")
    assert detected.get(f"/api/v1/fundrisk/alerts/{a['code']}/evidence").status_code == 200
    with city_app.state.session_factory() as db:
        entry = db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.action == "fundrisk.explained")
            .order_by(LedgerEntry.seq.desc())
        ).first()
    assert entry is not None and entry.actor == "auditor"
    assert _count(city_app, LedgerEntry, LedgerEntry.action == "fundrisk.explained") == before + 1
    with city_app.state.session_factory() as db:
        row = db.scalar(select(Alert).where(Alert.code == a["code"]))
        # The account is the finding; whose data was read is its holder's.
        assert row is not None and row.citizen_id and entry.subject == row.citizen_id


def test_the_lifecycle_to_recovered(city_app: FastAPI, detected: TestClient) -> None:
    a = next(
        x
        for x in _alerts(detected, limit="500")["items"]
        if x["rule"] == "risk-pension-after-death"
    )
    code, total = a["code"], a["amount_fen"]
    assert _act(detected, code, action="check").json()["state"] == "checking"
    assert _act(detected, code, action="confirm").json()["state"] == "confirmed"
    part = _act(detected, code, action="recover", amount_fen=1)
    assert part.status_code == 200 and part.json()["state"] == "recovering"
    too_much = _act(detected, code, action="recover", amount_fen=total)
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "amount_fen"
    done = _act(detected, code, action="recover", amount_fen=total - 1).json()
    assert done["state"] == "recovered" and done["recovered_fen"] == total
    assert [h["to"] for h in done["history"]] == [
        "new",
        "checking",
        "confirmed",
        "recovering",
        "recovered",
    ]
    actions = [
        e.action
        for e in _ledger(city_app)
        if e.grant == code and e.action.startswith("fundrisk.") and e.action != "fundrisk.explained"
    ]
    assert actions == [
        "fundrisk.alert_opened",
        "fundrisk.checked",
        "fundrisk.confirmed",
        "fundrisk.recovery_recorded",
        "fundrisk.recovery_recorded",
    ]
    money = _alerts(detected)
    assert money["recovered_fen"] >= total


def _ledger(app: FastAPI) -> list[LedgerEntry]:
    with app.state.session_factory() as db:
        return list(db.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)))


def test_a_wrong_step_is_a_conflict_and_changes_nothing(
    city_app: FastAPI, detected: TestClient
) -> None:
    a = _alerts(detected)["items"][0]
    code = a["code"]
    entries = len(_ledger(city_app))
    for action, extra in (("confirm", {}), ("recover", {"amount_fen": 1})):
        refused = _act(detected, code, action=action, **extra)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "待核查" in refused.json()["detail"]
    no_reason = _act(detected, code, action="dismiss", reason="  ")
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    unknown = _act(detected, code, action="delete")
    assert unknown.status_code == 422
    assert detected.get(f"/api/v1/fundrisk/alerts/{code}").json()["state"] == "new"
    assert len(_ledger(city_app)) == entries
    dismissed = _act(detected, code, action="dismiss", reason="经核实已于当月办理停发")
    assert dismissed.json()["state"] == "dismissed" and dismissed.json()["reason"]
    assert _act(detected, code, action="check").status_code == 409


def test_a_finding_dismissed_is_not_alerted_again(city_app: FastAPI, detected: TestClient) -> None:
    a = _alerts(detected)["items"][0]
    _act(detected, a["code"], action="dismiss", reason="误报")
    again = detected.post("/api/v1/fundrisk/detections", json={"date": ON.isoformat()})
    assert again.json()["new"] == 0
    assert detected.get(f"/api/v1/fundrisk/alerts/{a['code']}").json()["state"] == "dismissed"


def test_bad_input(detected: TestClient) -> None:
    unknown = detected.get("/api/v1/fundrisk/alerts/FX-NOPE")
    assert unknown.status_code == 404 and "FX-NOPE" in unknown.json()["detail"]
    assert _act(detected, "FX-NOPE", action="check").status_code == 404
    future = detected.post("/api/v1/fundrisk/detections", json={"date": "2099-01-01"})
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "date"
    bad_chain = detected.get("/api/v1/fundrisk/alerts", params={"chain": "money"})
    assert bad_chain.status_code == 422
    assert "chain" in bad_chain.json()["errors"][0]["field"]


def test_the_queue_filters_and_counts_per_chain(detected: TestClient) -> None:
    everything = _alerts(detected, limit="500")
    board = everything["board"]
    assert set(board) == {"policy", "funds", "business", "information"}
    assert sum(sum(states.values()) for states in board.values()) == everything["total"]
    business = _alerts(detected, chain="business", limit="500")
    assert business["total"] == sum(board["business"].values())
    assert {a["rule"] for a in business["items"]} == {"risk-double-pension"}
    one = _alerts(detected, rule="risk-unemployment-while-employed")
    assert one["total"] >= 1
    assert {a["rule"] for a in one["items"]} == {"risk-unemployment-while-employed"}
    funds = _alerts(detected, chain="funds", limit="500")
    assert {a["rule"] for a in funds["items"]} == {
        "risk-shared-account",
        "risk-low-contribution-base",
    }


def test_only_the_hrss_bureau_supervises_the_fund(city_app: FastAPI) -> None:
    civil = as_user(city_app, "civil")
    assert civil.get("/api/v1/fundrisk/alerts").status_code == 403
    response = civil.post("/api/v1/fundrisk/detections", json={"date": ON.isoformat()})
    assert response.status_code == 403
    citizen = as_user(city_app, "citizen")
    assert citizen.get("/api/v1/fundrisk/alerts").status_code == 403


def test_a_detector_is_no_policy_a_campaign_may_offer(city_app: FastAPI) -> None:
    officer = as_user(city_app, "officer")
    listed = {p["code"] for p in officer.get("/api/v1/programs/policies").json()}
    assert listed and not {code for code in listed if code.startswith("risk-")}
    refused = officer.post("/api/v1/programs/campaigns", json={"rule": "risk-double-pension"})
    assert refused.status_code == 404
    console = officer.get("/hrss/campaigns")
    assert console.status_code == 200 and "risk-double-pension" not in console.text

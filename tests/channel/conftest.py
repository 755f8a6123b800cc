"""Data-channel fixtures: a catalogued small city, an insurer and a bank registered as
consumers and admitted to the finance zone, and a resident with medical visits as a user."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.core.db import transaction
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from tests.fixtures import add_account, as_user

INSURER = "91370200MA3R7B9K1L"
BANK = "9137021460181590X0"
PURPOSE = "人身保险投保核保"


@dataclass
class Channel:
    app: FastAPI
    insurer: TestClient
    bureau: TestClient
    health: TestClient
    patient: TestClient
    patient_id: str
    key: str
    grant: str


def patient_of(app: FastAPI) -> str:
    con = app.state.datacore.connect()
    try:
        row = con.execute(
            "SELECT citizen_id FROM medical_visits GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return str(row[0])


def register(client: TestClient, name: str, type_: str, zone: str, bureau: TestClient) -> None:
    made = client.post(
        "/api/v1/channel/consumers",
        json={
            "name": name,
            "type": type_,
            "contact_name": "王经理",
            "contact_phone": "0532-88886666",
            "contact_email": "api@example.cn",
        },
    )
    assert made.status_code == 201, made.text
    joined = client.post(
        "/api/v1/channel/memberships", json={"zone": zone, "statement": "线上核保、信贷审批"}
    )
    assert joined.status_code == 201, joined.text
    approved = bureau.post(
        f"/api/v1/channel/memberships/{joined.json()['id']}/review", json={"decision": "approve"}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


def grant_for(
    consumer: TestClient,
    department: TestClient | None,
    bureau: TestClient,
    products: list[str],
    purpose: str,
    usage: str = "industry",
    **review: object,
) -> str:
    applied = consumer.post(
        "/api/v1/channel/applications",
        json={
            "products": products,
            "purpose": purpose,
            "legal_basis": "《个人信息保护法》第十三条；投保人单独同意",
            "usage": usage,
            "days": 365,
        },
    )
    assert applied.status_code == 201, applied.text
    code = applied.json()["code"]
    if department is not None:
        step = department.post(
            f"/api/v1/channel/applications/{code}/review", json={"decision": "approve"}
        )
        assert step.status_code == 200, step.text
        assert step.json()["status"] == "bureau_review"
    final = bureau.post(
        f"/api/v1/channel/applications/{code}/review", json={"decision": "approve", **review}
    )
    assert final.status_code == 200 and final.json()["status"] == "approved", final.text
    grants = consumer.get("/api/v1/channel/grants").json()
    return str(
        next(
            g["code"]
            for g in grants
            if g["purpose"] == purpose and g["products"] == sorted(products)
        )
    )


@pytest.fixture
def city(synced_city_app: FastAPI) -> FastAPI:
    """The app over a small synthetic city, its tables in the catalog (open levels included)."""
    return synced_city_app


@pytest.fixture
def channel(city: FastAPI) -> Iterator[Channel]:
    app = city
    patient_id = patient_of(app)
    with transaction(app.state.session_factory) as db:
        add_account(
            db,
            UserCreate(
                username="patient",
                display_name="孙投保",
                password=DEMO_PASSWORD,
                roles=[Role.citizen],
                citizen_id=patient_id,
            ),
        )
    bureau = as_user(app, "operator")
    insurer = as_user(app, "insurer")
    register(insurer, "青岛示范人寿保险股份有限公司", "insurer", "finance", bureau)
    health = as_user(app, "health")
    grant = grant_for(
        insurer, health, bureau, ["underwriting-health-check"], PURPOSE, rate_per_minute=30
    )
    issued = insurer.post("/api/v1/channel/keys", json={"grants": [grant], "label": "核保系统"})
    assert issued.status_code == 201, issued.text
    yield Channel(
        app,
        insurer,
        bureau,
        health,
        as_user(app, "patient"),
        patient_id,
        issued.json()["secret"],
        grant,
    )

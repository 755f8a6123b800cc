"""The forged-consent path of issue 17 (item 5), end to end through the API: an administrator
makes an account for a resident with medical visits, tries to bind it alone, has a second admin
bind it, logs in with the password they chose and signs a 用证授权 for the insurer. Every step
that would let the insurer read the person's medical history is refused, and in the ledger.
And what the person consented to themself survives an admin's password reset."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.trust.identity.models import User
from shuhui.trust.ledger.models import LedgerEntry
from tests.channel.conftest import INSURER, PURPOSE, Channel
from tests.channel.test_gateway import UNDERWRITING, consent
from tests.fixtures import as_user, login

FORGED_PASSWORD = "Admin-knows-1"


def victim_of(app: FastAPI, not_this: str) -> str:
    """A resident with medical visits that no account holds."""
    con = app.state.datacore.connect()
    try:
        row = con.execute(
            "SELECT citizen_id FROM medical_visits WHERE citizen_id <> ? "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
            [not_this],
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return str(row[0])


def entries(app: FastAPI, action: str) -> list[dict[str, Any]]:
    with transaction(app.state.session_factory) as db:
        leaves = db.scalars(
            select(LedgerEntry.leaf).where(LedgerEntry.action == action).order_by(LedgerEntry.seq)
        )
        return [json.loads(leaf) for leaf in leaves]


def bound(app: FastAPI, username: str) -> str | None:
    with transaction(app.state.session_factory) as db:
        return db.scalar(select(User.citizen_id).where(User.username == username))


def underwrite(ch: Channel, citizen_id: str) -> Any:
    body = {"purpose": PURPOSE, "params": {"citizen_id": citizen_id, "years": 5}}
    return TestClient(ch.app).post(UNDERWRITING, json=body, headers={"X-API-Key": ch.key})


def test_an_admin_cannot_consent_for_a_citizen(channel: Channel) -> None:
    ch, app = channel, channel.app
    victim = victim_of(app, ch.patient_id)
    assert underwrite(ch, victim).json()["reason"] == "consent-refused"

    # 1. The admin makes an account with the victim's ID: only a request, nothing bound.
    admin = as_user(app, "admin")
    made = admin.post(
        "/api/v1/admin/users",
        json={
            "username": "forged",
            "display_name": "冒用",
            "password": FORGED_PASSWORD,
            "roles": ["citizen"],
            "citizen_id": victim,
        },
    )
    assert made.status_code == 201, made.text
    request = made.json()["pending_binding"]["id"]
    assert bound(app, "forged") is None

    # 2. They approve it themself: refused, and the attempt is in the ledger.
    alone = admin.post(f"/api/v1/admin/bindings/{request}/decision", json={"decision": "approve"})
    assert alone.status_code == 403
    assert [
        (e["actor"], e["detail"]["request"]) for e in entries(app, "account.binding_refused")
    ] == [("admin", request)]
    assert bound(app, "forged") is None

    # 3. A second admin (made by the first; the roles are the admin's to give) approves: bound.
    second = admin.post(
        "/api/v1/admin/users",
        json={
            "username": "admin2",
            "display_name": "第二管理员",
            "password": "Second-admin-2",
            "roles": ["admin"],
        },
    )
    assert second.status_code == 201, second.text
    accomplice = TestClient(app)
    login(accomplice, "admin2", "Second-admin-2")
    approved = accomplice.post(
        f"/api/v1/admin/bindings/{request}/decision", json={"decision": "approve"}
    )
    assert approved.status_code == 200, approved.text
    assert bound(app, "forged") == victim

    # 4. Logged in with the password the admin chose, they draft and sign a 用证授权: refused.
    forger = TestClient(app)
    login(forger, "forged", FORGED_PASSWORD)
    drafted = forger.post(
        "/api/v1/authorisations/cert-uses",
        json={
            "relying_party": {"kind": "enterprise", "id": INSURER, "name": "青岛示范人寿"},
            "certificate_types": ["就诊记录"],
            "purpose": PURPOSE,
            "valid_to": (utcnow() + timedelta(days=30)).isoformat(),
        },
    )
    assert drafted.status_code == 201, drafted.text
    code = drafted.json()["code"]
    signed = forger.post(f"/api/v1/authorisations/{code}/sign", json={"password": FORGED_PASSWORD})
    assert signed.status_code == 403 and "请先自行设置密码" in signed.json()["detail"]
    (refused,) = entries(app, "cert_use.sign_refused")
    assert (refused["actor"], refused["subject"], refused["grant"]) == ("forged", victim, code)
    assert entries(app, "cert_use.signed") == []

    # 5. The insurer still cannot read the victim's medical history.
    answer = underwrite(ch, victim)
    assert answer.status_code == 403 and answer.json()["reason"] == "consent-refused"
    assert "visits_total" not in answer.text


def test_what_the_person_signed_survives_an_admin_reset(channel: Channel) -> None:
    ch = channel
    consent(ch)
    assert underwrite(ch, ch.patient_id).status_code == 200
    reset = as_user(ch.app, "admin").post("/api/v1/admin/users/patient/password-reset")
    assert reset.status_code == 200
    assert [e["subject"] for e in entries(ch.app, "key.revoked")] == [ch.patient_id]
    # Signed before the reset, by the person: the insurer's check still stands.
    answered = underwrite(ch, ch.patient_id)
    assert answered.status_code == 200, answered.text
    assert answered.json()["result"]["visits_total"] > 0

"""A password someone else set cannot sign (issue 17, item 5): an account an admin created, or
whose password an admin reset, is refused a signature (and a key registration) until the
person sets their own password, each refusal in the ledger; a reset revokes the person's
platform-held key at once, what they signed before stays valid, and a new key is issued only
after their own password."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.trust.authorisations.models import PersonalKey
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user, csrf_from, login

HTML = {"accept": "text/html"}
CITIZEN_ID = "370202199003151233"  # the demo citizen (the test apps have no city)
PERSON = "11010519491231002X"
ADMIN_CHOSEN = "Admin-chose-1"
OWN = "Mine-at-last-7"


def entries(app: FastAPI, action: str) -> list[dict[str, Any]]:
    with transaction(app.state.session_factory) as db:
        leaves = db.scalars(
            select(LedgerEntry.leaf).where(LedgerEntry.action == action).order_by(LedgerEntry.seq)
        )
        return [json.loads(leaf) for leaf in leaves]


def keys_of(app: FastAPI, citizen_id: str) -> list[tuple[str, bool]]:
    """(key id, active) of each of the person's keys, oldest first."""
    with transaction(app.state.session_factory) as db:
        rows = db.execute(
            select(PersonalKey.key_id, PersonalKey.revoked_at)
            .where(PersonalKey.citizen_id == citizen_id)
            .order_by(PersonalKey.id)
        )
        return [(key_id, revoked is None) for key_id, revoked in rows]


def draft(client: TestClient) -> str:
    made = client.post(
        "/api/v1/authorisations/cert-uses",
        json={
            "relying_party": {
                "kind": "enterprise",
                "id": "91370200MA3R7B9K1L",
                "name": "青岛示范人寿",
            },
            "certificate_types": ["就诊记录"],
            "purpose": "人身保险投保核保",
            "valid_to": (utcnow() + timedelta(days=30)).isoformat(),
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["code"])


def api_client(app: FastAPI, username: str, password: str) -> TestClient:
    """Logged in with ``password`` (through the form, which hands over the CSRF token)."""
    client = TestClient(app, raise_server_exceptions=False)
    login(client, username, password)
    return client


def bind_new_account(app: FastAPI) -> None:
    """An admin creates wang.wu with a password of the admin's choosing; the identity reviewer
    approves the binding (so only the password stands between the admin and a signature)."""
    admin = as_user(app, "admin")
    made = admin.post(
        "/api/v1/admin/users",
        json={
            "username": "wang.wu",
            "display_name": "王五",
            "password": ADMIN_CHOSEN,
            "roles": ["citizen"],
            "citizen_id": PERSON,
        },
    )
    assert made.status_code == 201, made.text
    approved = as_user(app, "registrar").post(
        f"/api/v1/admin/bindings/{made.json()['pending_binding']['id']}/decision",
        json={"decision": "approve"},
    )
    assert approved.status_code == 200, approved.text


def test_an_admin_chosen_password_signs_nothing_until_the_person_sets_their_own(
    app: FastAPI,
) -> None:
    bind_new_account(app)
    person = api_client(app, "wang.wu", ADMIN_CHOSEN)
    assert person.get("/api/v1/me").json()["password_by_holder"] is False
    code = draft(person)  # drafting is harmless: nothing is in force until signed
    refused = person.post(f"/api/v1/authorisations/{code}/sign", json={"password": ADMIN_CHOSEN})
    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"].startswith("请先自行设置密码")
    assert refused.json()["field"] == "password"
    (entry,) = entries(app, "cert_use.sign_refused")
    assert (entry["actor"], entry["grant"], entry["subject"]) == ("wang.wu", code, PERSON)
    assert person.get(f"/api/v1/authorisations/{code}").json()["status"] == "pending"
    assert keys_of(app, PERSON) == []  # no key was issued for the attempt
    # Nor can a key of the admin's own be registered in the person's name.
    key = person.post("/api/v1/authorisations/keys", json={"public_key_pem": "x"})
    assert key.status_code == 403 and len(entries(app, "key.refused")) == 1

    # The page says why, and refuses the same way (the refusal kept in the ledger).
    browser = TestClient(app)
    token = login(browser, "wang.wu", ADMIN_CHOSEN)
    detail = browser.get(f"/me/authorisations/{code}", headers=HTML)
    assert 'id="own-password-first"' in detail.text
    signed = browser.post(
        f"/me/authorisations/{code}/sign",
        data={"password": ADMIN_CHOSEN, "csrf_token": token},
        headers=HTML,
    )
    assert signed.status_code == 200 and "请先自行设置密码" in signed.text
    assert len(entries(app, "cert_use.sign_refused")) == 2

    # The person sets their own password: now they sign, with a key issued for them.
    changed = person.post(
        "/api/v1/me/password", json={"old_password": ADMIN_CHOSEN, "new_password": OWN}
    )
    assert changed.status_code == 200 and changed.json()["password_by_holder"] is True
    done = person.post(f"/api/v1/authorisations/{code}/sign", json={"password": OWN})
    assert done.status_code == 200 and done.json()["status"] == "active"
    assert [active for _, active in keys_of(app, PERSON)] == [True]


def test_a_reset_revokes_the_key_and_what_was_signed_before_stays_valid(app: FastAPI) -> None:
    citizen = as_user(app, "citizen")
    before = draft(citizen)
    signed = citizen.post(f"/api/v1/authorisations/{before}/sign", json={"password": DEMO_PASSWORD})
    assert signed.status_code == 200, signed.text
    ((first_key, active),) = keys_of(app, CITIZEN_ID)
    assert active

    admin = as_user(app, "admin")
    reset = admin.post("/api/v1/admin/users/citizen/password-reset")
    assert reset.status_code == 200
    temporary = reset.json()["temporary_password"]
    assert keys_of(app, CITIZEN_ID) == [(first_key, False)]
    (revoked,) = entries(app, "key.revoked")
    assert (revoked["actor"], revoked["subject"]) == ("admin", CITIZEN_ID)
    assert revoked["detail"]["key_id"] == first_key

    # Signed before the reset: still in force, its signature valid (an officer checks it).
    officer = as_user(app, "officer")
    checked = officer.post("/api/v1/authorisations/verify", json={"code": before})
    assert checked.status_code == 200, checked.text
    assert checked.json()["status"] == "active" and checked.json()["signature_valid"] is True

    # With the temporary password nothing can be done but setting a new one ...
    person = api_client(app, "citizen", temporary)
    after = {"relying_party": {"kind": "enterprise", "id": "91370200MA3R7B9K1L"}}
    blocked = person.post("/api/v1/authorisations/cert-uses", json=after)
    assert blocked.status_code == 403 and blocked.json()["type"].endswith(
        "password-change-required"
    )
    # ... which the person does: then a new key signs the next authorisation.
    changed = person.post(
        "/api/v1/me/password", json={"old_password": temporary, "new_password": OWN}
    )
    assert changed.status_code == 200, changed.text
    code = draft(person)
    assert (
        person.post(f"/api/v1/authorisations/{code}/sign", json={"password": OWN}).json()["status"]
        == "active"
    )
    keys = keys_of(app, CITIZEN_ID)
    assert keys[0] == (first_key, False) and keys[1][1] is True and len(keys) == 2
    issued = entries(app, "key.issued")
    assert issued[-1]["detail"]["key_id"] == keys[1][0]
    again = officer.post("/api/v1/authorisations/verify", json={"code": before})
    assert again.json()["signature_valid"] is True


def test_the_reset_page_says_the_key_is_revoked(app: FastAPI) -> None:
    admin = TestClient(app)
    login(admin, "admin")
    page = admin.get("/admin/users/citizen/reset-password", headers=HTML)
    assert "注销本人由平台保管的签名密钥" in page.text
    assert csrf_from(admin, "/admin/users/citizen")

"""Binding a citizen ID or credit code to an account takes two people (issue 17, item 5): one
admin requests it, another admin or an identity reviewer approves; nobody decides their own
request, and the request, the decision and every refused decision are in the ledger. Through
the API and through the pages (each decision asked first)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shuhui.core.bounds import MAX_ID
from shuhui.core.db import transaction
from shuhui.trust.identity.models import BindingRequest, User
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import as_user, csrf_from, login

pytestmark = pytest.mark.both_backends

HTML = {"accept": "text/html"}
PERSON = "11010519491231002X"  # no account has it
FIRM = "91370202MA3C4D5E6T"  # the demo enterprise's code in the content: already bound
WANG = "user:wang.wu"
NEW_ACCOUNT = {
    "username": "wang.wu",
    "display_name": "王五",
    "password": "Admin-chose-1",
    "roles": ["citizen"],
    "citizen_id": PERSON,
}
TODO_CARD = re.compile(r'data-todo="([^"]+)"[^>]*>.*?data-count="(\d+)"', re.S)


def entries(app: FastAPI, action: str, subject: str | None = None) -> list[dict[str, Any]]:
    """The ledger's entries of ``action`` (about ``subject`` if given), oldest first."""
    with transaction(app.state.session_factory) as db:
        query = select(LedgerEntry.leaf).where(LedgerEntry.action == action)
        if subject is not None:
            query = query.where(LedgerEntry.subject == subject)
        return [json.loads(leaf) for leaf in db.scalars(query.order_by(LedgerEntry.seq))]


def bound_id(app: FastAPI, username: str) -> str | None:
    with transaction(app.state.session_factory) as db:
        return db.scalar(select(User.citizen_id).where(User.username == username))


def request_id(app: FastAPI, username: str) -> int:
    with transaction(app.state.session_factory) as db:
        found = db.scalar(select(BindingRequest.id).join(User).where(User.username == username))
        assert found is not None
        return int(found)


def test_a_binding_requested_by_one_admin_is_approved_only_by_another(app: FastAPI) -> None:
    admin = as_user(app, "admin")
    made = admin.post("/api/v1/admin/users", json=NEW_ACCOUNT)
    assert made.status_code == 201, made.text
    pending = made.json()["pending_binding"]
    assert made.json()["citizen_id"] is None and pending["requested_by"] == "admin"
    assert bound_id(app, "wang.wu") is None
    (asked,) = entries(app, "account.binding_requested", WANG)
    assert asked["actor"] == "admin" and asked["subject"] == "user:wang.wu"
    assert asked["detail"]["citizen_id"] == PERSON

    # The requester approves their own request: refused, recorded, nothing bound.
    own = admin.post(
        f"/api/v1/admin/bindings/{pending['id']}/decision", json={"decision": "approve"}
    )
    assert own.status_code == 403, own.text
    assert "不能审批自己提出的绑定申请" in own.json()["detail"]
    (refused,) = entries(app, "account.binding_refused")
    assert (refused["actor"], refused["detail"]["decision"]) == ("admin", "approve")
    assert bound_id(app, "wang.wu") is None
    # Nor may someone without the role decide (an officer), and that is recorded too.
    officer = as_user(app, "officer")
    assert (
        officer.post(
            f"/api/v1/admin/bindings/{pending['id']}/decision", json={"decision": "approve"}
        ).status_code
        == 403
    )
    assert officer.get("/api/v1/admin/bindings").status_code == 403

    # The identity reviewer approves: bound, with both people named in the ledger.
    reviewer = as_user(app, "registrar")
    listed = reviewer.get("/api/v1/admin/bindings", params={"pending": True}).json()
    assert [r["username"] for r in listed] == ["wang.wu"]
    approved = reviewer.post(
        f"/api/v1/admin/bindings/{pending['id']}/decision", json={"decision": "approve"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert bound_id(app, "wang.wu") == PERSON
    (done,) = entries(app, "account.binding_approved", WANG)
    assert (done["actor"], done["detail"]["requested_by"]) == ("registrar", "admin")
    # Decided once: a second decision is a conflict.
    again = reviewer.post(
        f"/api/v1/admin/bindings/{pending['id']}/decision", json={"decision": "reject"}
    )
    assert again.status_code == 422  # a rejection without a reason is refused first
    again = reviewer.post(
        f"/api/v1/admin/bindings/{pending['id']}/decision",
        json={"decision": "reject", "reason": "晚了"},
    )
    assert again.status_code == 409


def test_a_rejected_binding_leaves_the_account_as_it_was(app: FastAPI) -> None:
    admin = as_user(app, "admin")
    admin.post("/api/v1/admin/users", json={**NEW_ACCOUNT, "citizen_id": None})
    asked = admin.post("/api/v1/admin/users/wang.wu/bindings", json={"citizen_id": PERSON})
    assert asked.status_code == 201, asked.text
    # One request at a time per account, and an ID already bound elsewhere is refused.
    twice = admin.post("/api/v1/admin/users/wang.wu/bindings", json={"citizen_id": PERSON})
    assert twice.status_code == 409
    taken = admin.post(
        "/api/v1/admin/users/officer/bindings", json={"citizen_id": "370202199003151233"}
    )
    assert taken.status_code == 409 and taken.json()["field"] == "citizen_id"
    bad = admin.post("/api/v1/admin/users/officer/bindings", json={"credit_code": "123"})
    assert bad.status_code == 422 and bad.json()["field"] == "credit_code"
    empty = admin.post("/api/v1/admin/users/officer/bindings", json={})
    assert empty.status_code == 422
    reviewer = as_user(app, "registrar")
    rejected = reviewer.post(
        f"/api/v1/admin/bindings/{asked.json()['id']}/decision",
        json={"decision": "reject", "reason": "本人未到场核验"},
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert bound_id(app, "wang.wu") is None
    (entry,) = entries(app, "account.binding_rejected", WANG)
    assert entry["actor"] == "registrar" and entry["detail"]["reason"] == "本人未到场核验"
    missing = reviewer.post(
        f"/api/v1/admin/bindings/{MAX_ID}/decision", json={"decision": "approve"}
    )
    assert missing.status_code == 404
    beyond = reviewer.post(
        f"/api/v1/admin/bindings/{MAX_ID + 1}/decision", json={"decision": "approve"}
    )
    assert beyond.status_code == 422 and beyond.json()["field"] == "request_id"


def test_an_id_already_bound_or_requested_makes_no_account(app: FastAPI) -> None:
    admin = TestClient(app)
    token = login(admin, "admin")
    taken = {**NEW_ACCOUNT, "citizen_id": "370202199003151233"}  # the demo citizen's
    assert admin.post("/api/v1/admin/users", json=taken).status_code == 409
    page = admin.post("/admin/users", data={**taken, "csrf_token": token}, headers=HTML)
    assert page.status_code == 409 and "已绑定其他账户" in page.text
    assert admin.post("/api/v1/admin/users", json=NEW_ACCOUNT).status_code == 201
    rival = {**NEW_ACCOUNT, "username": "li.si"}  # the same ID, still pending for wang.wu
    page = admin.post("/admin/users", data={**rival, "csrf_token": token}, headers=HTML)
    assert page.status_code == 409 and "已有待批准的申请" in page.text
    with transaction(app.state.session_factory) as db:
        assert db.scalar(select(User.id).where(User.username == "li.si")) is None
    assert entries(app, "account.created", "user:li.si") == []


def test_nobody_approves_a_binding_to_their_own_account(app: FastAPI) -> None:
    asked = as_user(app, "admin").post(
        "/api/v1/admin/users/registrar/bindings", json={"citizen_id": PERSON}
    )
    assert asked.status_code == 201, asked.text
    own = as_user(app, "registrar").post(
        f"/api/v1/admin/bindings/{asked.json()['id']}/decision", json={"decision": "approve"}
    )
    assert own.status_code == 403 and "自己账户" in own.json()["detail"]
    assert bound_id(app, "registrar") is None
    (refused,) = entries(app, "account.binding_refused", "user:registrar")
    assert refused["actor"] == "registrar"


def test_the_demo_bound_its_accounts_through_two_people(app: FastAPI) -> None:
    requested = {e["subject"]: e for e in entries(app, "account.binding_requested")}
    approved = {e["subject"]: e for e in entries(app, "account.binding_approved")}
    assert {"user:citizen", "user:enterprise", "user:bank"} <= set(approved)
    for subject, entry in approved.items():
        assert (requested[subject]["actor"], entry["actor"]) == ("admin", "registrar")
    with transaction(app.state.session_factory) as db:
        enterprise = db.scalar(select(User).where(User.username == "enterprise"))
        assert enterprise is not None and enterprise.credit_code == FIRM


def test_on_the_pages_the_reviewer_is_asked_first_and_the_requester_is_refused(
    app: FastAPI,
) -> None:
    admin = TestClient(app)
    token = login(admin, "admin")
    created = admin.post(
        "/admin/users",
        data={**NEW_ACCOUNT, "csrf_token": token},
        headers=HTML,
        follow_redirects=True,
    )
    assert created.status_code == 200
    assert "已创建账户：wang.wu" in created.text and "尚未绑定" in created.text
    assert bound_id(app, "wang.wu") is None
    number = request_id(app, "wang.wu")
    page = admin.get("/admin/bindings", headers=HTML)
    assert f'data-request="{number}"' in page.text and "您提出的申请，须由他人审批" in page.text
    # Posted anyway (confirmed, even): refused on the page, recorded, nothing bound.
    own = admin.post(
        f"/admin/bindings/{number}/approve",
        data={"csrf_token": token, "confirm": "yes"},
        headers=HTML,
    )
    assert own.status_code == 403 and "不能审批自己提出的绑定申请" in own.text
    assert len(entries(app, "account.binding_refused")) == 1
    assert bound_id(app, "wang.wu") is None

    reviewer = TestClient(app)
    token = login(reviewer, "registrar")
    workbench = reviewer.get("/", headers=HTML).text
    assert dict(TODO_CARD.findall(workbench)).get("identity.bindings") == "1"
    # The admin has no binding of someone else's to decide: their card counts none.
    assert (
        dict(TODO_CARD.findall(admin.get("/", headers=HTML).text)).get("identity.bindings") == "0"
    )
    asked = reviewer.post(
        f"/admin/bindings/{number}/approve", data={"csrf_token": token}, headers=HTML
    )
    assert asked.status_code == 200 and 'id="confirm-form"' in asked.text
    assert "确认批准" in asked.text and bound_id(app, "wang.wu") is None  # asked, not done
    done = reviewer.post(
        f"/admin/bindings/{number}/approve",
        data={"csrf_token": token, "confirm": "yes"},
        headers=HTML,
        follow_redirects=True,
    )
    assert done.status_code == 200 and "已批准" in done.text
    assert bound_id(app, "wang.wu") == PERSON
    assert (
        dict(TODO_CARD.findall(reviewer.get("/", headers=HTML).text)).get("identity.bindings")
        == "0"
    )


def test_an_admin_requests_a_binding_on_the_account_page(app: FastAPI) -> None:
    admin = TestClient(app)
    token = login(admin, "admin")
    page = admin.get("/admin/users/officer", headers=HTML)
    assert 'id="request-binding"' in page.text
    bad = admin.post(
        "/admin/users/officer/bindings",
        data={"csrf_token": token, "citizen_id": "110105194912310021"},
        headers=HTML,
    )
    assert bad.status_code == 422 and "校验位" in bad.text
    assert 'value="110105194912310021"' in bad.text  # what was typed is kept
    asked = admin.post(
        "/admin/users/officer/bindings",
        data={"csrf_token": token, "citizen_id": PERSON},
        headers=HTML,
        follow_redirects=True,
    )
    assert asked.status_code == 200 and "须由另一位系统管理员或身份核验员批准" in asked.text
    assert 'id="binding-pending"' in asked.text and bound_id(app, "officer") is None
    assert csrf_from(admin, "/admin/bindings")

"""The workbench (工作台): a visitor still sees the home page; each role sees its to-do cards,
whose counts follow the data made through the services, its latest messages and its shortcuts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.core.clock import utcnow
from shuhui.core.db import transaction
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.identity.roles import Role
from shuhui.trust.identity.schemas import UserCreate
from shuhui.trust.identity.service import create_user
from tests.fixtures import DEMO_ACCOUNTS, as_user, csrf_from, login
from tests.programs.conftest import resident
from tests.trust.test_login_throttle import fail

HTML = {"accept": "text/html"}
TODO_CARD = re.compile(
    r'data-todo="([\w.]+)">\s*<a href="([^"]+)">\s*<span class="todo-count" data-count="(\d+)"'
)
ENTERPRISE_CODE = "91370202MA3C4D5E6T"  # the demo enterprise
CITIZEN_ID = "370202199003151233"  # the demo citizen
BANK_CODE = "9137021460181590X0"  # the demo bank
ELDERLY = "elderly-allowance"

# What each demo role finds on its workbench (the keys of its cards) and one of its shortcuts.
CITIZEN_CARDS = (
    {"programs.offers", "programs.applied"}
    | {
        "authorisations.expiring",
        "authorisations.to_sign",
        "authorisations.uses",
    }
    | {"approval.corrections", "approval.drafts"}
)
EXPECTED: dict[str, tuple[set[str], str]] = {
    "citizen": (CITIZEN_CARDS, "/me/data-uses"),
    "enterprise": (
        CITIZEN_CARDS
        | {"assets.returned", "programs.distress.mine"}
        | {"enterprise.rate", "enterprise.custody_reviews"},
        "/me/authorisations/new",
    ),
    "operator": (
        {"assets.review", "assets.valuation", "assets.returned", "channel.bureau_review"}
        | {"channel.memberships"},
        "/channel/dashboard",
    ),
    "officer": (
        {"programs.candidates", "programs.applications", "channel.department_review"}
        | {"assets.returned", "approval.tasks"}
        # pension certification: the 人社局 runs it
        | {"certification.undetermined", "certification.overpayments"}
        # fund supervision and the enterprises in difficulty: the 人社局's too
        | {
            "fundrisk.new",
            "fundrisk.checking",
            "fundrisk.recovering",
            "programs.distress",
            "hrss.injury",
            "hrss.assessment",
            # the enterprises' talent needs are routed to the 人社局
            "enterprise.needs",
        },
        "/hrss/campaigns",
    ),
    "bank": ({"channel.register"}, "/channel"),
    "admin": (
        {"identity.locked", "identity.users", "ledger.unchecked", "identity.bindings"},
        "/admin/users",
    ),
}


INBOXES = {"bank", "citizen", "enterprise"}


def todos(client: TestClient) -> dict[str, int]:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200, page.text
    assert "<h1>工作台</h1>" in page.text
    return {key: int(count) for key, _, count in TODO_CARD.findall(page.text)}


def test_a_visitor_still_sees_the_home_page(client: TestClient) -> None:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    assert 'id="table-count"' in page.text and "登录平台" in page.text
    assert "工作台" not in page.text and 'id="nav-messages"' not in page.text


def test_login_without_next_lands_on_the_workbench(client: TestClient) -> None:
    landed = client.get("/", headers=HTML) if login(client, "citizen") else None
    assert landed is not None and "<h1>工作台</h1>" in landed.text


@pytest.mark.parametrize("username", sorted(EXPECTED))
def test_each_role_sees_its_cards_and_shortcuts(app: FastAPI, username: str) -> None:
    keys, shortcut = EXPECTED[username]
    client = as_user(app, username)
    page = client.get("/", headers=HTML).text
    found = {key: href for key, href, _ in TODO_CARD.findall(page)}
    assert set(found) == keys
    assert f'href="{shortcut}"' in page
    # Every card leads to a page this person may open.
    for href in set(found.values()):
        assert client.get(href, headers=HTML).status_code == 200, href
    # Messages reach those with an ID number or a credit code (the bank); staff have no inbox.
    has_inbox = username in INBOXES
    assert ("最新消息" in page) is has_inbox and ('href="/messages"' in page) is has_inbox


def test_admin_counts_accounts_locks_and_unchecked_ledger_entries(app: FastAPI) -> None:
    admin = as_user(app, "admin")
    start = todos(admin)
    assert start["identity.users"] == len(DEMO_ACCOUNTS)
    assert start["identity.locked"] == 0 and start["ledger.unchecked"] > 0
    fail(app, TestClient(app), "citizen", 10)
    assert todos(admin)["identity.locked"] == 1
    token = csrf_from(admin, "/admin/ledger")
    signed = admin.post("/admin/ledger/checkpoint", data={"csrf_token": token})
    assert signed.status_code == 200 and "已签署检查点" in signed.text
    assert todos(admin)["ledger.unchecked"] == 0


def product_application(holder_code: str, title: str) -> dict[str, Any]:
    return {
        "kind": "product",
        "title": title,
        "holder_name": "青岛海湾示范科技有限公司",
        "holder_code": holder_code,
        "rights": ["holding"],
        "sources": "企业自有业务系统产生的交易记录。",
        "processing": "去标识化后按日汇总。",
        "scenarios": "供应链金融风险评估。",
    }


def test_asset_reviews_follow_four_eyes_and_returns(app: FastAPI) -> None:
    with transaction(app.state.session_factory) as db:
        create_user(
            db,
            UserCreate(
                username="reviewer",
                display_name="大数据局 陈审核",
                password=DEMO_PASSWORD,
                roles=[Role.data_operator],
                department="青岛市大数据发展管理局",
            ),
            actor="test",
        )
    operator, reviewer = as_user(app, "operator"), as_user(app, "reviewer")
    enterprise = as_user(app, "enterprise")
    theirs = enterprise.post("/api/v1/assets", json=product_application(ENTERPRISE_CODE, "交易"))
    assert theirs.status_code == 201, theirs.text
    own = operator.post("/api/v1/assets", json=product_application(ENTERPRISE_CODE, "用电"))
    assert own.status_code == 201, own.text
    # Nobody reviews their own application: the operator has one to review, a colleague two.
    assert todos(operator)["assets.review"] == 1
    assert todos(reviewer)["assets.review"] == 2
    returned = operator.post(
        f"/api/v1/assets/{theirs.json()['code']}/review",
        json={"decision": "return", "reason": "请补充数据来源的授权证明"},
    )
    assert returned.status_code == 200, returned.text
    assert todos(operator)["assets.review"] == 0 and todos(reviewer)["assets.review"] == 1
    assert todos(enterprise)["assets.returned"] == 1 and todos(operator)["assets.returned"] == 0


def test_channel_queues_follow_each_review_step(app: FastAPI) -> None:
    operator, health, hrss = (as_user(app, u) for u in ("operator", "health", "officer"))
    insurer = as_user(app, "insurer")
    assert todos(insurer) == {"channel.register": 1}
    made = insurer.post(
        "/api/v1/channel/consumers",
        json={
            "name": "青岛示范人寿保险股份有限公司",
            "type": "insurer",
            "contact_name": "王经理",
            "contact_phone": "0532-88886666",
            "contact_email": "api@example.cn",
        },
    )
    assert made.status_code == 201, made.text
    joined = insurer.post(
        "/api/v1/channel/memberships", json={"zone": "finance", "statement": "核保"}
    )
    assert joined.status_code == 201, joined.text
    assert todos(operator)["channel.memberships"] == 1
    operator.post(
        f"/api/v1/channel/memberships/{joined.json()['id']}/review", json={"decision": "approve"}
    )
    assert todos(operator)["channel.memberships"] == 0
    applied = insurer.post(
        "/api/v1/channel/applications",
        json={
            "products": ["underwriting-health-check"],
            "purpose": "人身保险投保核保",
            "legal_basis": "《个人信息保护法》第十三条；投保人单独同意",
            "usage": "industry",
            "days": 365,
        },
    )
    assert applied.status_code == 201, applied.text
    code = applied.json()["code"]
    # The providing department first (only it), then the bureau.
    assert todos(health)["channel.department_review"] == 1
    assert todos(hrss)["channel.department_review"] == 0
    assert todos(operator)["channel.bureau_review"] == 0
    health.post(f"/api/v1/channel/applications/{code}/review", json={"decision": "approve"})
    assert todos(health)["channel.department_review"] == 0
    assert todos(operator)["channel.bureau_review"] == 1
    operator.post(f"/api/v1/channel/applications/{code}/review", json={"decision": "approve"})
    assert todos(operator)["channel.bureau_review"] == 0
    mine = todos(insurer)
    assert mine["channel.grants"] == 1 and mine["channel.keys_expiring"] == 0
    assert mine["channel.calls"] == 0 and "channel.register" not in mine
    (grant,) = insurer.get("/api/v1/channel/grants").json()
    key = insurer.post(
        "/api/v1/channel/keys", json={"grants": [grant["code"]], "label": "核保系统", "days": 10}
    )
    assert key.status_code == 201, key.text
    assert todos(insurer)["channel.keys_expiring"] == 1


def test_authorisations_to_sign_ending_soon_and_used(app: FastAPI) -> None:
    citizen, bank = as_user(app, "citizen"), as_user(app, "bank")
    assert todos(citizen)["authorisations.to_sign"] == 0

    def cert_use(days: int, purpose: str) -> str:
        drafted = citizen.post(
            "/api/v1/authorisations/cert-uses",
            json={
                "relying_party": {"kind": "enterprise", "id": BANK_CODE, "name": "青岛示范银行"},
                "certificate_types": ["毕业证书"],
                "purpose": purpose,
                "valid_to": (utcnow() + timedelta(days=days)).isoformat(),
            },
        )
        assert drafted.status_code == 201, drafted.text
        return str(drafted.json()["code"])

    soon, later = cert_use(10, "个人住房贷款审批"), cert_use(90, "信用卡审批")
    mine = todos(citizen)
    assert mine["authorisations.to_sign"] == 2 and mine["authorisations.expiring"] == 0
    for code in (soon, later):
        signed = citizen.post(
            f"/api/v1/authorisations/{code}/sign", json={"password": DEMO_PASSWORD}
        )
        assert signed.status_code == 200, signed.text
    mine = todos(citizen)
    assert mine["authorisations.to_sign"] == 0 and mine["authorisations.expiring"] == 1
    uses = mine["authorisations.uses"]
    used = bank.post(
        "/api/v1/authorisations/cert-uses/use",
        json={"holder_id": CITIZEN_ID, "certificate_type": "毕业证书", "purpose": "信用卡审批"},
    )
    assert used.status_code == 200, used.text
    assert todos(citizen)["authorisations.uses"] == uses + 1


def test_campaign_work_for_the_department_and_offers_for_the_person(city_app: FastAPI) -> None:
    civil, hrss = as_user(city_app, "civil"), as_user(city_app, "officer")
    made = civil.post("/api/v1/programs/campaigns", json={"rule": ELDERLY})
    assert made.status_code == 201, made.text
    code, eligible = made.json()["code"], made.json()["counts"]["eligible"]
    assert todos(civil)["programs.candidates"] == eligible
    assert todos(hrss)["programs.candidates"] == 0  # another department's campaign
    found = civil.get(f"/api/v1/programs/campaigns/{code}/candidates?status=pending&limit=2")
    first, second = found.json()["items"]
    civil.post(
        f"/api/v1/programs/campaigns/{code}/confirm", json={"ids": [first["id"], second["id"]]}
    )
    assert todos(civil)["programs.candidates"] == eligible - 2

    person = resident(city_app, "elder-one", first["subject"])
    page = person.get("/", headers=HTML).text
    assert {k: int(n) for k, _, n in TODO_CARD.findall(page)}["programs.offers"] == 1
    # The offer's message is among the latest, unread, and counted in the header.
    assert "您可享受高龄津贴" in page and "1 条未读" in page
    assert 'aria-label="站内消息：1 条未读消息"' in page
    # Urgent work comes first.
    assert TODO_CARD.findall(page)[0][0] == "programs.offers"
    token = csrf_from(person, "/hrss/offers")
    person.post(
        f"/hrss/offers/{first['id']}/answer", data={"csrf_token": token, "decision": "accept"}
    )
    assert todos(person)["programs.offers"] == 0

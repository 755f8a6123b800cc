"""我的授权, 谁用了我的数据 and 授权核验 as the people using them see them."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuhui.core.clock import local_today
from shuhui.core.db import transaction
from shuhui.trust.identity.demo import DEMO_PASSWORD
from shuhui.trust.ledger import service as ledger
from shuhui.trust.ledger.models import LedgerEntry
from tests.fixtures import csrf_from, login
from tests.trust.test_authorisations import AGENT_ID, CITIZEN_ID, PENSION, people

__all__ = ["people"]  # the fixture, shared with the API tests

CODE = re.compile(r"/me/authorisations/((?:WT|YZ)\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$")


def browser(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    login(client, username)
    # Pages post forms with the token in the form, as a browser does.
    client.headers.pop("x-csrf-token")
    return client


def mandate_form(client: TestClient, **overrides: str | list[str]) -> dict[str, str | list[str]]:
    today = local_today()
    return {
        "csrf_token": csrf_from(client, "/me/authorisations/new?kind=mandate"),
        "kind": "mandate",
        "as": "person",
        "grantee_kind": "person",
        "grantee_id": AGENT_ID,
        "grantee_name": "李代办",
        "scope": [PENSION],
        "actions": ["apply", "query"],
        "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=30)).isoformat(),
        "max_uses": "",
        **overrides,
    }


def grant_through_pages(client: TestClient) -> str:
    created = client.post(
        "/me/authorisations/new", data=mandate_form(client), follow_redirects=False
    )
    assert created.status_code == 303, created.text
    found = CODE.search(created.headers["location"])
    assert found, created.headers["location"]
    return found.group(1)


def test_a_citizen_grants_signs_and_revokes_a_mandate_on_the_pages(people: FastAPI) -> None:
    citizen = browser(people, "citizen")
    listing = citizen.get("/me/authorisations")
    assert listing.status_code == 200
    assert "我的授权" in listing.text and "新建委托授权" in listing.text
    form = citizen.get("/me/authorisations/new?kind=mandate").text
    assert "城镇职工基本养老保险待遇申领" in form
    # A matter that must be handled in person is not even offered.
    assert "领取养老金资格认证" not in form

    code = grant_through_pages(citizen)
    detail = citizen.get(f"/me/authorisations/{code}").text
    assert 'data-status="pending"' in detail and 'id="sign-form"' in detail

    token = csrf_from(citizen, f"/me/authorisations/{code}")
    wrong = citizen.post(
        f"/me/authorisations/{code}/sign",
        data={"password": "wrong-password", "csrf_token": token},
    )
    assert "密码错误，未签署" in wrong.text and 'data-status="pending"' in wrong.text

    signed = citizen.post(
        f"/me/authorisations/{code}/sign", data={"password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 200
    assert 'data-status="active"' in signed.text
    assert "SM2 ✓" in signed.text
    assert 'data-action="mandate.signed"' in signed.text

    # The agent sees it under "granted to me".
    agent_page = browser(people, "agent").get("/me/authorisations").text
    assert code in agent_page.split('id="received"')[1]

    # Revoking asks first, saying what ends; the first post changes nothing.
    asked = citizen.post(
        f"/me/authorisations/{code}/revoke",
        data={"reason": "已自行办理", "csrf_token": token},
    )
    assert asked.status_code == 200 and 'id="confirm-form"' in asked.text
    assert "李代办将不能再凭这项授权办理" in asked.text and "撤销后不能恢复" in asked.text
    assert '<input type="hidden" name="reason" value="已自行办理">' in asked.text
    assert 'data-status="active"' in citizen.get(f"/me/authorisations/{code}").text
    # Someone who did not grant it is refused before being asked.
    agent = browser(people, "agent")
    refused = agent.post(f"/me/authorisations/{code}/revoke", data={"csrf_token": csrf_from(agent)})
    assert refused.status_code == 403 and "只有授权人可以撤销授权" in refused.text
    revoked = citizen.post(
        f"/me/authorisations/{code}/revoke",
        data={"reason": "已自行办理", "confirm": "yes", "csrf_token": token},
    )
    assert 'data-status="revoked"' in revoked.text
    assert "已自行办理" in revoked.text
    again = citizen.post(f"/me/authorisations/{code}/revoke", data={"csrf_token": token})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"grantee_id": "370212193805117150"}, "代理人："),
        ({"scope": []}, "授权事项："),
        ({"valid_to": "2020-01-01"}, "截止日期："),
        ({"valid_to": "not a date"}, "截止日期："),
        ({"max_uses": "two"}, "最多使用次数："),
    ],
)
def test_a_bad_form_comes_back_with_the_reason_and_what_was_typed(
    people: FastAPI, overrides: dict[str, str | list[str]], message: str
) -> None:
    citizen = browser(people, "citizen")
    response = citizen.post("/me/authorisations/new", data=mandate_form(citizen, **overrides))
    assert response.status_code == 422
    assert 'id="form-error"' in response.text and message in response.text
    assert "李代办" in response.text  # nothing typed is lost
    assert citizen.get("/me/authorisations").text.count("/me/authorisations/WT") == 0


def test_who_used_my_data_lists_every_entry_about_me(people: FastAPI) -> None:
    citizen = browser(people, "citizen")
    empty = citizen.get("/me/data-uses")
    assert empty.status_code == 200 and 'id="none"' in empty.text
    code = grant_through_pages(citizen)
    officer = browser(people, "officer")
    token = csrf_from(officer, "/verify")
    checked = officer.post(
        "/verify", data={"code": code, "purpose": "窗口核验代办人身份", "csrf_token": token}
    )
    assert checked.status_code == 200
    page = citizen.get("/me/data-uses").text
    assert "工作人员核验授权码" in page and "窗口核验代办人身份" in page and "officer" in page
    assert page.count("<tr data-action=") == 2  # drafted, then verified
    # Someone else's page does not show it.
    assert code not in browser(people, "subagent").get("/me/data-uses").text
    assert CITIZEN_ID  # the subject of those entries
    # A purpose the platform wrote in English is named in Chinese, as on the ledger's page.
    with transaction(people.state.session_factory) as db:
        ledger.record(
            db,
            "citizen",
            "key.issued",
            subject=CITIZEN_ID,
            purpose="personal signing key (platform custody)",
        )
    named = citizen.get("/me/data-uses").text
    assert "个人签名密钥（由平台保管）" in named
    assert "personal signing key (platform custody)" not in named


def test_the_officer_verifies_a_code_and_nobody_else_can(people: FastAPI) -> None:
    citizen = browser(people, "citizen")
    code = grant_through_pages(citizen)
    token = csrf_from(citizen, f"/me/authorisations/{code}")
    citizen.post(
        f"/me/authorisations/{code}/sign", data={"password": DEMO_PASSWORD, "csrf_token": token}
    )
    officer = browser(people, "officer")
    token = csrf_from(officer, "/verify")
    page = officer.post("/verify", data={"code": code.lower(), "csrf_token": token})
    assert 'id="verdict" data-valid="true"' in page.text
    assert "城镇职工基本养老保险待遇申领" in page.text
    missing = officer.post("/verify", data={"code": "WT2026-0000-0000-0000", "csrf_token": token})
    assert missing.status_code == 404 and 'data-valid="false"' in missing.text
    assert citizen.get("/verify").status_code == 403
    anonymous = TestClient(people).get(
        "/verify", headers={"accept": "text/html"}, follow_redirects=False
    )
    assert anonymous.status_code in (302, 303, 401)


def test_each_entry_links_to_its_inclusion_proof(people: FastAPI) -> None:
    citizen = browser(people, "citizen")
    grant_through_pages(citizen)
    page = citizen.get("/me/data-uses").text
    link = re.search(r'href="(/api/v1/ledger/proof/inclusion\?[^"]+)"', page)
    assert link, page
    proof = citizen.get(link.group(1).replace("&amp;", "&"))
    assert proof.status_code == 200, proof.text
    seq = int(re.search(r"index=(\d+)", link.group(1)).group(1))  # type: ignore[union-attr]
    with people.state.session_factory() as db:
        stored = db.get(LedgerEntry, seq)
        assert stored is not None and stored.subject == CITIZEN_ID
        assert base64.b64decode(proof.json()["leaf_hash"]) == stored.leaf_hash
